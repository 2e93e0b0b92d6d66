/* SPDX-License-Identifier: GPL-2.0 */
/*
 * broken/error: a scheduler that aborts itself with scx_bpf_error().
 *
 * It schedules like a global FIFO until the error_after'th enqueue, then
 * reports an error. The kernel must disable it with SCX_EXIT_ERROR_BPF and
 * a message naming this file and line, which ops.exit() records for user
 * space.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define SHARED_DSQ 0

const volatile u64 error_after = 100;

UEI_DEFINE(uei);

u64 nr_enqueued;

void BPF_STRUCT_OPS(error_enqueue, struct task_struct *p, u64 enq_flags)
{
	u64 n = __sync_add_and_fetch(&nr_enqueued, 1);

	if (n == error_after)
		scx_bpf_error("giving up after %llu enqueues (last %s[%d])",
			      n, p->comm, p->pid);
	scx_bpf_dsq_insert(p, SHARED_DSQ, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(error_dispatch, s32 cpu, struct task_struct *prev)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(error_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

void BPF_STRUCT_OPS(error_exit, struct scx_exit_info *ei)
{
	UEI_RECORD(uei, ei);
}

SCX_OPS_DEFINE(error_ops,
	       .enqueue		= (void *)error_enqueue,
	       .dispatch	= (void *)error_dispatch,
	       .init		= (void *)error_init,
	       .exit		= (void *)error_exit,
	       .name		= "error");
