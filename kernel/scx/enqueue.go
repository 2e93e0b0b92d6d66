package scx

import (
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/topo"
)

func taskSched(p *Task) *Sched { return ent(p).sch }

// --- runnable list ---------------------------------------------------

// setTaskRunnable mirrors set_task_runnable().
func (x *Ext) setTaskRunnable(r *rqState, e *entity) {
	if e.flags&TaskResetRunnableAt != 0 {
		e.runnableAt = x.jiffies()
		e.flags &^= TaskResetRunnableAt
	}
	if e.onRunnable {
		return
	}
	h := &r.runnable
	e.rprev, e.rnext = h.rprev, h
	h.rprev.rnext = e
	h.rprev = e
	e.onRunnable = true
}

// clrTaskRunnable mirrors clr_task_runnable().
func clrTaskRunnable(e *entity, reset bool) {
	if e.onRunnable {
		e.rprev.rnext = e.rnext
		e.rnext.rprev = e.rprev
		e.rnext, e.rprev = nil, nil
		e.onRunnable = false
	}
	if reset {
		e.flags |= TaskResetRunnableAt
		e.reenqCnt = 0
	}
}

// --- DSQ insertion and removal ------------------------------------------

// dispatchEnqueue mirrors scx_dispatch_enqueue().
func (x *Ext) dispatchEnqueue(sch *Sched, r *rqState, dsq *DSQ, p *Task, slice, vtime, enqFlags uint64) {
	e := ent(p)
	rqOwned := dsq.isLocal()
	if !rqOwned && dsq.destroyed {
		x.scxError(sch, "attempting to dispatch to a destroyed dsq")
		dsq = sch.globalDSQ(p.CPU())
	}
	if dsq.builtin() && enqFlags&enqDSQPriq != 0 {
		x.scxError(sch, "cannot use vtime ordering for built-in DSQs")
		enqFlags &^= enqDSQPriq
	}
	if enqFlags&enqApplySlice != 0 {
		applySliceVtime(e, slice, vtime, enqFlags)
	}
	if enqFlags&enqDSQPriq != 0 {
		if dsq.priq.empty() && dsq.first() != nil {
			x.scxError(sch, "DSQ ID 0x%016x already had FIFO-enqueued tasks", dsq.ID)
		}
		if dsq.priq == nil {
			dsq.priq = &treap{rng: dsq.ID}
		}
		e.onPriq = true
		e.pn = tnode{e: e, vtime: e.DsqVtime, ord: dsq.ordNext(), prio: dsq.priq.rand()}
		dsq.priq.insert(&e.pn)
		if pv := dsq.priq.prev(&e.pn); pv != nil {
			listInsertAfter(pv.e, e)
		} else {
			listInsertAfter(&dsq.head, e)
		}
	} else {
		if !dsq.priq.empty() {
			x.scxError(sch, "DSQ ID 0x%016x already had PRIQ-enqueued tasks", dsq.ID)
		}
		if enqFlags&(EnqHead|EnqPreempt) != 0 {
			listInsertAfter(&dsq.head, e)
		} else {
			listInsertAfter(dsq.head.prev, e)
		}
	}
	dsq.seq++
	e.dsqSeq = dsq.seq
	x.dsqIncNr(dsq, e, enqFlags)
	e.dsq = dsq
	if rqOwned {
		x.rqOwnedPostEnq(sch, x.rqs[dsq.cpu], dsq, p, enqFlags)
	} else if dsq.ID == DSQGlobal || dsq.ID == DSQBypass {
		x.callTaskDequeue(sch, r, p, 0)
	} else {
		e.flags |= taskInCustody
	}
	if enqFlags&enqClearOpss != 0 {
		e.opsState = uint64(OpssNone)
	}
}

// dsqIncNr mirrors dsq_inc_nr(): count the task; an SCX_ENQ_IMMED task
// on a local DSQ must get the CPU at once, or it is re-enqueued.
func (x *Ext) dsqIncNr(dsq *DSQ, e *entity, enqFlags uint64) {
	dsq.nr++
	if enqFlags&EnqImmed != 0 {
		if !dsq.isLocal() {
			return
		}
		e.flags |= taskImmed
	}
	if e.flags&taskImmed == 0 || !dsq.isLocal() {
		return
	}
	r := dsq.owner
	r.nrImmed++
	if dsq.nr > 1 || !x.rqIsOpen(r, enqFlags) {
		x.scheduleReenqLocal(r, 0)
	}
}

// rqIsOpen mirrors rq_is_open(): can an ext task run on r right away. A
// higher class running or waking there closes it, idle opens it; with an
// ext task it is open only while dispatching or for SCX_ENQ_PREEMPT.
func (x *Ext) rqIsOpen(r *rqState, enqFlags uint64) bool {
	nc := r.rq.NextClass()
	if x.core.ClassAbove(nc, x) {
		return false
	}
	if x.core.ClassAbove(x, nc) {
		return true
	}
	if r.inDispatch {
		return true
	}
	return enqFlags&EnqPreempt != 0
}

