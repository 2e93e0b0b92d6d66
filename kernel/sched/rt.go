package sched

import (
	"math/bits"

	"github.com/scxsim/scxsim/kernel/topo"
)

// Priority constants of include/linux/sched/prio.h. A task's prio is
// 99-rt_priority for SCHED_FIFO/SCHED_RR and 120+nice otherwise; lower is
// more important.
const (
	MaxRTPrio   = 100 // MAX_RT_PRIO: rt_priority is 1..MaxRTPrio-1
	DefaultPrio = 120 // DEFAULT_PRIO: nice 0
)

// RRTimesliceNS is sched_rr_timeslice (RR_TIMESLICE: 100 ms), rounded to
// whole ticks as the kernel's jiffies are.
const RRTimesliceNS = 100_000_000

// rtEntity is a task's sched_rt_entity.
type rtEntity struct {
	timeSlice int  // ticks left of the SCHED_RR slice
	queued    bool // on its rq's priority array
	pushable  bool // on the rq's pushable list: queued, not running, may migrate
	// savedIdx keeps the task's place in its list across a dequeue with
	// DEQUEUE_SAVE but not DEQUEUE_MOVE, which the kernel does not move
	// (move_entity()); -1 otherwise.
	savedIdx int
}

// rtRQ is struct rt_rq: the CPU's RT tasks in a bitmap-indexed array of
// FIFO lists, one per priority (struct rt_prio_array).
type rtRQ struct {
	// queue is allocated with the CPU's first RT task, keeping RQ small.
	queue    *[MaxRTPrio][]*Task
	bitmap   [2]uint64
	nr       int // rt_nr_running: queued RT tasks, the running one included
	pushable int // queued, not running, allowed elsewhere
	currTask *Task
	overload bool // rt_rq->overloaded: set in the root domain's rto mask
}

// highest returns rt_rq->highest_prio.curr: the best queued priority, or
// MaxRTPrio-1 when no RT task is queued (as the kernel keeps it).
func (r *rtRQ) highest() int {
	if r.bitmap[0] != 0 {
		return bits.TrailingZeros64(r.bitmap[0])
	}
	if r.bitmap[1] != 0 {
		return 64 + bits.TrailingZeros64(r.bitmap[1])
	}
	return MaxRTPrio - 1
}

// NrRT returns the RT tasks queued on the CPU, the running one included.
func (rq *RQ) NrRT() int { return rq.rt.nr }

// rtClass is rt_sched_class: SCHED_FIFO and SCHED_RR, no throttling
// (without CONFIG_RT_GROUP_SCHED the kernel has no RT bandwidth control;
// the fair and ext deadline servers protect the classes below).
type rtClass struct {
	core *Core
	// nrOverloaded counts the CPUs with rtRQ.overload set (rto_count).
	nrOverloaded int
}

func (rc *rtClass) Name() string { return "rt" }

// rrTicks is the SCHED_RR slice in ticks (at least one).
func (rc *rtClass) rrTicks() int {
	return max(1, int(RRTimesliceNS/rc.core.opts.TickNS))
}

func (rc *rtClass) updateOverload(rq *RQ) {
	r := &rq.rt
	o := r.nr > 1 && r.pushable > 0
	if o != r.overload {
		r.overload = o
		if o {
			rc.nrOverloaded++
		} else {
			rc.nrOverloaded--
		}
	}
}

func (rc *rtClass) setPushable(rq *RQ, p *Task) {
	want := p.rt.queued && rq.rt.currTask != p && p.nrCPUs > 1 && !p.MigrationDisabled()
	if want != p.rt.pushable {
		p.rt.pushable = want
		if want {
			rq.rt.pushable++
		} else {
			rq.rt.pushable--
		}
	}
	rc.updateOverload(rq)
}

