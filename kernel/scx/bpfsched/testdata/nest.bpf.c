/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nest: ops nested in ops. Only SCHED_EXT tasks are switched; when a fair
 * task takes a CPU, ops.cpu_release() re-enqueues what the CPU's local
 * DSQ held, so ops.enqueue() runs while ops.cpu_release()'s program does.
 * Both programs are straight-line code: every run of one executes the
 * same number of instructions, which lets tests check per-op counts.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

void BPF_STRUCT_OPS(nest_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(nest_cpu_release, s32 cpu, struct scx_cpu_release_args *args)
{
	/* The original kfunc re-enqueues at once (v2 defers it). */
	scx_bpf_reenqueue_local___compat();
}

SCX_OPS_DEFINE(nest_ops,
	       .enqueue		= (void *)nest_enqueue,
	       .cpu_release	= (void *)nest_cpu_release,
	       .flags		= SCX_OPS_SWITCH_PARTIAL,
	       .name		= "nest");