// scheduleReenqLocal mirrors scx_schedule_reenq_local().
func (x *Ext) scheduleReenqLocal(r *rqState, flags uint64) {
	if x.root == nil || x.root.Bypassing() {
		return
	}
	r.reenqLocalFlags |= flags | reenqScheduled
	x.scheduleDeferred(r)
}

// ordNext hands out insertion order numbers for equal-vtime FIFO order.
func (d *DSQ) ordNext() uint64 {
	d.ord++
	return d.ord
}

// applySliceVtime mirrors apply_slice_vtime().
func applySliceVtime(e *entity, slice, vtime, enqFlags uint64) {
	if slice != 0 {
		e.Slice = slice
	} else if e.Slice == 0 {
		e.Slice = 1
	}
	if enqFlags&enqDSQPriq != 0 {
		e.DsqVtime = vtime
	}
}

// rqOwnedPostEnq mirrors rq_owned_post_enq() for a local DSQ.
func (x *Ext) rqOwnedPostEnq(sch *Sched, r *rqState, dsq *DSQ, p *Task, enqFlags uint64) {
	x.callTaskDequeue(sch, r, p, 0)
	rq := r.rq
	curr := rq.Curr()
	if x.core.ClassAbove(p.Class(), rq.NextClass()) {
		x.core.WakeupPreempt(rq, p, 0)
	}
	if r.inDispatch {
		return
	}
	if enqFlags&EnqPreempt != 0 && p != curr && curr.Class() == sched.Class(x) {
		ent(curr).Slice = 0
		x.core.ReschedCurr(rq)
	}
}

// unlinkFromDSQ mirrors scx_task_unlink_from_dsq().
func unlinkFromDSQ(e *entity, dsq *DSQ) {
	if e.onPriq {
		dsq.priq.remove(&e.pn)
		e.onPriq = false
	}
	listDel(e)
	dsq.nr--
	if e.flags&taskImmed != 0 && dsq.isLocal() && dsq.owner != nil {
		dsq.owner.nrImmed--
	}
}

// dispatchDequeue mirrors scx_dispatch_dequeue().
func (x *Ext) dispatchDequeue(r *rqState, p *Task) {
	e := ent(p)
	dsq := e.dsq
	if dsq == nil {
		x.cancelDeferred(r, e)
		e.holdingCPU = -1
		return
	}
	if e.holdingCPU < 0 {
		unlinkFromDSQ(e, dsq)
	} else {
		e.holdingCPU = -1
	}
	e.dsq = nil
}

func (x *Ext) cancelDeferred(r *rqState, e *entity) {
	for i, q := range r.ddspDeferred {
		if q == e {
			r.ddspDeferred = append(r.ddspDeferred[:i], r.ddspDeferred[i+1:]...)
			return
		}
	}
}

// findDSQForDispatch mirrors find_dsq_for_dispatch().
func (x *Ext) findDSQForDispatch(sch *Sched, r *rqState, id uint64, tcpu int) *DSQ {
	if id == DSQLocal {
		return r.local
	}
	if id&DSQLocalOn == DSQLocalOn {
		cpu := x.cpuRet(sch, int32(uint32(id&DSQLocalCPUMask)))
		if !x.cpuValid(sch, cpu, "in SCX_DSQ_LOCAL_ON dispatch verdict") {
			return sch.globalDSQ(tcpu)
		}
		return x.rqs[cpu].local
	}
	var dsq *DSQ
	if id == DSQGlobal {
		dsq = sch.globalDSQ(tcpu)
	} else {
		dsq = sch.userDs[id]
	}
	if dsq == nil {
		x.scxError(sch, "non-existent DSQ 0x%x", id)
		return sch.globalDSQ(tcpu)
	}
	return dsq
}

// --- enqueue path --------------------------------------------------------

// markDirectDispatch mirrors mark_direct_dispatch().
func (x *Ext) markDirectDispatch(sch *Sched, p *Task, dsqID, slice, vtime, enqFlags uint64) {
	ddsp := x.ddspTask
	spoiled := x.ddspSpoiled
	x.ddspSpoiled = true
	if p != ddsp || spoiled {
		if spoiled {
			x.scxError(sch, "%s[%d] already direct-dispatched", p.Comm, p.PID)
		} else {
			x.scxError(sch, "scheduling for %s[%d] but trying to direct-dispatch %s[%d]",
				ddsp.Comm, ddsp.PID, p.Comm, p.PID)
		}
		return
	}
	e := ent(p)
	e.ddspSlice, e.ddspVtime, e.ddspDsqID, e.ddspEnqFlags = slice, vtime, dsqID, enqFlags
}

