/* SPDX-License-Identifier: GPL-2.0 */
/*
 * poisoned: a cpu-form FIFO whose ops.enqueue() reads a task_struct field
 * the kernel does not have. The loader poisons the CO-RE relocation; the
 * first enqueue stops on it and the scheduler must be ejected.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define SHARED_DSQ 0

/* A field this kernel's task_struct lacks. */
struct task_struct___future {
	u64 sched_future_field;
} __attribute__((preserve_access_index));

u64 sum;

void BPF_STRUCT_OPS(poison_enqueue, struct task_struct *p, u64 enq_flags)
{
	sum += ((struct task_struct___future *)p)->sched_future_field;
	scx_bpf_dsq_insert(p, SHARED_DSQ, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(poison_dispatch, s32 cpu, struct task_struct *prev)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(poison_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

SCX_OPS_DEFINE(poison_ops,
	       .enqueue		= (void *)poison_enqueue,
	       .dispatch	= (void *)poison_dispatch,
	       .init		= (void *)poison_init,
	       .name		= "poisoned");
