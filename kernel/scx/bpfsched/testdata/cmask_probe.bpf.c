/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cmask_probe: a cid-form FIFO for the adapter's tests. It copies the cmask
 * ops_cid.set_cmask() receives for the task watch_pid, read through its
 * __arena pointer, into an arena global the test reads, and returns
 * init_ret from ops.init() so a failing init can be tested.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define MAX_CIDS	512
#define SHARED_DSQ	0

const volatile s32 init_ret;
const volatile s32 watch_pid = -1;

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 64);
} arena SEC(".maps");

struct probe_cmask {
	struct scx_cmask	mask;
	u64			storage[CMASK_NR_WORDS(MAX_CIDS)];
};

struct probe {
	u64			nr_set_cmask;	/* set_cmask() calls for watch_pid */
	u64			nr_enqueued;
	s32			pid;
	u32			kern_base;	/* the kernel's cmask header */
	u32			kern_nr_cids;
	u32			nr_cids;
	struct probe_cmask	last;		/* cmask_copy() of the last one */
};

struct probe __arena_global probe;

void BPF_STRUCT_OPS(probe_enqueue, struct task_struct *p, u64 enq_flags)
{
	probe.nr_enqueued++;
	scx_bpf_dsq_insert(p, SHARED_DSQ, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(probe_dispatch, s32 cid, struct task_struct *prev)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

void BPF_STRUCT_OPS(probe_set_cmask, struct task_struct *p, const struct scx_cmask __arena *cmask)
{
	if (p->pid != watch_pid)
		return;
	probe.nr_set_cmask++;
	probe.pid = p->pid;
	probe.kern_base = cmask->base;
	probe.kern_nr_cids = cmask->nr_cids;
	cmask_init(&probe.last.mask, 0, probe.nr_cids);
	cmask_copy(&probe.last.mask, cmask);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(probe_init)
{
	probe.nr_cids = scx_bpf_nr_cids();
	if (init_ret)
		return init_ret;
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

SCX_OPS_CID_DEFINE(probe_ops,
		   .enqueue	= (void *)probe_enqueue,
		   .dispatch	= (void *)probe_dispatch,
		   .set_cmask	= (void *)probe_set_cmask,
		   .init	= (void *)probe_init,
		   .name	= "cmask_probe");