func clearDirectDispatch(e *entity) {
	e.ddspDsqID = DSQInvalid
	e.ddspEnqFlags = 0
}

// directDispatch mirrors direct_dispatch().
func (x *Ext) directDispatch(sch *Sched, r *rqState, p *Task, enqFlags uint64) {
	e := ent(p)
	dsq := x.findDSQForDispatch(sch, r, e.ddspDsqID, p.CPU())
	e.ddspEnqFlags |= enqFlags
	if dsq.isLocal() && dsq != r.local {
		e.opsState = uint64(OpssNone)
		r.ddspDeferred = append(r.ddspDeferred, e)
		x.scheduleDeferred(r)
		return
	}
	fl, slice, vtime := e.ddspEnqFlags, e.ddspSlice, e.ddspVtime
	clearDirectDispatch(e)
	x.dispatchEnqueue(sch, r, dsq, p, slice, vtime, fl|enqApplySlice|enqClearOpss)
}

// scheduleDeferred arranges run_deferred() on r: right after the current
// scheduling operation, as the balance callback / irq_work does.
func (x *Ext) scheduleDeferred(r *rqState) {
	if r.reenqPending {
		return
	}
	r.reenqPending = true
	x.host.ArmTimer(x.now(), func() {
		r.reenqPending = false
		x.runDeferred(r)
	})
}

// runDeferred mirrors run_deferred().
func (x *Ext) runDeferred(r *rqState) {
	for len(r.ddspDeferred) > 0 {
		e := r.ddspDeferred[0]
		r.ddspDeferred = r.ddspDeferred[1:]
		p := e.p
		sch := e.sch
		if sch == nil || !p.OnRQ() || p.CPU() != r.rq.CPU {
			clearDirectDispatch(e)
			continue
		}
		id, fl, slice, vtime := e.ddspDsqID, e.ddspEnqFlags, e.ddspSlice, e.ddspVtime
		clearDirectDispatch(e)
		dsq := x.findDSQForDispatch(sch, r, id, p.CPU())
		if dsq.isLocal() {
			x.dispatchToLocalDSQ(sch, r, dsq, p, slice, vtime, fl)
		}
	}
	if r.reenqLocalFlags != 0 && x.root != nil {
		fl := r.reenqLocalFlags &^ reenqScheduled
		r.reenqLocalFlags = 0
		x.reenqLocal(x.root, r, fl)
	}
}

// doEnqueueTask mirrors scx_do_enqueue_task().
func (x *Ext) doEnqueueTask(r *rqState, p *Task, enqFlags uint64, sticky int) {
	e := ent(p)
	sch := e.sch
	rq := r.rq
	var dsq *DSQ
	if sticky == rq.CPU {
		x.dispatchEnqueue(sch, r, r.local, p, 0, 0, enqFlags)
		return
	}
	e.flags &^= taskImmed
	if enqFlags&EnqReenq != 0 {
		e.reenqCnt++
		if e.reenqCnt > 1 {
			sch.events.ReenqRepeat++
		}
		if e.reenqCnt > 256 {
			x.scxExit(sch, ExitErrorReenq, 0, rq.CPU, "%s[%d] reenqueued %d times without running",
				p.Comm, p.PID, e.reenqCnt)
			return
		}
	}
	switch {
	case !x.rqOnline(r):
		dsq = r.local
	case sch.Bypassing():
		sch.events.BypassDispatch++
		dsq = sch.bypass[p.CPU()]
	case e.ddspDsqID != DSQInvalid:
		x.directDispatch(sch, r, p, enqFlags)
		return
	case sch.ops.Flags&OpsEnqExiting == 0 && p.Exiting:
		sch.events.EnqSkipExiting++
		dsq = r.local
	case sch.ops.Flags&OpsEnqMigrationDisabled == 0 && p.MigrationDisabled():
		sch.events.EnqSkipMigrationDisabled++
		dsq = r.local
	case !sch.has(opEnqueue):
		dsq = sch.globalDSQ(p.CPU())
	default:
		qseq := r.opsQseq << opssQseqShift
		r.opsQseq++
		e.opsState = uint64(OpssQueueing) | qseq
		x.ddspTask, x.ddspSpoiled = p, false
		x.call(sch, opEnqueue, rq, p, nil, func() { sch.ops.Enqueue(p, enqFlags) })
		x.ddspTask, x.ddspSpoiled = nil, false
		if e.ddspDsqID != DSQInvalid {
			x.directDispatch(sch, r, p, enqFlags)
			return
		}
		e.flags |= taskInCustody
		e.opsState = uint64(OpssQueued) | qseq
		return
	}
	// refill_task_slice_dfl()
	e.Slice = sch.sliceDfl
	sch.events.RefillSliceDfl++
	clearDirectDispatch(e)
	x.dispatchEnqueue(sch, r, dsq, p, 0, 0, enqFlags)
}

