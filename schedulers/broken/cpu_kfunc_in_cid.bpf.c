/* SPDX-License-Identifier: GPL-2.0 */
/*
 * broken/cpu_kfunc_in_cid: a cid-form scheduler calling a cpu-only kfunc.
 *
 * cid-form schedulers must use the cid kfuncs: cids and cpus are both
 * small integers and easy to mix up, so the kernel's kfunc filter rejects
 * cpu-only kfuncs (here scx_bpf_kick_cpu() and scx_bpf_task_cpu()) in
 * programs of a sched_ext_ops_cid at load time: "calling kernel function
 * scx_bpf_kick_cpu is not allowed". Everything else is valid, including
 * the one arena a cid-form scheduler needs.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define SHARED_DSQ 0

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
} arena SEC(".maps");

u64 __arena_global nr_enqueued;

void BPF_STRUCT_OPS(cpukf_enqueue, struct task_struct *p, u64 enq_flags)
{
	nr_enqueued++;
	scx_bpf_dsq_insert(p, SHARED_DSQ, SCX_SLICE_DFL, enq_flags);
	/* Wrong: the cid form must use scx_bpf_task_cid()/scx_bpf_kick_cid(). */
	scx_bpf_kick_cpu(scx_bpf_task_cpu(p), SCX_KICK_IDLE);
}

void BPF_STRUCT_OPS(cpukf_dispatch, s32 cid, struct task_struct *prev)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(cpukf_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

SCX_OPS_CID_DEFINE(cpukf_ops,
		   .enqueue	= (void *)cpukf_enqueue,
		   .dispatch	= (void *)cpukf_dispatch,
		   .init	= (void *)cpukf_init,
		   .name	= "cpu_kfunc_in_cid");
