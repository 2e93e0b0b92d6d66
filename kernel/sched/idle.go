package sched

import "github.com/scxsim/scxsim/kernel/topo"

// idleClass is idle_sched_class: it only ever runs the CPU's idle task.
type idleClass struct{}

var idleClassSingleton Class = idleClass{}

func (idleClass) Name() string                          { return "idle" }
func (idleClass) Enqueue(rq *RQ, p *Task, flags int)    {}
func (idleClass) Dequeue(rq *RQ, p *Task, flags int)    {}
func (idleClass) Yield(rq *RQ)                          {}
func (idleClass) YieldTo(rq *RQ, p *Task) bool          { return false }
func (idleClass) WakeupPreempt(rq *RQ, p *Task, wf int) { rq.core.ReschedCurr(rq) }
func (idleClass) Balance(rq *RQ, prev *Task) bool       { return true }

// PickTask mirrors pick_task_idle(): an idle-to-idle re-pick refreshes the
// ext class's idle state (scx_update_idle(rq, true, false)).
func (idleClass) PickTask(rq *RQ) *Task {
	if x := rq.core.ext; x != nil && rq.curr == rq.idle {
		x.UpdateIdle(rq, true, false)
	}
	return rq.idle
}
func (idleClass) SelectTaskRQ(p *Task, prev, wf int) int {
	return prev
}
func (idleClass) TaskTick(rq *RQ, p *Task)                  {}
func (idleClass) UpdateCurr(rq *RQ)                         {}
func (idleClass) TaskFork(p *Task)                          {}
func (idleClass) TaskDead(p *Task)                          {}
func (idleClass) SwitchingTo(rq *RQ, p *Task)               {}
func (idleClass) SwitchedFrom(rq *RQ, p *Task)              {}
func (idleClass) SwitchedTo(rq *RQ, p *Task)                {}
func (idleClass) Reweight(rq *RQ, p *Task, old uint32)      {}
func (idleClass) SetCPUsAllowed(p *Task, mask topo.CPUMask) {}
func (idleClass) MigrateTaskRQ(p *Task, newCPU int)         {}
func (idleClass) RQOnline(rq *RQ)                           {}
func (idleClass) RQOffline(rq *RQ)                          {}

// PutPrev mirrors put_prev_task_idle(): the CPU leaves idle.
func (idleClass) PutPrev(rq *RQ, p *Task, next *Task) {
	rq.core.idleMask.Clear(rq.CPU)
	if x := rq.core.ext; x != nil {
		x.UpdateIdle(rq, false, true)
	}
}

// SetNext mirrors set_next_task_idle(): the CPU enters idle.
func (idleClass) SetNext(rq *RQ, p *Task, first bool) {
	p.execStart = rq.clock
	rq.core.idleMask.Set(rq.CPU)
	if x := rq.core.ext; x != nil {
		x.UpdateIdle(rq, true, true)
	}
}

// IsIdle reports whether the CPU runs its idle task with nothing queued
// (idle_cpu()).
func (rq *RQ) IsIdle() bool { return rq.curr == rq.idle && rq.NrRunning == 0 }