// callTaskDequeue mirrors call_task_dequeue(): ops.dequeue() when p
// leaves the scheduler's custody.
func (x *Ext) callTaskDequeue(sch *Sched, r *rqState, p *Task, deqFlags uint64) {
	e := ent(p)
	if e.flags&taskInCustody == 0 || e.stickyCPU >= 0 {
		return
	}
	if sch.has(opDequeue) {
		var rq *sched.RQ
		if r != nil {
			rq = r.rq
		}
		x.call(sch, opDequeue, rq, p, nil, func() { sch.ops.Dequeue(p, deqFlags) })
	}
	e.flags &^= taskInCustody
}

// Enqueue mirrors enqueue_task_scx().
func (x *Ext) Enqueue(rq *sched.RQ, p *Task, coreFlags int) {
	r := rs(rq)
	e := ent(p)
	sch := e.sch
	if sch == nil {
		sch = x.root
		e.sch = sch
	}
	sticky := e.stickyCPU
	enqFlags := uint64(coreFlags)
	if r.remoteEnq != 0 {
		enqFlags |= r.remoteEnq
	}
	if coreFlags&sched.EnqueueWakeup != 0 {
		r.inWakeup = true
	}
	if coreFlags&sched.EnqueueRestore != 0 && rq.Curr() == p {
		sticky = rq.CPU
	}
	defer func() { r.inWakeup = false }()
	if e.flags&TaskQueued != 0 {
		return
	}
	x.setTaskRunnable(r, e)
	e.flags |= TaskQueued
	r.nrRunning++
	if sch.has(opRunnable) && !p.Migrating() && e.stickyCPU < 0 {
		x.call(sch, opRunnable, rq, p, nil, func() { sch.ops.Runnable(p, enqFlags) })
	}
	x.doEnqueueTask(r, p, enqFlags, sticky)
	if sticky >= 0 {
		e.stickyCPU = -1
	}
	if enqFlags&EnqCPUSelected != 0 && rq.CPU != e.selectedCPU {
		sch.events.SelectCPUFallback++
	}
}

// opsDequeue mirrors ops_dequeue().
func (x *Ext) opsDequeue(r *rqState, p *Task, deqFlags uint64) {
	e := ent(p)
	clrTaskRunnable(e, false)
	if OpsState(e.opsState)&opssStateMask == OpssQueued {
		e.opsState = uint64(OpssNone)
	}
	x.callTaskDequeue(e.sch, r, p, deqFlags)
}

// Dequeue mirrors dequeue_task_scx().
func (x *Ext) Dequeue(rq *sched.RQ, p *Task, coreFlags int) {
	r := rs(rq)
	e := ent(p)
	sch := e.sch
	deqFlags := uint64(coreFlags)
	if deqFlags&(DeqSleep|DeqCoreSchedExec) == 0 {
		deqFlags |= DeqSchedChange
	}
	if e.flags&TaskQueued == 0 {
		return
	}
	x.opsDequeue(r, p, deqFlags)
	if rq.Curr() == p && sch.has(opStopping) {
		x.UpdateCurr(rq)
		x.call(sch, opStopping, rq, p, nil, func() { sch.ops.Stopping(p, false) })
	}
	if sch.has(opQuiescent) && !p.Migrating() && e.stickyCPU < 0 {
		x.call(sch, opQuiescent, rq, p, nil, func() { sch.ops.Quiescent(p, deqFlags) })
	}
	if deqFlags&DeqSleep != 0 {
		e.flags |= TaskDeqdForSleep
	} else {
		e.flags &^= TaskDeqdForSleep
	}
	e.flags &^= TaskQueued
	r.nrRunning--
	x.dispatchDequeue(r, p)
	clearDirectDispatch(e)
}

// Yield mirrors yield_task_scx().
func (x *Ext) Yield(rq *sched.RQ) {
	p := rq.Curr()
	sch := taskSched(p)
	if sch.has(opYield) {
		x.call(sch, opYield, rq, p, nil, func() { sch.ops.Yield(p, nil) })
	} else {
		ent(p).Slice = 0
	}
}

// YieldTo mirrors yield_to_task_scx().
func (x *Ext) YieldTo(rq *sched.RQ, to *Task) bool {
	from := rq.Curr()
	sch := taskSched(from)
	if !sch.has(opYield) || sch != taskSched(to) {
		return false
	}
	var ok bool
	x.call(sch, opYield, rq, from, to, func() { ok = sch.ops.Yield(from, to) })
	return ok
}

