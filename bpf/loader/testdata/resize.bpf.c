/* Resizable global arrays, as scx schedulers declare them
 * (RESIZABLE_ARRAY(elfsec, arr): a one-element array alone in a
 * .ELFSEC.ARR section) and size them from user space before load with
 * bpf_map__set_value_size(). fill writes nr_slots elements. Also arrays
 * of integers that front ends fill before load. */
#include "mini.h"

#define BPF_MAP_TYPE_RINGBUF 27

char _license[] SEC("license") = "GPL";

#define RESIZABLE_ARRAY(elfsec, arr) arr[1] SEC("." #elfsec "." #arr)
/* Element i of a resizable array, hidden from the compiler's bounds. */
#define ELEM(arr, i) ({ typeof(&(arr)[0]) ___p = (arr); asm volatile("" : "+r"(___p)); ___p + (i); })

const volatile u32 nr_slots = 1;
u64 RESIZABLE_ARRAY(data, slots) = { 7 };
const volatile u32 RESIZABLE_ARRAY(rodata, cpu_map);

/* A section whose last variable is not an array. */
u32 first SEC(".data.mixed") = 3;
u64 last SEC(".data.mixed") = 5;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, u32);
	__type(value, u64);
} vals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

u64 sum;

/* Arrays a front end fills with --set before load. */
enum mode { MODE_A, MODE_B = 5 };
const volatile u32 cpu_order[8];
const volatile short deltas[4];
const volatile bool enabled[3];
const volatile enum mode modes[2];
const volatile char label[8];
const volatile u8 bytes[4];
u64 matrix[2][2];

SEC("syscall")
int fill(void *ctx)
{
	u64 s = 0;
	u32 i;

	for (i = 0; i < 64 && i < nr_slots; i++) {
		u64 *slot = ELEM(slots, i);

		*slot += i * i + *ELEM(cpu_map, i);
		s += *slot;
	}
	sum = s;
	return 0;
}