// Enqueue mirrors enqueue_task_rt(): at the tail of its priority's list
// (the head with ENQUEUE_HEAD, its old place after a SAVE-only dequeue).
func (rc *rtClass) Enqueue(rq *RQ, p *Task, flags int) {
	r := &rq.rt
	if r.queue == nil {
		r.queue = new([MaxRTPrio][]*Task)
	}
	l := r.queue[p.prio]
	switch {
	case flags&EnqueueRestore != 0 && p.rt.savedIdx >= 0 && p.rt.savedIdx <= len(l):
		i := p.rt.savedIdx
		l = append(l, nil)
		copy(l[i+1:], l[i:])
		l[i] = p
	case flags&EnqueueHead != 0:
		l = append(l, nil)
		copy(l[1:], l)
		l[0] = p
	default:
		l = append(l, p)
	}
	p.rt.savedIdx = -1
	r.queue[p.prio] = l
	r.bitmap[p.prio/64] |= 1 << (p.prio % 64)
	r.nr++
	p.rt.queued = true
	rc.setPushable(rq, p)
}

// Dequeue mirrors dequeue_task_rt().
func (rc *rtClass) Dequeue(rq *RQ, p *Task, flags int) {
	r := &rq.rt
	l := r.queue[p.prio]
	for i, q := range l {
		if q == p {
			l = append(l[:i], l[i+1:]...)
			if flags&(DequeueSave|DequeueMove) == DequeueSave {
				p.rt.savedIdx = i
			}
			break
		}
	}
	r.queue[p.prio] = l
	if len(l) == 0 {
		r.bitmap[p.prio/64] &^= 1 << (p.prio % 64)
	}
	r.nr--
	p.rt.queued = false
	rc.setPushable(rq, p)
}

// requeue mirrors requeue_task_rt(): p goes to the tail of its list.
func (rc *rtClass) requeue(rq *RQ, p *Task) {
	l := rq.rt.queue[p.prio]
	for i, q := range l {
		if q == p {
			copy(l[i:], l[i+1:])
			l[len(l)-1] = p
			return
		}
	}
}

// Yield mirrors yield_task_rt().
func (rc *rtClass) Yield(rq *RQ) { rc.requeue(rq, rq.curr) }

func (rc *rtClass) YieldTo(rq *RQ, p *Task) bool { return false }

// WakeupPreempt mirrors wakeup_preempt_rt(): a more important RT task
// preempts (the push of an equal-priority waker is not modelled).
func (rc *rtClass) WakeupPreempt(rq *RQ, p *Task, wf int) {
	if p.class != Class(rc) {
		return
	}
	if p.prio < rq.curr.prio {
		rc.core.ReschedCurr(rq)
	}
}

// Balance mirrors balance_rt(): an RT task that stopped leaving the CPU
// at a lower priority pulls RT work from overloaded CPUs.
func (rc *rtClass) Balance(rq *RQ, prev *Task) bool {
	if prev.class == Class(rc) && !prev.rt.queued && rq.rt.highest() > prev.prio {
		rc.pull(rq)
	}
	return rq.rt.nr > 0
}

// PickTask mirrors pick_task_rt(): the head of the best priority's list.
func (rc *rtClass) PickTask(rq *RQ) *Task {
	if rq.rt.nr == 0 {
		return nil
	}
	return rq.rt.queue[rq.rt.highest()][0]
}

// PutPrev mirrors put_prev_task_rt(): a preempted task stays where it is
// in its list and becomes pushable.
func (rc *rtClass) PutPrev(rq *RQ, p *Task, next *Task) {
	rc.UpdateCurr(rq)
	if rq.rt.currTask == p {
		rq.rt.currTask = nil
	}
	rc.setPushable(rq, p)
}

// SetNext mirrors set_next_task_rt(); the push it queues runs after the
// switch (Core.schedule calls afterSwitch).
func (rc *rtClass) SetNext(rq *RQ, p *Task, first bool) {
	p.execStart = rq.clock
	rq.rt.currTask = p
	rc.setPushable(rq, p)
}

// UpdateCurr mirrors update_curr_rt().
func (rc *rtClass) UpdateCurr(rq *RQ) {
	if p := rq.curr; p.class == Class(rc) {
		rq.chargeCurr(p)
	}
}