// WakeupPreempt mirrors wakeup_preempt_scx(): preemption between ext tasks
// goes through slices and kicks; nothing to do.
func (x *Ext) WakeupPreempt(rq *sched.RQ, p *Task, wf int) {
	if p.Class() == sched.Class(x) {
		return
	}
	if r := rs(rq); r.nrImmed > 0 {
		x.scheduleReenqLocal(r, 0)
	}
}

// --- moving tasks between DSQs ------------------------------------------------

// taskCanRunOnRemoteRQ mirrors task_can_run_on_remote_rq().
func (x *Ext) taskCanRunOnRemoteRQ(sch *Sched, p *Task, r *rqState, enforce bool) bool {
	cpu := r.rq.CPU
	if p.MigrationDisabled() {
		if enforce {
			x.scxError(sch, "SCX_DSQ_LOCAL[_ON] cannot move migration disabled %s[%d] from CPU %d to %d",
				p.Comm, p.PID, p.CPU(), cpu)
		}
		return false
	}
	if !p.Allowed(cpu) {
		if enforce {
			x.scxError(sch, "SCX_DSQ_LOCAL[_ON] target CPU %d not allowed for %s[%d]", cpu, p.Comm, p.PID)
		}
		return false
	}
	if !x.rqOnline(r) {
		if enforce {
			sch.events.DispatchLocalDSQOffline++
		}
		return false
	}
	return true
}

// moveLocalTaskToLocalDSQ mirrors scx_move_local_task_to_local_dsq().
func (x *Ext) moveLocalTaskToLocalDSQ(sch *Sched, p *Task, enqFlags uint64, dst *rqState) {
	e := ent(p)
	d := dst.local
	if enqFlags&(EnqHead|EnqPreempt) != 0 {
		listInsertAfter(&d.head, e)
	} else {
		listInsertAfter(d.head.prev, e)
	}
	x.dsqIncNr(d, e, enqFlags)
	e.dsq = d
	x.rqOwnedPostEnq(sch, dst, d, p, enqFlags)
}

// moveRemoteTaskToLocalDSQ mirrors move_remote_task_to_local_dsq().
func (x *Ext) moveRemoteTaskToLocalDSQ(sch *Sched, p *Task, enqFlags uint64, dst *rqState) {
	e := ent(p)
	e.stickyCPU = dst.rq.CPU
	dst.remoteEnq = enqFlags
	x.core.MoveQueuedTask(p, dst.rq.CPU)
	dst.remoteEnq = 0
}

// moveTaskBetweenDSQs mirrors move_task_between_dsqs().
func (x *Ext) moveTaskBetweenDSQs(sch *Sched, p *Task, enqFlags uint64, src, dst *DSQ) {
	srcR := x.rqs[p.CPU()]
	dstR := srcR
	if dst.isLocal() {
		dstR = x.rqs[dst.cpu]
		if srcR != dstR && !x.taskCanRunOnRemoteRQ(sch, p, dstR, true) {
			dst = sch.globalDSQ(p.CPU())
			dstR = srcR
			enqFlags |= enqGDSQFallbk
		}
	}
	e := ent(p)
	if dst.isLocal() {
		unlinkFromDSQ(e, src)
		e.dsq = nil
		if srcR == dstR {
			x.moveLocalTaskToLocalDSQ(sch, p, enqFlags, dstR)
		} else {
			x.moveRemoteTaskToLocalDSQ(sch, p, enqFlags, dstR)
		}
		return
	}
	unlinkFromDSQ(e, src)
	e.dsq = nil
	x.dispatchEnqueue(sch, dstR, dst, p, 0, 0, enqFlags)
}

// consumeDispatchQ mirrors scx_consume_dispatch_q(): move the first task
// that can run on r from dsq to r's local DSQ.
func (x *Ext) consumeDispatchQ(sch *Sched, r *rqState, dsq *DSQ, enqFlags uint64) bool {
	for e := dsq.first(); e != nil; e = dsq.next(e, false) {
		if e.p == nil {
			continue
		}
		if sch.aborting && dsq.ID != DSQBypass {
			break
		}
		p := e.p
		if p.CPU() == r.rq.CPU {
			unlinkFromDSQ(e, dsq)
			e.dsq = nil
			x.moveLocalTaskToLocalDSQ(sch, p, enqFlags, r)
			return true
		}
		if x.taskCanRunOnRemoteRQ(sch, p, r, false) {
			unlinkFromDSQ(e, dsq)
			e.dsq = nil
			x.moveRemoteTaskToLocalDSQ(sch, p, enqFlags, r)
			return true
		}
	}
	return false
}

