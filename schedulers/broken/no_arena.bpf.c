/* SPDX-License-Identifier: GPL-2.0 */
/*
 * broken/no_arena: a cid-form scheduler without a BPF arena.
 *
 * The kernel requires a cid-form scheduler to use exactly one arena across
 * its member programs: that is where it puts the cmasks it hands to
 * ops_cid.set_cmask(). This one has no arena map at all, so attaching it
 * must fail. Otherwise it is a plain global FIFO.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define SHARED_DSQ 0

void BPF_STRUCT_OPS(noarena_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dsq_insert(p, SHARED_DSQ, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(noarena_dispatch, s32 cid, struct task_struct *prev)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(noarena_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

SCX_OPS_CID_DEFINE(noarena_ops,
		   .enqueue	= (void *)noarena_enqueue,
		   .dispatch	= (void *)noarena_dispatch,
		   .init	= (void *)noarena_init,
		   .name	= "no_arena");