// TaskTick mirrors task_tick_rt(): a SCHED_RR task that used its slice
// gets a new one and, when others of its priority wait, goes behind them.
func (rc *rtClass) TaskTick(rq *RQ, p *Task) {
	rc.UpdateCurr(rq)
	if p.policy != PolicyRR {
		return
	}
	p.rt.timeSlice--
	if p.rt.timeSlice > 0 {
		return
	}
	p.rt.timeSlice = rc.rrTicks()
	if len(rq.rt.queue[p.prio]) > 1 {
		rc.requeue(rq, p)
		rc.core.ReschedCurr(rq)
	}
}

func (rc *rtClass) TaskFork(p *Task) {
	p.rt = rtEntity{timeSlice: rc.rrTicks(), savedIdx: -1}
}

func (rc *rtClass) TaskDead(p *Task) {}

func (rc *rtClass) SwitchingTo(rq *RQ, p *Task) {
	p.rt = rtEntity{timeSlice: rc.rrTicks(), savedIdx: -1}
}

// SwitchedFrom mirrors switched_from_rt(): the CPU's last RT task left
// the class, so it pulls.
func (rc *rtClass) SwitchedFrom(rq *RQ, p *Task) {
	if p.onRQ && rq.rt.nr == 0 {
		rc.pull(rq)
	}
}

// SwitchedTo mirrors switched_to_rt(): a queued task arriving on an
// overloaded CPU is pushed.
func (rc *rtClass) SwitchedTo(rq *RQ, p *Task) {
	if p.onRQ && rq.curr != p && rq.rt.overload {
		rc.pushTasks(rq)
	}
}

func (rc *rtClass) Reweight(rq *RQ, p *Task, old uint32) {}

func (rc *rtClass) SetCPUsAllowed(p *Task, mask topo.CPUMask) {
	rc.core.SetCPUsAllowedCommon(p, mask)
}

func (rc *rtClass) MigrateTaskRQ(p *Task, newCPU int) {}
func (rc *rtClass) RQOnline(rq *RQ)                   {}
func (rc *rtClass) RQOffline(rq *RQ)                  {}

// SelectTaskRQ mirrors select_task_rq_rt(): stay on prev unless an RT
// task there is at least as important (or cannot move), then take the
// CPU find_lowest_rq() finds if p would run first there.
func (rc *rtClass) SelectTaskRQ(p *Task, prev int, wf int) int {
	if wf&(WFTTWU|WFFork) == 0 {
		return prev
	}
	rq := rc.core.RQ(prev)
	if rq == nil {
		return prev
	}
	curr := rq.curr
	if curr.class == Class(rc) && (curr.nrCPUs < 2 || curr.prio <= p.prio) {
		if t := rc.findLowest(p, prev); t >= 0 && p.prio < rc.core.rqs[t].rt.highest() {
			return t
		}
	}
	return prev
}

// cpupri mirrors convert_prio() of cpupri.c: 0 for a CPU with no RT task
// (idle and fair alike), the rt_priority of its best queued RT task
// otherwise.
func cpupri(rq *RQ) int {
	h := rq.rt.highest()
	if h == MaxRTPrio-1 {
		return 0
	}
	return MaxRTPrio - 1 - h
}

// findLowest mirrors find_lowest_rq() over cpupri_find(): among the
// active CPUs p may use, those at the lowest cpupri level below p's; of
// them prev (the task's last CPU) if there, else the first in prev's LLC,
// else the first on prev's node, else the first. -1 when none is lower.
func (rc *rtClass) findLowest(p *Task, prev int) int {
	c := rc.core
	if p.nrCPUs < 2 || p.MigrationDisabled() {
		return -1
	}
	taskPri := MaxRTPrio - 1 - p.prio
	best := taskPri
	for _, rq := range c.rqs {
		if rq != nil && rq.online && p.cpus.Test(rq.CPU) {
			best = min(best, cpupri(rq))
		}
	}
	if best >= taskPri {
		return -1
	}
	in := func(cpu int) bool {
		rq := c.RQ(cpu)
		return rq != nil && rq.online && p.cpus.Test(cpu) && cpupri(rq) == best
	}
	if in(prev) {
		return prev
	}
	for _, cpu := range c.m.LLCCPUs(prev) {
		if in(cpu) {
			return cpu
		}
	}
	if cc, ok := c.m.CPU(prev); ok && cc.Node >= 0 {
		for _, cpu := range c.m.NodeCPUs(cc.Node) {
			if in(cpu) {
				return cpu
			}
		}
	}
	for _, rq := range c.rqs {
		if rq != nil && in(rq.CPU) {
			return rq.CPU
		}
	}
	return -1
}

