/* A prog-array map with an initial slot and a tail call through it. The
 * kernel accepts both in a struct_ops program; scxsim runs no tail calls
 * and refuses the map at load. */
#include "mini.h"

#define BPF_MAP_TYPE_PROG_ARRAY 3

static long (*bpf_tail_call)(void *ctx, void *prog_array_map, u32 index) = (void *)12;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} counts SEC(".maps");

SEC("struct_ops/tail_target")
int tail_target(unsigned long long *ctx)
{
	return 7;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(u32));
	__array(values, int (unsigned long long *));
} jump_table SEC(".maps") = {
	.values = { [1] = (void *)&tail_target },
};

SEC("struct_ops/tail_caller")
int tail_caller(unsigned long long *ctx)
{
	u32 key = 0;
	u64 *n = bpf_map_lookup_elem(&counts, &key);

	if (n)
		(*n)++;
	bpf_tail_call(ctx, &jump_table, 1);
	return 0;
}

char _license[] SEC("license") = "GPL";