// dispatchToLocalDSQ mirrors dispatch_to_local_dsq().
func (x *Ext) dispatchToLocalDSQ(sch *Sched, r *rqState, dst *DSQ, p *Task, slice, vtime, enqFlags uint64) {
	srcR := x.rqs[p.CPU()]
	dstR := x.rqs[dst.cpu]
	e := ent(p)
	if r == srcR && r == dstR {
		x.dispatchEnqueue(sch, r, dst, p, slice, vtime, enqFlags|enqApplySlice|enqClearOpss)
		return
	}
	e.opsState = uint64(OpssNone)
	fallback := false
	switch {
	case srcR == dstR:
		x.dispatchEnqueue(sch, dstR, dstR.local, p, slice, vtime, enqFlags|enqApplySlice)
	case !x.taskCanRunOnRemoteRQ(sch, p, dstR, true):
		fallback = true
		x.dispatchEnqueue(sch, srcR, sch.globalDSQ(p.CPU()), p, slice, vtime, enqFlags|enqApplySlice|enqGDSQFallbk)
	default:
		applySliceVtime(e, slice, vtime, enqFlags)
		x.moveRemoteTaskToLocalDSQ(sch, p, enqFlags, dstR)
	}
	if !fallback && x.core.ClassAbove(p.Class(), dstR.rq.Curr().Class()) {
		x.core.ReschedCurr(dstR.rq)
	}
}

// finishDispatch mirrors finish_dispatch().
func (x *Ext) finishDispatch(sch *Sched, r *rqState, ent0 dspEnt) {
	p := ent0.p
	e := ent(p)
	st := OpsState(e.opsState)
	if st&opssStateMask != OpssQueued {
		return
	}
	if e.opsState&^uint64(opssStateMask) != ent0.qseq {
		return
	}
	if e.sch != sch {
		sch.events.InsertNotOwned++
		return
	}
	e.opsState = uint64(OpssDispatching)
	dsq := x.findDSQForDispatch(sch, r, ent0.dsqID, p.CPU())
	if dsq.isLocal() {
		x.dispatchToLocalDSQ(sch, r, dsq, p, ent0.slice, ent0.vtime, ent0.enqFlag)
	} else {
		x.dispatchEnqueue(sch, r, dsq, p, ent0.slice, ent0.vtime, ent0.enqFlag|enqApplySlice|enqClearOpss)
	}
}

// flushDispatchBuf mirrors scx_flush_dispatch_buf().
func (x *Ext) flushDispatchBuf(sch *Sched, r *rqState) {
	buf := sch.dspBuf
	for i := range buf {
		x.finishDispatch(sch, r, buf[i])
	}
	sch.dspNrTasks += len(buf)
	sch.dspBuf = sch.dspBuf[:0]
}

// dispatch verdicts (enum scx_dsp_verdict).
type dspVerdict int

const (
	dspNone dspVerdict = iota
	dspPrev
	dspLocal
)

// dispatchSched mirrors scx_dispatch_sched(): consume the global DSQ;
// while bypassing only the bypass DSQ; otherwise call ops.dispatch() until
// a task is found, the scheduler dispatches nothing, or SCX_DSP_MAX_LOOPS
// rounds passed (then the CPU is kicked to go around again).
func (x *Ext) dispatchSched(sch *Sched, r *rqState, prev *Task) dspVerdict {
	rq := r.rq
	prevOnSch := prev.Class() == sched.Class(x) && ent(prev).sch == sch
	if x.consumeDispatchQ(sch, r, sch.globalDSQ(rq.CPU), 0) {
		return dspLocal
	}
	if sch.Bypassing() {
		if x.consumeDispatchQ(sch, r, sch.bypass[rq.CPU], 0) {
			return dspLocal
		}
		return dspNone
	}
	if !sch.has(opDispatch) || !x.rqOnline(r) {
		return dspNone
	}
	var prevArg *Task
	if prevOnSch {
		prevArg = prev
	}
	loops := DspMaxLoops
	cpuArg := x.cpuArg(rq.CPU)
	for {
		sch.dspNrTasks = 0
		sch.dspRQ = rq
		x.call(sch, opDispatch, rq, prevArg, nil, func() { sch.ops.Dispatch(cpuArg, prevArg) })
		x.flushDispatchBuf(sch, r)
		sch.dspRQ = nil
		if pe, ok := prev.Ext.(*entity); ok && pe.flags&TaskQueued != 0 && pe.Slice != 0 && prevOnSch {
			return dspPrev
		}
		if r.local.nr > 0 {
			return dspLocal
		}
		if x.consumeDispatchQ(sch, r, sch.globalDSQ(rq.CPU), 0) {
			return dspLocal
		}
		loops--
		if loops == 0 {
			x.kickCPU(sch, rq.CPU, 0)
			break
		}
		if sch.dspNrTasks == 0 {
			break
		}
	}
	return dspNone
}

