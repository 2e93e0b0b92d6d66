package sched

import "github.com/scxsim/scxsim/kernel/topo"

// Enqueue flags (ENQUEUE_* of kernel/sched/sched.h). The ext class passes
// them through to ops.enqueue(), so the values are the kernel's.
const (
	EnqueueWakeup     = 0x01
	EnqueueRestore    = 0x02
	EnqueueMove       = 0x04
	EnqueueNoClock    = 0x08
	EnqueueMigrating  = 0x10
	EnqueueHead       = 0x10000
	EnqueueMigrated   = 0x40000
	EnqueueInitial    = 0x80000
	EnqueueRQSelected = 0x100000
)

// Dequeue flags (DEQUEUE_*).
const (
	DequeueSleep     = 0x01
	DequeueSave      = 0x02
	DequeueMove      = 0x04
	DequeueNoClock   = 0x08
	DequeueMigrating = 0x10
)

// Wake flags (WF_*).
const (
	WFExec       = 0x02
	WFFork       = 0x04
	WFTTWU       = 0x08
	WFSync       = 0x10
	WFMigrated   = 0x20
	WFRQSelected = 0x80
)

// Class is a scheduling class: the subset of struct sched_class the core
// uses. Methods are called with the runqueue they concern; "rq lock held"
// is implicit as everything runs on one goroutine.
type Class interface {
	Name() string
	// Enqueue mirrors enqueue_task: p becomes queued on rq.
	Enqueue(rq *RQ, p *Task, flags int)
	// Dequeue mirrors dequeue_task.
	Dequeue(rq *RQ, p *Task, flags int)
	// Yield mirrors yield_task: the current task of rq yields.
	Yield(rq *RQ)
	// YieldTo mirrors yield_to_task; true if rq should reschedule.
	YieldTo(rq *RQ, p *Task) bool
	// WakeupPreempt mirrors wakeup_preempt for p waking on rq whose next
	// class (rq->next_class) is this class: p is of this class, or of a
	// higher one that is about to preempt it.
	WakeupPreempt(rq *RQ, p *Task, wakeFlags int)
	// Balance mirrors balance: prepare rq for picking (pull or dispatch
	// work); true when the class has a task to run.
	Balance(rq *RQ, prev *Task) bool
	// PickTask mirrors pick_task: the task to run next, nil if none. It
	// does not change what runs; SetNext does.
	PickTask(rq *RQ) *Task
	// PutPrev mirrors put_prev_task: p stops being rq's current task;
	// next is nil when the stopper preempts p to move it off the CPU.
	PutPrev(rq *RQ, p *Task, next *Task)
	// SetNext mirrors set_next_task: p becomes rq's current task.
	SetNext(rq *RQ, p *Task, first bool)
	// SelectTaskRQ mirrors select_task_rq.
	SelectTaskRQ(p *Task, prevCPU int, wakeFlags int) int
	// TaskTick mirrors task_tick for rq's current task p.
	TaskTick(rq *RQ, p *Task)
	// UpdateCurr charges the running task's execution time since it was
	// last charged (update_curr).
	UpdateCurr(rq *RQ)
	// TaskFork mirrors task_fork: p was just forked into this class.
	TaskFork(p *Task)
	// TaskDead mirrors task_dead.
	TaskDead(p *Task)
	// SwitchingTo, SwitchedFrom and SwitchedTo mirror the hooks around a
	// class change of p.
	SwitchingTo(rq *RQ, p *Task)
	SwitchedFrom(rq *RQ, p *Task)
	SwitchedTo(rq *RQ, p *Task)
	// Reweight mirrors reweight_task + prio_changed after a nice change.
	Reweight(rq *RQ, p *Task, oldWeight uint32)
	// SetCPUsAllowed mirrors set_cpus_allowed: it must call
	// Core.SetCPUsAllowedCommon(p, mask).
	SetCPUsAllowed(p *Task, mask topo.CPUMask)
	// MigrateTaskRQ mirrors migrate_task_rq: p moves to newCPU.
	MigrateTaskRQ(p *Task, newCPU int)
	// RQOnline / RQOffline mirror rq_online / rq_offline.
	RQOnline(rq *RQ)
	RQOffline(rq *RQ)
}

// Ext is the sched_ext class as core.c calls it: the class plus the hooks
// core.c calls outside struct sched_class (scx_fork(), scx_tick(), ...).
type Ext interface {
	Class
	// ShouldSCX mirrors task_should_scx(): would a task of this policy
	// be in the ext class now.
	ShouldSCX(policy Policy) bool
	// Enabled mirrors scx_enabled(): balance runs from the ext class on.
	Enabled() bool
	// Fork, PostFork, CancelFork mirror scx_fork(), scx_post_fork() and
	// scx_cancel_fork(). A Fork error fails the fork.
	Fork(p *Task) error
	PostFork(p *Task)
	CancelFork(p *Task)
	// CheckSetscheduler mirrors scx_check_setscheduler(): an error refuses
	// the policy change.
	CheckSetscheduler(p *Task, pol Policy) error
	// Dead mirrors sched_ext_dead(): the task is gone.
	Dead(p *Task)
	// Tick mirrors scx_tick() (watchdog check), after the class tick.
	Tick(rq *RQ)
	// UpdateIdle mirrors scx_update_idle(): rq's CPU enters or leaves
	// idle.
	UpdateIdle(rq *RQ, idle bool, doNotify bool)
	// SwitchClass mirrors switch_class(): rq's CPU switches from an ext
	// task to next of a higher class.
	SwitchClass(rq *RQ, next *Task)
	// Hotplug mirrors scx_rq_activate()/scx_rq_deactivate().
	Hotplug(rq *RQ, online bool)
	// Cgroup hooks (scx_tg_*, scx_cgroup_*); an error fails the
	// operation.
	CgroupOnline(cg *Cgroup) error
	CgroupOffline(cg *Cgroup)
	CgroupCanAttach(p *Task, from, to *Cgroup) error
	CgroupMove(p *Task, from, to *Cgroup)
	CgroupCancelAttach(p *Task, from, to *Cgroup)
	CgroupSetWeight(cg *Cgroup, weight uint32)
	CgroupSetBandwidth(cg *Cgroup, periodUS, quotaUS, burstUS uint64)
	CgroupSetIdle(cg *Cgroup, idle bool)
}
