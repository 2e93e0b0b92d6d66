/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fifo: one run queue shared by every CPU.
 *
 * Tasks wait on a single user DSQ and CPUs take them in arrival order. A
 * task that wakes up while some CPU it may run on is idle skips the queue
 * and goes straight to that CPU's local DSQ.
 *
 * With vtime_mode set (a read-only knob set before load) the shared DSQ is
 * ordered by virtual time instead: a task's vtime advances by the time it
 * ran divided by its weight, so CPU time is shared in proportion to
 * weight. A task that slept cannot bank more than one slice of credit.
 *
 * Demonstrates the cpu form of sched_ext_ops: select_cpu() with the
 * built-in idle tracking, FIFO and vtime DSQ insertion, dispatch(), the
 * running()/stopping()/enable() vtime bookkeeping, per-CPU counters and
 * exit info for user space.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

const volatile bool vtime_mode;
const volatile u64 slice_ns = SCX_SLICE_DFL;

enum {
	SHARED_DSQ	= 0,
	STAT_DIRECT	= 0,	/* inserted on an idle CPU at wakeup */
	STAT_QUEUED	= 1,	/* went through the shared DSQ */
	FIFO_NR_STATS,
};

/* The highest vtime of any task that started running. */
static u64 vtime_now;

UEI_DEFINE(uei);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u64));
	__uint(max_entries, FIFO_NR_STATS);
} stats SEC(".maps");

static void stat_inc(u32 idx)
{
	u64 *cnt = bpf_map_lookup_elem(&stats, &idx);

	if (cnt)
		(*cnt)++;
}

s32 BPF_STRUCT_OPS(fifo_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool is_idle = false;
	s32 cpu;

	cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle) {
		stat_inc(STAT_DIRECT);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
	}
	return cpu;
}

void BPF_STRUCT_OPS(fifo_enqueue, struct task_struct *p, u64 enq_flags)
{
	stat_inc(STAT_QUEUED);

	if (vtime_mode) {
		u64 vtime = p->scx.dsq_vtime;

		if (time_before(vtime, vtime_now - slice_ns))
			vtime = vtime_now - slice_ns;
		scx_bpf_dsq_insert_vtime(p, SHARED_DSQ, slice_ns, vtime, enq_flags);
	} else {
		scx_bpf_dsq_insert(p, SHARED_DSQ, slice_ns, enq_flags);
	}
}

void BPF_STRUCT_OPS(fifo_dispatch, s32 cpu, struct task_struct *prev)
{
	scx_bpf_dsq_move_to_local(SHARED_DSQ);
}

void BPF_STRUCT_OPS(fifo_running, struct task_struct *p)
{
	if (vtime_mode && time_before(vtime_now, p->scx.dsq_vtime))
		vtime_now = p->scx.dsq_vtime;
}

void BPF_STRUCT_OPS(fifo_stopping, struct task_struct *p, bool runnable)
{
	if (!vtime_mode)
		return;
	/* Charge the part of the slice used, scaled by weight (100 at nice 0). */
	p->scx.dsq_vtime += (slice_ns - p->scx.slice) * 100 / p->scx.weight;
}

void BPF_STRUCT_OPS(fifo_enable, struct task_struct *p)
{
	p->scx.dsq_vtime = vtime_now;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(fifo_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, NUMA_NO_NODE);
}

void BPF_STRUCT_OPS(fifo_exit, struct scx_exit_info *ei)
{
	UEI_RECORD(uei, ei);
}

SCX_OPS_DEFINE(fifo_ops,
	       .select_cpu	= (void *)fifo_select_cpu,
	       .enqueue		= (void *)fifo_enqueue,
	       .dispatch	= (void *)fifo_dispatch,
	       .running		= (void *)fifo_running,
	       .stopping	= (void *)fifo_stopping,
	       .enable		= (void *)fifo_enable,
	       .init		= (void *)fifo_init,
	       .exit		= (void *)fifo_exit,
	       .name		= "fifo");
