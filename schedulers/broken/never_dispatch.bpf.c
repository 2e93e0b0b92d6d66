/* SPDX-License-Identifier: GPL-2.0 */
/*
 * broken/never_dispatch: a scheduler that queues tasks and never runs them.
 *
 * ops.enqueue() puts every task on a user DSQ but ops.dispatch() never
 * moves anything to a CPU, so runnable tasks wait forever. The sched_ext
 * watchdog must notice the stall (SCX_EXIT_ERROR_STALL, "... stall") once
 * a task has been runnable for timeout_ms, and disable the scheduler.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define PARKED_DSQ 0

UEI_DEFINE(uei);

u64 nr_parked;

void BPF_STRUCT_OPS(never_enqueue, struct task_struct *p, u64 enq_flags)
{
	__sync_fetch_and_add(&nr_parked, 1);
	scx_bpf_dsq_insert(p, PARKED_DSQ, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(never_dispatch, s32 cpu, struct task_struct *prev)
{
	/* Nothing: the parked tasks are never moved to a local DSQ. */
}

s32 BPF_STRUCT_OPS_SLEEPABLE(never_init)
{
	return scx_bpf_create_dsq(PARKED_DSQ, NUMA_NO_NODE);
}

void BPF_STRUCT_OPS(never_exit, struct scx_exit_info *ei)
{
	UEI_RECORD(uei, ei);
}

SCX_OPS_DEFINE(never_ops,
	       .enqueue		= (void *)never_enqueue,
	       .dispatch	= (void *)never_dispatch,
	       .init		= (void *)never_init,
	       .exit		= (void *)never_exit,
	       .timeout_ms	= 1000,
	       .name		= "never_dispatch");
