/* A large synthetic object (about 2 MB) for the load-time benchmark: many
 * struct_ops programs, each with CO-RE field accesses, map and global data
 * references, a shared subprogram and a bpf_loop callback. */
#include "mini.h"

struct sched_ext_entity {
	u64 dsq_vtime;
	u32 weight;
	u64 slice;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	u32 flags;
	struct sched_ext_entity scx;
	char comm[16];
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");

u64 acc[64];
const volatile u32 weight_shift = 3;

static int cb(u32 i, void *ctx)
{
	acc[i & 63] += i;
	return 0;
}

__noinline u64 mix(u64 a, u64 b)
{
	return (a ^ (b << weight_shift)) + acc[a & 63];
}

#define STEP(n)								\
	v = mix(v, p->scx.dsq_vtime + n);				\
	v += p->scx.weight * (n + 1) + p->pid;				\
	if (v & (1 << (n & 15)))					\
		acc[(n) & 63] += p->scx.slice;				\
	k = (v + n) & 63;						\
	c = bpf_map_lookup_elem(&counters, &k);				\
	if (c)								\
		*c += v;

#define STEPS8(n) STEP(n) STEP(n + 1) STEP(n + 2) STEP(n + 3) STEP(n + 4) STEP(n + 5) STEP(n + 6) STEP(n + 7)
#define STEPS32(n) STEPS8(n) STEPS8(n + 8) STEPS8(n + 16) STEPS8(n + 24)

#define PROG(id)							\
	SEC("struct_ops/big_" #id)					\
	u64 big_##id(unsigned long long *ctx)				\
	{								\
		struct task_struct *p = (void *)ctx[0];			\
		u64 v = id, *c;						\
		u32 k;							\
		bpf_loop(4, cb, NULL, 0);				\
		STEPS32(id)						\
		return v;						\
	}

#define PROGS10(n) PROG(n##0) PROG(n##1) PROG(n##2) PROG(n##3) PROG(n##4) PROG(n##5) PROG(n##6) PROG(n##7) PROG(n##8) PROG(n##9)

PROGS10(1)
PROGS10(2)
PROGS10(3)
PROGS10(4)
PROGS10(5)
PROGS10(6)
PROGS10(7)
PROGS10(8)
PROGS10(9)

char _license[] SEC("license") = "GPL";
