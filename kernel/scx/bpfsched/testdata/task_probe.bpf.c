/* SPDX-License-Identifier: GPL-2.0 */
/*
 * task_probe: a cpu-form FIFO for the adapter's tests. For the task
 * watch_pid it records what the task_struct shows (ids, comm, affinity,
 * weight, cgroup), stores p->scx.slice directly when store_slice is set
 * and records the slice the task then runs with; ops.init() prints a line
 * and arms a BPF timer that counts its firings.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

#define SHARED_DSQ	0

const volatile s32 watch_pid = -1;
const volatile u64 store_slice;
const volatile u64 timer_ns = 1000000;
const volatile u64 error_after;	/* scx_bpf_error() at this many enqueues */

u64 nr_enq;

/* ops.yield(): calls, and the last from/to pids (-1 for no target). */
u64 nr_yield;
s32 yield_from;
s32 yield_to;

struct seen {
	s32	pid;
	s32	tgid;
	char	comm[16];
	s32	nr_cpus_allowed;
	s32	static_prio;
	u64	cpus0;		/* first word of *p->cpus_ptr */
	u32	weight;		/* p->scx.weight */
	u32	policy;
	u64	cgroup_id;	/* scx_bpf_task_cgroup(p)->kn->id */
	u64	running_slice;	/* p->scx.slice in ops.running() */
	u64	nr_running;
	s32	task_cpu;	/* scx_bpf_task_cpu(p) in ops.running() */
	s32	this_cpu;	/* bpf_get_smp_processor_id() there */
};

struct seen seen;
u64 nr_timer_fires;

/* What the cgroup ops saw. */
struct cg_seen {
	u64	nr_init;
	u64	init_id;	/* the cgroup with the largest id at init */
	u32	init_weight;
	s32	move_level;	/* to->level for watch_pid's last move */
	u64	move_from;
	u64	move_to;
	u64	move_ancestor;	/* to's ancestor at level 1 */
};

struct cg_seen cg_seen;

struct timer_slot {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct timer_slot);
} timers SEC(".maps");

static int timer_fn(void *map, u32 *key, struct bpf_timer *timer)
{
	nr_timer_fires++;
	if (nr_timer_fires < 5)
		bpf_timer_start(timer, timer_ns, 0);
	return 0;
}

/* Every wakeup goes through ops.enqueue(): no direct dispatch. */
s32 BPF_STRUCT_OPS(probe_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return prev_cpu;
}

void BPF_STRUCT_OPS(probe_enqueue, struct task_struct *p, u64 enq_flags)
{
	if (error_after && ++nr_enq == error_after)
		scx_bpf_error("probe error after %llu enqueues", nr_enq);
	if (p->pid == watch_pid) {
		struct cgroup *cgrp;

		seen.pid = p->pid;
		seen.tgid = p->tgid;
		bpf_probe_read_kernel_str(seen.comm, sizeof(seen.comm), p->comm);
		seen.nr_cpus_allowed = p->nr_cpus_allowed;
		seen.static_prio = p->static_prio;
		seen.cpus0 = p->cpus_ptr->bits[0];
		seen.weight = p->scx.weight;
		seen.policy = p->policy;
		cgrp = scx_bpf_task_cgroup(p);
		if (cgrp) {
			seen.cgroup_id = cgrp->kn->id;
			bpf_cgroup_release(cgrp);
		}
		if (store_slice)
			p->scx.slice = store_slice;
		/* slice 0 keeps the slice just stored */
		scx_bpf_dsq_insert(p, SHARED_DSQ, store_slice ? 0 : SCX_SLICE_DFL, enq_flags);
		return;
	}
	scx_bpf_dsq_insert(p, SHARED_DSQ, SCX_SLICE_DFL, enq_flags);
}

void BPF_STRUCT_OPS(probe_dispatch, s32 cpu, struct task_struct *prev)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

void BPF_STRUCT_OPS(probe_running, struct task_struct *p)
{
	if (p->pid != watch_pid)
		return;
	seen.nr_running++;
	seen.running_slice = p->scx.slice;
	seen.task_cpu = scx_bpf_task_cpu(p);
	seen.this_cpu = bpf_get_smp_processor_id();
}

s32 BPF_STRUCT_OPS(probe_cgroup_init, struct cgroup *cgrp, struct scx_cgroup_init_args *args)
{
	cg_seen.nr_init++;
	if (cgrp->kn->id >= cg_seen.init_id) {
		cg_seen.init_id = cgrp->kn->id;
		cg_seen.init_weight = args->weight;
	}
	return 0;
}

void BPF_STRUCT_OPS(probe_cgroup_move, struct task_struct *p, struct cgroup *from, struct cgroup *to)
{
	struct cgroup *anc;

	if (p->pid != watch_pid)
		return;
	cg_seen.move_from = from->kn->id;
	cg_seen.move_to = to->kn->id;
	cg_seen.move_level = to->level;
	anc = bpf_cgroup_ancestor(to, 1);
	if (anc) {
		cg_seen.move_ancestor = anc->kn->id;
		bpf_cgroup_release(anc);
	}
}

bool BPF_STRUCT_OPS(probe_yield, struct task_struct *from, struct task_struct *to)
{
	nr_yield++;
	yield_from = from->pid;
	yield_to = to ? to->pid : -1;
	return false;
}

void BPF_STRUCT_OPS(probe_dump, struct scx_dump_ctx *dctx)
{
	scx_bpf_dump("probe dump kind=%d reason=%s\n", dctx->kind, dctx->reason);
}

void BPF_STRUCT_OPS(probe_dump_cpu, struct scx_dump_ctx *dctx, s32 cpu, bool idle)
{
	scx_bpf_dump("probe cpu %d idle=%d\n", cpu, idle);
}

void BPF_STRUCT_OPS(probe_dump_task, struct scx_dump_ctx *dctx, struct task_struct *p)
{
	scx_bpf_dump("probe task %s[%d]\n", p->comm, p->pid);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(probe_init)
{
	struct timer_slot *ts;
	u32 zero = 0;

	bpf_printk("task_probe: init on %u cpus", scx_bpf_nr_cpu_ids());
	ts = bpf_map_lookup_elem(&timers, &zero);
	if (!ts)
		return -ENOENT;
	bpf_timer_init(&ts->timer, &timers, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&ts->timer, timer_fn);
	bpf_timer_start(&ts->timer, timer_ns, 0);
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

SCX_OPS_DEFINE(probe_ops,
	       .select_cpu	= (void *)probe_select_cpu,
	       .enqueue		= (void *)probe_enqueue,
	       .dispatch	= (void *)probe_dispatch,
	       .running		= (void *)probe_running,
	       .yield		= (void *)probe_yield,
	       .dump		= (void *)probe_dump,
	       .dump_cpu	= (void *)probe_dump_cpu,
	       .dump_task	= (void *)probe_dump_task,
	       .cgroup_init	= (void *)probe_cgroup_init,
	       .cgroup_move	= (void *)probe_cgroup_move,
	       .init		= (void *)probe_init,
	       .name		= "task_probe");