// nextPushable mirrors pick_next_pushable_task(): the most important
// queued, not running task that may move.
func (rc *rtClass) nextPushable(rq *RQ) *Task {
	if rq.rt.pushable == 0 {
		return nil
	}
	for prio := rq.rt.highest(); prio < MaxRTPrio; prio++ {
		for _, p := range rq.rt.queue[prio] {
			if p.rt.pushable {
				return p
			}
		}
	}
	return nil
}

// pushOne mirrors push_rt_task(): move the best pushable task to the
// lowest-priority CPU it would run on at once. A task that beats the
// CPU's own current task makes it reschedule instead.
func (rc *rtClass) pushOne(rq *RQ) bool {
	if !rq.rt.overload {
		return false
	}
	p := rc.nextPushable(rq)
	if p == nil {
		return false
	}
	if p.prio < rq.curr.prio {
		rc.core.ReschedCurr(rq)
		return false
	}
	t := rc.findLowest(p, rq.CPU)
	if t < 0 || t == rq.CPU || p.prio >= rc.core.rqs[t].rt.highest() {
		return false
	}
	rc.core.MoveQueuedTask(p, t)
	return true
}

// pushTasks mirrors push_rt_tasks().
func (rc *rtClass) pushTasks(rq *RQ) {
	for rc.pushOne(rq) {
	}
}

// pull mirrors pull_rt_task(): from every overloaded CPU, in CPU order
// after this one, take its best pushable task when it beats what this CPU
// has queued and would not run at once where it is.
func (rc *rtClass) pull(rq *RQ) {
	c := rc.core
	if rc.nrOverloaded == 0 || !rq.online {
		return
	}
	n := len(c.rqs)
	for i := 1; i < n; i++ {
		src := c.rqs[(rq.CPU+i)%n]
		if src == nil || !src.rt.overload {
			continue
		}
		var p *Task
		for prio := src.rt.highest(); prio < MaxRTPrio && p == nil; prio++ {
			for _, q := range src.rt.queue[prio] {
				if q.rt.pushable && q.cpus.Test(rq.CPU) {
					p = q
					break
				}
			}
		}
		if p == nil || p.prio >= rq.rt.highest() || p.prio < src.curr.prio {
			continue
		}
		c.MoveQueuedTask(p, rq.CPU)
	}
}

// taskWoken mirrors task_woken_rt(): a woken RT task that will not run
// soon on a CPU busy with an RT task at least as important is pushed.
func (rc *rtClass) taskWoken(rq *RQ, p *Task) {
	curr := rq.curr
	if rq.curr != p && !rq.needResched && p.nrCPUs > 1 && curr.class == Class(rc) &&
		(curr.nrCPUs < 2 || curr.prio <= p.prio) {
		rc.pushTasks(rq)
	}
}

// prioChanged mirrors prio_changed_rt(): a running task that lost
// priority pulls and yields to a better queued one; a queued one that now
// beats the running task preempts it.
func (rc *rtClass) prioChanged(rq *RQ, p *Task, oldPrio int) {
	if !p.onRQ {
		return
	}
	if rq.curr == p {
		if oldPrio < p.prio {
			rc.pull(rq)
			if rq.rt.highest() < p.prio {
				rc.core.ReschedCurr(rq)
			}
		}
		return
	}
	if p.prio < rq.curr.prio {
		rc.core.ReschedCurr(rq)
	}
}
