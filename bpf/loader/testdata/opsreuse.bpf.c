/* One program bound through three struct_ops maps: twice to enqueue (as
 * libbpf allows) and once to dispatch, which libbpf refuses: the kernel
 * verifies a struct_ops program for a single member. */
#include "mini.h"

struct task_struct;

struct sched_ext_ops {
	s32 (*select_cpu)(struct task_struct *p, s32 prev_cpu, u64 wake_flags);
	void (*enqueue)(struct task_struct *p, u64 enq_flags);
	void (*dispatch)(s32 cpu, struct task_struct *prev);
	char name[128];
};

SEC("struct_ops/reused")
void reused(struct task_struct *p, u64 enq_flags)
{
}

SEC(".struct_ops.link")
struct sched_ext_ops ops_a = {
	.enqueue = (void *)reused,
	.name = "a",
};

SEC(".struct_ops.link")
struct sched_ext_ops ops_b = {
	.enqueue = (void *)reused,
	.name = "b",
};

SEC(".struct_ops.link")
struct sched_ext_ops ops_c = {
	.dispatch = (void *)reused,
	.name = "c",
};

char _license[] SEC("license") = "GPL";
