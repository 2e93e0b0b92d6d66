/* A struct_ops map of a ___flavor of sched_ext_ops, built against headers
 * newer than the kernel: future_op and also_future are members the
 * kernel's struct lacks. libbpf fills struct sched_ext_ops, drops those
 * bindings and does not load drop_future (bound to nothing else), which
 * would not load here: the test kernel has no bpf_get_prandom_u32. shared
 * stays bound to enqueue and loads. Of the two SEC("?...") programs (autoload
 * off), optional is bound to select_cpu and loads; never is bound to nothing
 * and does not. */
#include "mini.h"

struct task_struct;

struct sched_ext_ops___v2 {
	s32 (*select_cpu)(struct task_struct *p, s32 prev_cpu, u64 wake_flags);
	void (*enqueue)(struct task_struct *p, u64 enq_flags);
	void (*future_op)(u64 arg);
	void (*also_future)(struct task_struct *p, u64 enq_flags);
	u64 flags;
	u32 timeout_ms;
	char name[128];
};

static u32 (*bpf_get_prandom_u32)(void) = (void *)7;
extern void scx_bpf_kick_cpu(s32 cpu, u64 flags) __ksym;

SEC("struct_ops/drop_future")
void drop_future(u64 arg)
{
	scx_bpf_kick_cpu(bpf_get_prandom_u32() % 4, arg);
}

SEC("struct_ops/shared")
void shared(struct task_struct *p, u64 enq_flags)
{
	scx_bpf_kick_cpu(1, enq_flags);
}

SEC("?struct_ops/optional")
s32 optional(struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return prev_cpu;
}

SEC("?struct_ops/never")
s32 never(struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return bpf_get_prandom_u32();
}

SEC(".struct_ops.link")
struct sched_ext_ops___v2 flavored_ops = {
	.select_cpu = (void *)optional,
	.enqueue = (void *)shared,
	.future_op = (void *)drop_future,
	.also_future = (void *)shared,
	.flags = 4,
	.timeout_ms = 3000,
	.name = "flavored",
};

char _license[] SEC("license") = "GPL";
