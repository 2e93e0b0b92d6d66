/* SPDX-License-Identifier: GPL-2.0 */
/*
 * broken/two_arenas: a cid-form scheduler whose member programs use two
 * different arenas.
 *
 * ops.init() allocates from arena_a, ops_cid.init_task() from arena_b.
 * The kernel discovers the arena of a cid-form scheduler from its member
 * programs and insists on exactly one, so attaching this must fail (a
 * loader modelled on libbpf may already refuse a second arena map).
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define SHARED_DSQ 0

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
} arena_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
} arena_b SEC(".maps");

u64 __arena *counters;		/* a page of arena_a */
u64 __arena *task_pages;	/* a page of arena_b */

void BPF_STRUCT_OPS(twoarenas_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dsq_insert(p, SHARED_DSQ, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(twoarenas_dispatch, s32 cid, struct task_struct *prev)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(twoarenas_init_task, struct task_struct *p,
			     struct scx_init_task_args *args)
{
	if (!task_pages)
		task_pages = bpf_arena_alloc_pages(&arena_b, NULL, 1, NUMA_NO_NODE, 0);
	return task_pages ? 0 : -ENOMEM;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(twoarenas_init)
{
	counters = bpf_arena_alloc_pages(&arena_a, NULL, 1, NUMA_NO_NODE, 0);
	if (!counters)
		return -ENOMEM;
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

SCX_OPS_CID_DEFINE(twoarenas_ops,
		   .enqueue	= (void *)twoarenas_enqueue,
		   .dispatch	= (void *)twoarenas_dispatch,
		   .init_task	= (void *)twoarenas_init_task,
		   .init	= (void *)twoarenas_init,
		   .name	= "two_arenas");