// dispatchOne mirrors dispatch_one().
func (x *Ext) dispatchOne(r *rqState, prev *Task) dspVerdict {
	sch := x.root
	rq := r.rq
	r.inDispatch = true
	defer func() { r.inDispatch = false }()
	if sch.ops.Flags&OpsHasCPUPreempt != 0 && r.cpuReleased {
		if sch.ops.CPUAcquire != nil {
			x.call(sch, opCPUAcquire, rq, nil, nil, func() { sch.ops.CPUAcquire(int32(rq.CPU)) })
		}
		r.cpuReleased = false
	}
	prevQueued := false
	if prev.Class() == sched.Class(x) {
		x.UpdateCurr(rq)
		pe := ent(prev)
		prevQueued = pe.flags&TaskQueued != 0
		if prevQueued && pe.Slice != 0 && !sch.Bypassing() {
			return dspPrev
		}
	}
	if r.local.nr > 0 {
		return dspLocal
	}
	if v := x.dispatchSched(sch, r, prev); v != dspNone {
		return v
	}
	if prevQueued && (sch.ops.Flags&OpsEnqLast == 0 || sch.Bypassing()) {
		sch.events.DispatchKeepLast++
		return dspPrev
	}
	return dspNone
}

// Balance: this kernel dispatches from pick_task_scx(); nothing here.
func (x *Ext) Balance(rq *sched.RQ, prev *Task) bool { return false }

// PickTask mirrors do_pick_task_scx().
func (x *Ext) PickTask(rq *sched.RQ) *Task {
	if x.root == nil {
		return nil
	}
	r := rs(rq)
	r.kickSync++
	prev := rq.Curr()
	v := x.dispatchOne(r, prev)
	var p *Task
	if v == dspPrev {
		p = prev
		if e := ent(p); e.Slice == 0 {
			e.Slice = e.sch.sliceDfl
			e.sch.events.RefillSliceDfl++
		}
	} else {
		e := r.local.first()
		if e == nil {
			return nil
		}
		p = e.p
		if e.Slice == 0 {
			sch := e.sch
			if !sch.Bypassing() && !sch.warnedZeroSlice {
				x.logf("sched_ext: %s[%d] has zero slice in %s()", p.Comm, p.PID, "do_pick_task_scx")
				sch.warnedZeroSlice = true
			}
			e.Slice = sch.sliceDfl
			sch.events.RefillSliceDfl++
		}
	}
	return p
}

// SetNext mirrors set_next_task_scx().
func (x *Ext) SetNext(rq *sched.RQ, p *Task, first bool) {
	r := rs(rq)
	e := ent(p)
	sch := e.sch
	if e.flags&TaskQueued != 0 {
		x.opsDequeue(r, p, DeqCoreSchedExec)
		x.dispatchDequeue(r, p)
	}
	p.SetExecStart(rq.Clock())
	if sch.has(opRunning) && e.flags&TaskQueued != 0 {
		x.call(sch, opRunning, rq, p, nil, func() { sch.ops.Running(p) })
	}
	clrTaskRunnable(e, true)
}

// PutPrev mirrors put_prev_task_scx().
func (x *Ext) PutPrev(rq *sched.RQ, p *Task, next *Task) {
	r := rs(rq)
	e := ent(p)
	sch := e.sch
	r.kickSync++
	x.UpdateCurr(rq)
	if sch.has(opStopping) && e.flags&TaskQueued != 0 {
		x.call(sch, opStopping, rq, p, nil, func() { sch.ops.Stopping(p, true) })
	}
	if e.flags&TaskQueued != 0 {
		x.setTaskRunnable(r, e)
		switch {
		case e.Slice != 0 && !sch.Bypassing() && e.flags&taskImmed != 0:
			x.reenqueueTask(r, p, TaskReenqPreempted)
		case e.Slice != 0 && !sch.Bypassing():
			x.dispatchEnqueue(sch, r, r.local, p, 0, 0, EnqHead)
		case next != nil && x.core.ClassAbove(x, next.Class()):
			x.doEnqueueTask(r, p, EnqLast, -1)
		default:
			x.doEnqueueTask(r, p, 0, -1)
		}
	}
	if next != nil && next.Class() != sched.Class(x) {
		x.SwitchClass(rq, next)
	}
}

// SelectTaskRQ mirrors select_task_rq_scx().
func (x *Ext) SelectTaskRQ(p *Task, prevCPU int, wf int) int {
	sch := taskSched(p)
	if wf&sched.WFExec != 0 {
		return prevCPU
	}
	e := ent(p)
	if sch.has(opSelectCPU) && !sch.Bypassing() {
		x.ddspTask, x.ddspSpoiled = p, false
		var ret int32
		arg := x.cpuArg(prevCPU)
		this := x.core.WakerCPU()
		if this < 0 {
			this = prevCPU
		}
		x.callOn(sch, opSelectCPU, nil, this, p, nil, func() { ret = sch.ops.SelectCPU(p, arg, uint64(wf)) })
		x.ddspTask, x.ddspSpoiled = nil, false
		cpu := x.cpuRet(sch, ret)
		e.selectedCPU = cpu
		if x.cpuValid(sch, cpu, "from ops.select_cpu()") {
			return cpu
		}
		return prevCPU
	}
	if sch.Bypassing() {
		sch.events.BypassDispatch++
		e.selectedCPU = prevCPU
		return prevCPU
	}
	cpu := x.selectCPUDfl(p, prevCPU, uint64(wf), nil, 0)
	if cpu >= 0 {
		sch.events.RefillSliceDfl++
		e.ddspSlice = sch.sliceDfl
		e.ddspEnqFlags = 0
		e.ddspDsqID = DSQLocal
	} else {
		cpu = prevCPU
	}
	e.selectedCPU = cpu
	return cpu
}

// UpdateCurr mirrors update_curr_scx().
func (x *Ext) UpdateCurr(rq *sched.RQ) {
	curr := rq.Curr()
	if curr.Class() != sched.Class(x) {
		return
	}
	d := rq.ChargeCurr(curr)
	if d == 0 {
		return
	}
	e := ent(curr)
	if e.Slice != SliceInf {
		e.Slice -= min(e.Slice, d)
	}
}

// TaskTick mirrors task_tick_scx().
func (x *Ext) TaskTick(rq *sched.RQ, curr *Task) {
	sch := taskSched(curr)
	x.UpdateCurr(rq)
	e := ent(curr)
	if sch.Bypassing() {
		e.Slice = 0
	} else if sch.has(opTick) {
		x.call(sch, opTick, rq, curr, nil, func() { sch.ops.Tick(curr) })
	}
	if e.Slice == 0 {
		x.core.ReschedCurr(rq)
	}
}

// TaskFork: the ext entity is set up by Fork.
func (x *Ext) TaskFork(p *Task) { ent(p) }

// TaskDead: sched_ext_dead() (Dead) does the work.
func (x *Ext) TaskDead(p *Task) {}

// SwitchingTo mirrors switching_to_scx().
func (x *Ext) SwitchingTo(rq *sched.RQ, p *Task) {
	e := ent(p)
	sch := e.sch
	if sch == nil || e.State() != TaskReady {
		return
	}
	x.enableTask(sch, p)
	if sch.has(opSetCPUMask) {
		x.callSetCPUMask(sch, rq, p, p.CPUsAllowed())
	}
}

// SwitchedFrom mirrors switched_from_scx().
func (x *Ext) SwitchedFrom(rq *sched.RQ, p *Task) {
	e := ent(p)
	if e.State() != TaskEnabled {
		return
	}
	x.disableTask(e.sch, p)
}

// SwitchedTo mirrors switched_to_scx().
func (x *Ext) SwitchedTo(rq *sched.RQ, p *Task) {}

// Reweight mirrors reweight_task_scx().
func (x *Ext) Reweight(rq *sched.RQ, p *Task, old uint32) {
	e := ent(p)
	if e.State() != TaskEnabled {
		return
	}
	e.Weight = weightToCgroup(p.Weight())
	if sch := e.sch; sch.has(opSetWeight) {
		w := e.Weight
		x.call(sch, opSetWeight, rq, p, nil, func() { sch.ops.SetWeight(p, w) })
	}
}

// SetCPUsAllowed mirrors set_cpus_allowed_scx().
func (x *Ext) SetCPUsAllowed(p *Task, mask topo.CPUMask) {
	x.core.SetCPUsAllowedCommon(p, mask)
	e := ent(p)
	if e.sch == nil || p.State() == sched.Dead {
		return
	}
	if e.sch.has(opSetCPUMask) {
		x.callSetCPUMask(e.sch, x.core.RQ(p.CPU()), p, p.CPUsAllowed())
	}
}

// callSetCPUMask mirrors scx_call_op_set_cpumask(): cid-form schedulers
// get the affinity as a cmask built in the CPU's arena scratch.
func (x *Ext) callSetCPUMask(sch *Sched, rq *sched.RQ, p *Task, cpus topo.CPUMask) {
	if sch.form != FormCid {
		x.call(sch, opSetCPUMask, rq, p, nil, func() { sch.ops.SetCPUMask(p, cpus) })
		return
	}
	cpu := x.curCPU()
	if rq != nil {
		cpu = rq.CPU
	}
	arg, ok := x.buildCmaskArg(sch, cpu, cpus)
	if !ok {
		return
	}
	x.call(sch, opSetCPUMask, rq, p, nil, func() { sch.ops.SetCmask(p, arg) })
}

// MigrateTaskRQ: nothing for ext.
func (x *Ext) MigrateTaskRQ(p *Task, newCPU int) {}
