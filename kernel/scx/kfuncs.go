package scx

import (
	"strings"
	"syscall"

	"github.com/scxsim/scxsim/kernel/cmask"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/topo"
)

// The scx_bpf_* kfuncs. Each checks its calling context as the kernel's
// kfunc filter does (see kfAllowed) and reports misuse as a scheduler
// error in the kernel's words. Arguments that are cpus in cpu-form are
// cpus here; the cid variants take cids.

// sched is the scheduler kfuncs act for: scx_root.
func (x *Ext) sched() *Sched { return x.root }

// DsqInsert is scx_bpf_dsq_insert___v2(): insert p into DSQ dsqID with
// slice (0 keeps the current one). From ops.select_cpu()/ops.enqueue() it
// is a direct dispatch of the task being enqueued; from ops.dispatch() it
// goes through the dispatch buffer.
func (x *Ext) DsqInsert(p *Task, dsqID, slice, enqFlags uint64) bool {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfDsqInsert) || !x.insertPreamble(sch, p, dsqID, &enqFlags) {
		return false
	}
	x.insertCommit(sch, p, dsqID, slice, 0, enqFlags)
	return true
}

// DsqInsertVtime is scx_bpf_dsq_insert_vtime(): insert p in vtime order.
func (x *Ext) DsqInsertVtime(p *Task, dsqID, slice, vtime, enqFlags uint64) bool {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfDsqInsertVtime) || !x.insertPreamble(sch, p, dsqID, &enqFlags) {
		return false
	}
	x.insertCommit(sch, p, dsqID, slice, vtime, enqFlags|enqDSQPriq)
	return true
}

// vetEnqFlags mirrors scx_vet_enq_flags(): internal bits are refused,
// SCX_ENQ_IMMED and SCX_ENQ_RESCUE need a local DSQ, and
// SCX_OPS_ALWAYS_ENQ_IMMED adds SCX_ENQ_IMMED to local inserts.
func (x *Ext) vetEnqFlags(sch *Sched, dsqID uint64, enqFlags *uint64) bool {
	local := dsqID == DSQLocal || dsqID&DSQLocalOn == DSQLocalOn
	if *enqFlags&enqInternal != 0 {
		x.scxError(sch, "invalid enq_flags 0x%x", *enqFlags)
		return false
	}
	if *enqFlags&EnqImmed != 0 {
		if !local {
			x.scxError(sch, "SCX_ENQ_IMMED on a non-local DSQ 0x%x", dsqID)
			return false
		}
	} else if sch.ops.Flags&OpsAlwaysEnqImmed != 0 && local {
		*enqFlags |= EnqImmed
	}
	if *enqFlags&EnqRescue != 0 && !local {
		x.scxError(sch, "SCX_ENQ_RESCUE on a non-local DSQ 0x%x", dsqID)
		return false
	}
	return true
}

// insertPreamble mirrors scx_dsq_insert_preamble(): a task of another
// scheduler is ignored (SCX_EV_INSERT_NOT_OWNED).
func (x *Ext) insertPreamble(sch *Sched, p *Task, dsqID uint64, enqFlags *uint64) bool {
	if p == nil {
		x.scxError(sch, "called with NULL task")
		return false
	}
	if ent(p).sch != sch {
		sch.events.InsertNotOwned++
		return false
	}
	return x.vetEnqFlags(sch, dsqID, enqFlags)
}

// insertCommit mirrors scx_dsq_insert_commit().
func (x *Ext) insertCommit(sch *Sched, p *Task, dsqID, slice, vtime, enqFlags uint64) {
	if x.ddspTask != nil {
		x.markDirectDispatch(sch, p, dsqID, slice, vtime, enqFlags)
		return
	}
	if sch.dspRQ == nil {
		x.scxError(sch, "calling kernel function %s is not allowed", kfNames[kfDsqInsert])
		return
	}
	if len(sch.dspBuf) >= sch.dspMaxBatch {
		x.scxError(sch, "dispatch buffer overflow")
		return
	}
	e := ent(p)
	sch.dspBuf = append(sch.dspBuf, dspEnt{p: p, qseq: e.opsState &^ uint64(opssStateMask),
		dsqID: dsqID, slice: slice, vtime: vtime, enqFlag: enqFlags})
}

// DispatchNrSlots is scx_bpf_dispatch_nr_slots().
func (x *Ext) DispatchNrSlots() uint32 {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfDispatchNrSlots) {
		return 0
	}
	return uint32(sch.dspMaxBatch - len(sch.dspBuf))
}

// DispatchCancel is scx_bpf_dispatch_cancel().
func (x *Ext) DispatchCancel() {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfDispatchCancel) {
		return
	}
	if len(sch.dspBuf) > 0 {
		sch.dspBuf = sch.dspBuf[:len(sch.dspBuf)-1]
	} else {
		x.scxError(sch, "dispatch buffer underflow")
	}
}

// findUserDSQ mirrors find_user_dsq().
func (s *Sched) findUserDSQ(id uint64) *DSQ { return s.userDs[id] }

// DsqMoveToLocal is scx_bpf_dsq_move_to_local___v2(): move the first task
// of user DSQ dsqID that can run here to this CPU's local DSQ.
func (x *Ext) DsqMoveToLocal(dsqID, enqFlags uint64) bool {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfDsqMoveToLocal) || sch.dspRQ == nil {
		return false
	}
	if !x.vetEnqFlags(sch, DSQLocal, &enqFlags) {
		return false
	}
	r := rs(sch.dspRQ)
	x.flushDispatchBuf(sch, r)
	dsq := sch.findUserDSQ(dsqID)
	if dsq == nil {
		x.scxError(sch, "invalid DSQ ID 0x%016x", dsqID)
		return false
	}
	if x.consumeDispatchQ(sch, r, dsq, enqFlags) {
		sch.dspNrTasks++
		return true
	}
	return false
}

// CreateDSQ is scx_bpf_create_dsq(): 0, -EINVAL or -EEXIST.
func (x *Ext) CreateDSQ(dsqID uint64, node int32) int32 {
	sch := x.sched()
	if sch != nil && !x.kfAllowed(sch, kfCreateDsq) {
		return -int32(syscall.EINVAL)
	}
	if int(node) >= max(x.m.NrNodeIDs(), 1) || (node < 0 && node != -1) {
		return -int32(syscall.EINVAL)
	}
	if dsqID&DSQFlagBuiltin != 0 {
		return -int32(syscall.EINVAL)
	}
	if sch == nil {
		return -int32(syscall.ENODEV)
	}
	if _, ok := sch.userDs[dsqID]; ok {
		return -int32(syscall.EEXIST)
	}
	n := int(node)
	if n < 0 {
		n = 0
	}
	sch.userDs[dsqID] = newDSQ(dsqID, sch, -1, n)
	return 0
}

// DestroyDSQ is scx_bpf_destroy_dsq().
func (x *Ext) DestroyDSQ(dsqID uint64) {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfDestroyDsq) {
		return
	}
	dsq := sch.userDs[dsqID]
	if dsq == nil {
		return
	}
	if dsq.nr > 0 {
		x.scxError(sch, "attempting to destroy in-use dsq 0x%016x (nr=%d)", dsq.ID, dsq.nr)
		return
	}
	delete(sch.userDs, dsqID)
	dsq.destroyed = true
	dsq.ID = DSQInvalid
}

// DsqNrQueued is scx_bpf_dsq_nr_queued(): the number of tasks on a DSQ,
// -ENOENT if there is no such DSQ.
func (x *Ext) DsqNrQueued(dsqID uint64) int32 {
	sch := x.sched()
	if sch == nil {
		return -int32(syscall.ENODEV)
	}
	if !x.kfAllowed(sch, kfDsqNrQueued) {
		return -int32(syscall.ENOENT)
	}
	switch {
	case dsqID == DSQLocal:
		return int32(x.rqs[x.curCPU()].local.nr)
	case dsqID&DSQLocalOn == DSQLocalOn:
		cpu := x.cpuRet(sch, int32(uint32(dsqID&DSQLocalCPUMask)))
		if x.cpuValid(sch, cpu, "") {
			return int32(x.rqs[cpu].local.nr)
		}
	default:
		if d := sch.findUserDSQ(dsqID); d != nil {
			return int32(d.nr)
		}
	}
	return -int32(syscall.ENOENT)
}

// DsqPeek is scx_bpf_dsq_peek(): the first task of a user DSQ.
func (x *Ext) DsqPeek(dsqID uint64) *Task {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfDsqPeek) {
		return nil
	}
	if dsqID&DSQFlagBuiltin != 0 {
		x.scxError(sch, "peek disallowed on builtin DSQ 0x%x", dsqID)
		return nil
	}
	d := sch.findUserDSQ(dsqID)
	if d == nil {
		x.scxError(sch, "peek on non-existent DSQ 0x%x", dsqID)
		return nil
	}
	if e := d.first(); e != nil {
		return e.p
	}
	return nil
}

// DSQIter is struct bpf_iter_scx_dsq: a cursor walking a user DSQ in
// dispatch (or reverse) order, seeing only tasks queued before it started.
type DSQIter struct {
	x        *Ext
	dsq      *DSQ
	cursor   entity
	linked   bool
	snap     uint32
	rev      bool
	slice    uint64
	vtime    uint64
	hasSlice bool
	hasVtime bool
}

// IterNew is bpf_iter_scx_dsq_new(): 0, -EINVAL for bad flags, -ENOENT for
// an unknown DSQ.
func (x *Ext) IterNew(it *DSQIter, dsqID, flags uint64) int32 {
	*it = DSQIter{x: x}
	sch := x.sched()
	if sch == nil {
		return -int32(syscall.ENODEV)
	}
	if !x.kfAllowed(sch, kfIterNew) {
		return -int32(syscall.EINVAL)
	}
	if flags&^DSQIterRev != 0 {
		return -int32(syscall.EINVAL)
	}
	d := sch.findUserDSQ(dsqID)
	if d == nil {
		return -int32(syscall.ENOENT)
	}
	it.dsq, it.snap, it.rev = d, d.seq, flags&DSQIterRev != 0
	return 0
}

// Next is bpf_iter_scx_dsq_next() (nldsq_cursor_next_task()).
func (it *DSQIter) Next() *Task {
	d := it.dsq
	if d == nil || d.destroyed {
		return nil
	}
	pos := &d.head
	if it.linked {
		pos = &it.cursor
	}
	var found *entity
	for e := pos; ; {
		if it.rev {
			e = e.prev
		} else {
			e = e.next
		}
		if e == &d.head {
			break
		}
		if e.p == nil || int32(it.snap-e.dsqSeq) < 0 {
			continue
		}
		found = e
		break
	}
	if it.linked {
		listDel(&it.cursor)
		it.linked = false
	}
	if found == nil {
		return nil
	}
	if it.rev {
		listInsertAfter(found.prev, &it.cursor)
	} else {
		listInsertAfter(found, &it.cursor)
	}
	it.linked = true
	return found.p
}

// Destroy is bpf_iter_scx_dsq_destroy().
func (it *DSQIter) Destroy() {
	if it.linked {
		listDel(&it.cursor)
		it.linked = false
	}
	it.dsq = nil
}

// DsqMoveSetSlice is scx_bpf_dsq_move_set_slice().
func (x *Ext) DsqMoveSetSlice(it *DSQIter, slice uint64) {
	if x.sched() == nil || !x.kfAllowed(x.sched(), kfDsqMoveSetSlice) {
		return
	}
	it.slice, it.hasSlice = slice, true
}

// DsqMoveSetVtime is scx_bpf_dsq_move_set_vtime().
func (x *Ext) DsqMoveSetVtime(it *DSQIter, vtime uint64) {
	if x.sched() == nil || !x.kfAllowed(x.sched(), kfDsqMoveSetVtime) {
		return
	}
	it.vtime, it.hasVtime = vtime, true
}

// DsqMove is scx_bpf_dsq_move(): move p, found by iterator it, to DSQ
// dsqID.
func (x *Ext) DsqMove(it *DSQIter, p *Task, dsqID, enqFlags uint64) bool {
	return x.dsqMove(kfDsqMove, it, p, dsqID, enqFlags)
}

// DsqMoveVtime is scx_bpf_dsq_move_vtime(): DsqMove in vtime order.
func (x *Ext) DsqMoveVtime(it *DSQIter, p *Task, dsqID, enqFlags uint64) bool {
	return x.dsqMove(kfDsqMoveVtime, it, p, dsqID, enqFlags|enqDSQPriq)
}

// dsqMove mirrors scx_dsq_move().
func (x *Ext) dsqMove(id kfID, it *DSQIter, p *Task, dsqID, enqFlags uint64) bool {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, id) || it == nil || it.dsq == nil || p == nil {
		return false
	}
	priq := enqFlags&enqDSQPriq != 0
	enqFlags &^= enqDSQPriq
	if !x.vetEnqFlags(sch, dsqID, &enqFlags) {
		return false
	}
	if priq {
		enqFlags |= enqDSQPriq
	}
	if sch.aborting {
		return false
	}
	e := ent(p)
	if e.sch != sch {
		x.scxError(sch, "scx_bpf_dsq_move[_vtime]() on %s[%d] but the task belongs to a different scheduler",
			p.Comm, p.PID)
		return false
	}
	defer func() { it.hasSlice, it.hasVtime = false, false }()
	src := it.dsq
	if e.dsq != src || int32(it.snap-e.dsqSeq) < 0 || e.holdingCPU >= 0 {
		return false
	}
	r := x.rqs[x.curCPU()]
	if lr := x.lockedRQ(); lr != nil {
		r = rs(lr)
	}
	dst := x.findDSQForDispatch(sch, r, dsqID, p.CPU())
	if it.hasVtime {
		e.DsqVtime = it.vtime
	}
	if it.hasSlice {
		e.Slice = it.slice
	}
	x.moveTaskBetweenDSQs(sch, p, enqFlags, src, dst)
	return true
}

// reenqLocal mirrors reenq_local() + local_task_should_reenq(): take the
// chosen tasks off r's local DSQ and pass them through ops.enqueue() again
// with SCX_ENQ_REENQ. SCX_REENQ_ANY takes every task; an SCX_ENQ_IMMED task
// goes unless it is first and the CPU is open for it.
func (x *Ext) reenqLocal(sch *Sched, r *rqState, flags uint64) uint32 {
	var tasks []*Task
	var reasons []uint32
	open := x.rqIsOpen(r, 0)
	first := true
	for e := r.local.first(); e != nil; e = r.local.next(e, false) {
		isFirst := first
		first = false
		if e.flags&taskImmed != 0 && (!isFirst || !open) {
			sch.events.ReenqImmed++
			tasks = append(tasks, e.p)
			reasons = append(reasons, TaskReenqImmed)
			continue
		}
		if flags&ReenqAny != 0 {
			tasks = append(tasks, e.p)
			reasons = append(reasons, TaskReenqKfunc)
		}
	}
	for _, p := range tasks {
		x.dispatchDequeue(r, p)
	}
	for i, p := range tasks {
		x.reenqueueTask(r, p, reasons[i])
	}
	return uint32(len(tasks))
}

// reenqueueTask passes p back through ops.enqueue() with SCX_ENQ_REENQ,
// the reason in p->scx.flags for the call's duration, as reenq_local(),
// reenq_user() and put_prev_task_scx() do around scx_do_enqueue_task().
func (x *Ext) reenqueueTask(r *rqState, p *Task, reason uint32) {
	e := ent(p)
	e.flags = e.flags&^TaskReenqReasonMask | reason
	x.doEnqueueTask(r, p, EnqReenq, -1)
	e.flags &^= TaskReenqReasonMask
}

// ReenqueueLocal is scx_bpf_reenqueue_local() (ops.cpu_release() only):
// re-enqueue every task on this CPU's local DSQ now; returns the count.
func (x *Ext) ReenqueueLocal() uint32 {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfReenqueueLocal) {
		return 0
	}
	return x.reenqLocal(sch, x.rqs[x.curCPU()], ReenqAny)
}

// ReenqueueLocalV2 is scx_bpf_reenqueue_local___v2(): schedule the
// re-enqueue of this CPU's local DSQ.
func (x *Ext) ReenqueueLocalV2() {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfReenqueueLocalV2) || sch.Bypassing() {
		return
	}
	x.scheduleReenqLocal(x.rqs[x.curCPU()], ReenqAny)
}

// DsqReenq is scx_bpf_dsq_reenq(): schedule re-enqueueing the tasks of a
// local (SCX_DSQ_LOCAL, SCX_DSQ_LOCAL_ON|cpu) or user DSQ.
func (x *Ext) DsqReenq(dsqID, reenqFlags uint64) {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfDsqReenq) {
		return
	}
	if reenqFlags&^ReenqAny != 0 {
		x.scxError(sch, "invalid SCX_REENQ flags 0x%x", reenqFlags)
		return
	}
	if reenqFlags == 0 {
		reenqFlags = ReenqAny
	}
	r := x.rqs[x.curCPU()]
	if lr := x.lockedRQ(); lr != nil {
		r = rs(lr)
	}
	// find_dsq_for_dispatch() + schedule_dsq_reenq()
	d := x.findDSQForDispatch(sch, r, dsqID, x.curCPU())
	if sch.Bypassing() {
		// schedule_dsq_reenq(): no re-enqueues while bypassing.
		return
	}
	switch {
	case d.isLocal():
		x.scheduleReenqLocal(d.owner, reenqFlags)
	case !d.builtin():
		x.host.ArmTimer(x.now(), func() { x.reenqUser(sch, d) })
	default:
		x.scxError(sch, "DSQ 0x%x not allowed for reenq", d.ID)
	}
}

// reenqUser mirrors reenq_user(): every task queued before the walk goes
// back through ops.enqueue().
func (x *Ext) reenqUser(sch *Sched, d *DSQ) {
	if d.destroyed || sch.Bypassing() || x.root != sch {
		return
	}
	snap := d.seq
	var tasks []*Task
	for e := d.first(); e != nil; e = d.next(e, false) {
		if int32(snap-e.dsqSeq) >= 0 {
			tasks = append(tasks, e.p)
		}
	}
	for _, p := range tasks {
		e := ent(p)
		if e.dsq != d {
			continue
		}
		unlinkFromDSQ(e, d)
		e.dsq = nil
		x.reenqueueTask(x.rqs[p.CPU()], p, TaskReenqKfunc)
	}
}

// SelectCPUDfl is scx_bpf_select_cpu_dfl(): the default idle CPU
// selection; isIdle reports whether an idle CPU was found (and claimed).
func (x *Ext) SelectCPUDfl(p *Task, prevCPU int32, wakeFlags uint64) (cpu int32, isIdle bool) {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfSelectCPUDfl) {
		return prevCPU, false
	}
	c := x.selectCPUFromKfunc(sch, p, int(prevCPU), wakeFlags, nil, 0)
	if c >= 0 {
		return int32(c), true
	}
	return prevCPU, false
}

// SelectCPUAnd is scx_bpf_select_cpu_and(): SelectCPUDfl restricted to
// cpusAllowed, with SCX_PICK_IDLE_* flags; the CPU or -EBUSY.
func (x *Ext) SelectCPUAnd(p *Task, prevCPU int32, wakeFlags uint64, cpusAllowed topo.CPUMask, flags uint64) int32 {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfSelectCPUAnd) {
		return -int32(syscall.EBUSY)
	}
	return int32(x.selectCPUFromKfunc(sch, p, int(prevCPU), wakeFlags, cpusAllowed, flags))
}

// builtinIdle mirrors check_builtin_idle_enabled().
func (x *Ext) builtinIdle(sch *Sched) bool {
	if x.idle.builtin {
		return true
	}
	x.scxError(sch, "built-in idle tracking is disabled")
	return false
}

// TaskSetSlice is scx_bpf_task_set_slice().
func (x *Ext) TaskSetSlice(p *Task, slice uint64) bool {
	sch := x.sched()
	if sch == nil || p == nil || !x.kfAllowed(sch, kfTaskSetSlice) || ent(p).sch != sch {
		return false
	}
	ent(p).Slice = slice
	return true
}

// TaskSetDsqVtime is scx_bpf_task_set_dsq_vtime().
func (x *Ext) TaskSetDsqVtime(p *Task, vtime uint64) bool {
	sch := x.sched()
	if sch == nil || p == nil || !x.kfAllowed(sch, kfTaskSetDsqVtime) || ent(p).sch != sch {
		return false
	}
	ent(p).DsqVtime = vtime
	return true
}

// KickCPU is scx_bpf_kick_cpu() with SCX_KICK_* flags.
func (x *Ext) KickCPU(cpu int32, flags uint64) {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfKickCPU) {
		return
	}
	x.kickCPU(sch, int(cpu), flags)
}

// KickCid is scx_bpf_kick_cid().
func (x *Ext) KickCid(cid int32, flags uint64) {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfKickCid) {
		return
	}
	if cpu := x.cidToCPUChecked(sch, cid); cpu >= 0 {
		x.kickCPU(sch, cpu, flags)
	}
}

func (x *Ext) cidToCPUChecked(sch *Sched, cid int32) int {
	if x.cids == nil {
		return -1
	}
	if err := x.cids.CidValid(int(cid)); err != nil {
		x.scxError(sch, "%s", err.Error())
		return -1
	}
	return x.cids.CPU(int(cid))
}

// Exit is scx_bpf_exit_bstr() (message already formatted): unregister
// with SCX_EXIT_UNREG_BPF.
func (x *Ext) Exit(code int64, msg string) {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfExit) {
		return
	}
	x.scxExit(sch, ExitUnregBPF, code, x.curCPU(), "%s", msg)
}

// Error is scx_bpf_error_bstr(): eject with SCX_EXIT_ERROR_BPF.
func (x *Ext) Error(msg string) {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfError) {
		return
	}
	x.scxExit(sch, ExitErrorBPF, 0, x.curCPU(), "%s", msg)
}

// Dump is scx_bpf_dump_bstr(): append to the debug dump being generated
// (ignored outside the dump ops).
func (x *Ext) Dump(msg string) {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfDump) {
		return
	}
	if x.schedDump == nil {
		x.scxError(sch, "scx_bpf_dump() must only be called from ops.dump() and friends")
		return
	}
	x.schedDump.cur.WriteString(msg)
	if strings.HasSuffix(msg, "\n") {
		x.schedDump.flush()
	}
}

// CPUPerfCap is scx_bpf_cpuperf_cap().
func (x *Ext) CPUPerfCap(cpu int32) uint32 {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfCPUPerfCap) || !x.cpuValid(sch, int(cpu), "") {
		return CPUPerfOne
	}
	c, _ := x.m.CPU(int(cpu))
	return c.Capacity
}

// CPUPerfCur is scx_bpf_cpuperf_cur().
func (x *Ext) CPUPerfCur(cpu int32) uint32 {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfCPUPerfCur) || !x.cpuValid(sch, int(cpu), "") {
		return CPUPerfOne
	}
	c, _ := x.m.CPU(int(cpu))
	return c.Perf
}

// CPUPerfSet is scx_bpf_cpuperf_set().
func (x *Ext) CPUPerfSet(cpu int32, perf uint32) {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfCPUPerfSet) {
		return
	}
	x.perfSet(sch, int(cpu), perf)
}

func (x *Ext) perfSet(sch *Sched, cpu int, perf uint32) bool {
	if perf > CPUPerfOne {
		x.scxError(sch, "Invalid cpuperf target %d for CPU %d", perf, cpu)
		return false
	}
	if !x.cpuValid(sch, cpu, "") {
		return false
	}
	if lr := x.lockedRQ(); lr != nil && lr.CPU != cpu {
		x.scxError(sch, "Invalid target CPU %d", cpu)
		return false
	}
	x.rqs[cpu].cpuperfTarget, x.rqs[cpu].perfSet = perf, true
	_ = x.m.SetPerf(cpu, perf)
	return true
}

// CidPerfCap, CidPerfCur and CidPerfSet are the cid variants.
func (x *Ext) CidPerfCap(cid int32) uint32 {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfCidPerfCap) {
		return CPUPerfOne
	}
	cpu := x.cidToCPUChecked(sch, cid)
	if cpu < 0 {
		return CPUPerfOne
	}
	c, _ := x.m.CPU(cpu)
	return c.Capacity
}

// CidPerfCur: see CidPerfCap.
func (x *Ext) CidPerfCur(cid int32) uint32 {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfCidPerfCur) {
		return CPUPerfOne
	}
	cpu := x.cidToCPUChecked(sch, cid)
	if cpu < 0 {
		return CPUPerfOne
	}
	c, _ := x.m.CPU(cpu)
	return c.Perf
}

// CidPerfSet: see CidPerfCap; 0 or -EINVAL.
func (x *Ext) CidPerfSet(cid int32, perf uint32) int32 {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfCidPerfSet) {
		return -int32(syscall.EINVAL)
	}
	cpu := x.cidToCPUChecked(sch, cid)
	if cpu < 0 || !x.perfSet(sch, cpu, perf) {
		return -int32(syscall.EINVAL)
	}
	return 0
}

// NrNodeIDs is scx_bpf_nr_node_ids().
func (x *Ext) NrNodeIDs() uint32 { return uint32(max(x.m.NrNodeIDs(), 1)) }

// NrCPUIDs is scx_bpf_nr_cpu_ids().
func (x *Ext) NrCPUIDs() uint32 { return uint32(x.m.NrCPUIDs()) }

// NrCids is scx_bpf_nr_cids(): num_possible_cpus().
func (x *Ext) NrCids() uint32 { return uint32(x.m.NumPossible()) }

// NrOnlineCids is scx_bpf_nr_online_cids().
func (x *Ext) NrOnlineCids() uint32 { return uint32(x.core.Active().Weight()) }

// ThisCid is scx_bpf_this_cid().
func (x *Ext) ThisCid() int32 {
	if x.lastCids == nil {
		return -int32(syscall.EINVAL)
	}
	return int32(x.lastCids.Cid(x.curCPU()))
}

// ThisCPU is smp_processor_id() / bpf_get_smp_processor_id() as the ops
// see it.
func (x *Ext) ThisCPU() int32 { return int32(x.curCPU()) }

// GetPossibleCPUMask is scx_bpf_get_possible_cpumask() (a copy).
func (x *Ext) GetPossibleCPUMask() topo.CPUMask {
	if x.sched() != nil && !x.kfAllowed(x.sched(), kfGetPossibleCPUMask) {
		return topo.NewCPUMask(x.core.NrCPUIDs())
	}
	return x.m.PossibleMask()
}

// GetOnlineCPUMask is scx_bpf_get_online_cpumask() (a copy).
func (x *Ext) GetOnlineCPUMask() topo.CPUMask {
	m := topo.NewCPUMask(x.core.NrCPUIDs())
	if x.sched() != nil && !x.kfAllowed(x.sched(), kfGetOnlineCPUMask) {
		return m
	}
	copy(m, x.core.Active())
	return m
}

// TaskRunning is scx_bpf_task_running().
func (x *Ext) TaskRunning(p *Task) bool {
	rq := x.core.RQ(p.CPU())
	return rq != nil && rq.Curr() == p
}

// TaskCPU is scx_bpf_task_cpu().
func (x *Ext) TaskCPU(p *Task) int32 { return int32(p.CPU()) }

// TaskCid is scx_bpf_task_cid().
func (x *Ext) TaskCid(p *Task) int32 {
	if x.lastCids == nil {
		return -int32(syscall.EINVAL)
	}
	return int32(x.lastCids.Cid(p.CPU()))
}

// CPUCurr is scx_bpf_cpu_curr(): the task running on cpu, nil if invalid.
func (x *Ext) CPUCurr(cpu int32) *Task {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfCPUCurr) || !x.cpuValid(sch, int(cpu), "") {
		return nil
	}
	return x.rqs[cpu].rq.Curr()
}

// CidCurr is scx_bpf_cid_curr().
func (x *Ext) CidCurr(cid int32) *Task {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfCidCurr) {
		return nil
	}
	cpu := x.cidToCPUChecked(sch, cid)
	if cpu < 0 {
		return nil
	}
	return x.rqs[cpu].rq.Curr()
}

// Now is scx_bpf_now(): virtual time in ns.
func (x *Ext) Now() uint64 { return x.now() }

// EventsOf is scx_bpf_events(): the event counters of the scheduler.
func (x *Ext) EventsOf() Events {
	if sch := x.sched(); sch != nil {
		return sch.events
	}
	return Events{}
}

// TaskCgroup is scx_bpf_task_cgroup(): p's cgroup; the root cgroup (and
// an error) for a task the current op does not operate on.
func (x *Ext) TaskCgroup(p *Task) *Cgroup {
	sch := x.sched()
	if sch == nil || !x.kfArgTaskOK(sch, p) {
		return x.core.RootCgroup()
	}
	return p.Cgroup()
}

// CPUNode is scx_bpf_cpu_node().
func (x *Ext) CPUNode(cpu int32) int32 {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfCPUNode) || !x.cpuValid(sch, int(cpu), "") {
		return -1
	}
	return int32(x.cpuNode(int(cpu)))
}

// validateNode mirrors validate_node(): node, or a negative errno (with a
// scheduler error, except -ENOENT for NUMA_NO_NODE).
func (x *Ext) validateNode(sch *Sched, node int32) int32 {
	if !x.idle.perNode {
		x.scxError(sch, "per-node idle tracking is disabled")
		return -int32(syscall.EOPNOTSUPP)
	}
	if node == -1 {
		return -int32(syscall.ENOENT)
	}
	if node < 0 || int(node) >= len(x.idle.node) {
		x.scxError(sch, "invalid node %d", node)
		return -int32(syscall.EINVAL)
	}
	return node
}

// globalIdleCheck is the common head of the kfuncs that work on the global
// idle masks: they refuse per-node tracking (with the kfunc's own words)
// and need built-in idle tracking.
func (x *Ext) globalIdleCheck(sch *Sched, id kfID, perNodeMsg string) bool {
	if sch == nil || !x.kfAllowed(sch, id) {
		return false
	}
	if x.idle.perNode {
		x.scxError(sch, "%s", perNodeMsg)
		return false
	}
	return x.builtinIdle(sch)
}

// GetIdleCPUMask is scx_bpf_get_idle_cpumask() (a copy; empty on error).
func (x *Ext) GetIdleCPUMask() topo.CPUMask {
	m := topo.NewCPUMask(x.core.NrCPUIDs())
	if x.globalIdleCheck(x.sched(), kfGetIdleCPUMask, "SCX_OPS_BUILTIN_IDLE_PER_NODE enabled") {
		copy(m, x.idle.cpu)
	}
	return m
}

// GetIdleSMTMask is scx_bpf_get_idle_smtmask().
func (x *Ext) GetIdleSMTMask() topo.CPUMask {
	m := topo.NewCPUMask(x.core.NrCPUIDs())
	if x.globalIdleCheck(x.sched(), kfGetIdleSMTMask, "SCX_OPS_BUILTIN_IDLE_PER_NODE enabled") {
		if x.idle.smtActive {
			copy(m, x.idle.smt)
		} else {
			copy(m, x.idle.cpu)
		}
	}
	return m
}

// nodeIdleCheck is the common head of the _node idle kfuncs: the node
// validate_node() accepts, or a negative errno.
func (x *Ext) nodeIdleCheck(id kfID, node int32) int32 {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, id) {
		return -int32(syscall.ENODEV)
	}
	return x.validateNode(sch, node)
}

// GetIdleCPUMaskNode is scx_bpf_get_idle_cpumask_node().
func (x *Ext) GetIdleCPUMaskNode(node int32) topo.CPUMask {
	m := topo.NewCPUMask(x.core.NrCPUIDs())
	if n := x.nodeIdleCheck(kfGetIdleCPUMaskNode, node); n >= 0 {
		andInto(m, x.idle.cpu, x.idle.node[n])
	}
	return m
}

// GetIdleSMTMaskNode is scx_bpf_get_idle_smtmask_node().
func (x *Ext) GetIdleSMTMaskNode(node int32) topo.CPUMask {
	m := topo.NewCPUMask(x.core.NrCPUIDs())
	if n := x.nodeIdleCheck(kfGetIdleSMTMaskNode, node); n >= 0 {
		src := x.idle.smt
		if !x.idle.smtActive {
			src = x.idle.cpu
		}
		andInto(m, src, x.idle.node[n])
	}
	return m
}

// TestAndClearCPUIdle is scx_bpf_test_and_clear_cpu_idle().
func (x *Ext) TestAndClearCPUIdle(cpu int32) bool {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfTestAndClearCPUIdle) || !x.builtinIdle(sch) {
		return false
	}
	if !x.cpuValid(sch, int(cpu), "") {
		return false
	}
	return x.idle.testAndClear(int(cpu))
}

// PickIdleCPU is scx_bpf_pick_idle_cpu(): claim an idle CPU in
// cpusAllowed (SCX_PICK_IDLE_CORE: a whole idle core), -EBUSY if none.
func (x *Ext) PickIdleCPU(cpusAllowed topo.CPUMask, flags uint64) int32 {
	if !x.globalIdleCheck(x.sched(), kfPickIdleCPU, "per-node idle tracking is enabled") {
		return -int32(syscall.EBUSY)
	}
	return int32(x.idle.pickIdle(cpusAllowed, flags))
}

// PickIdleCPUNode is scx_bpf_pick_idle_cpu_node(): PickIdleCPU starting in
// node, then the other nodes unless SCX_PICK_IDLE_IN_NODE.
func (x *Ext) PickIdleCPUNode(cpusAllowed topo.CPUMask, node int32, flags uint64) int32 {
	n := x.nodeIdleCheck(kfPickIdleCPUNode, node)
	if n < 0 {
		return n
	}
	return int32(x.idle.pickIdleNode(cpusAllowed, int(n), flags))
}

// PickAnyCPU is scx_bpf_pick_any_cpu(): an idle CPU if there is one, else
// any CPU of cpusAllowed, -EBUSY if it is empty.
func (x *Ext) PickAnyCPU(cpusAllowed topo.CPUMask, flags uint64) int32 {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfPickAnyCPU) {
		return -int32(syscall.EBUSY)
	}
	if x.idle.perNode {
		x.scxError(sch, "per-node idle tracking is enabled")
		return -int32(syscall.EBUSY)
	}
	if x.idle.builtin {
		if c := x.idle.pickIdle(cpusAllowed, flags); c >= 0 {
			return int32(c)
		}
	}
	if c := x.idle.anyAndDistribute(cpusAllowed, x.m.PossibleMask()); c >= 0 {
		return int32(c)
	}
	return -int32(syscall.EBUSY)
}

// PickAnyCPUNode is scx_bpf_pick_any_cpu_node(): an idle CPU searched from
// node if there is one, else any CPU of cpusAllowed (of node's with
// SCX_PICK_IDLE_IN_NODE), -EBUSY if there is none.
func (x *Ext) PickAnyCPUNode(cpusAllowed topo.CPUMask, node int32, flags uint64) int32 {
	n := x.nodeIdleCheck(kfPickAnyCPUNode, node)
	if n < 0 {
		return n
	}
	if c := x.idle.pickIdleNode(cpusAllowed, int(n), flags); c >= 0 {
		return int32(c)
	}
	var c int
	if flags&PickIdleInNode != 0 {
		c = x.idle.anyAndDistribute(x.idle.node[n], cpusAllowed)
	} else {
		c = x.idle.anyAndDistribute(cpusAllowed, x.m.PossibleMask())
	}
	if c >= 0 {
		return int32(c)
	}
	return -int32(syscall.EBUSY)
}

// CidOverride is scx_bpf_cid_override() (ops.init_cids() only).
func (x *Ext) CidOverride(cpuToCid, shardStart []int32) {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfCidOverride) || x.cids == nil {
		return
	}
	if err := x.cids.Override(cpuToCid, shardStart); err != nil {
		x.scxError(sch, "%s", err.Error())
	}
}

// CidToCPU is scx_bpf_cid_to_cpu(): the cpu of cid, -EINVAL (and a
// scheduler error) for an invalid cid.
func (x *Ext) CidToCPU(cid int32) int32 {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfCidToCPU) {
		return -int32(syscall.EINVAL)
	}
	if c := x.cidToCPUChecked(sch, cid); c >= 0 {
		return int32(c)
	}
	return -int32(syscall.EINVAL)
}

// CPUToCid is scx_bpf_cpu_to_cid().
func (x *Ext) CPUToCid(cpu int32) int32 {
	sch := x.sched()
	if sch == nil || !x.kfAllowed(sch, kfCPUToCid) || x.cids == nil {
		return -int32(syscall.EINVAL)
	}
	c, err := x.cids.CPUToCid(int(cpu))
	if err != nil {
		x.scxError(sch, "%s", err.Error())
		return -int32(syscall.EINVAL)
	}
	return int32(c)
}

// CidTopo is scx_bpf_cid_topo(): cid's topology, all -1 (and a scheduler
// error) for an invalid cid.
func (x *Ext) CidTopo(cid int32) topo.CidTopo {
	sch := x.sched()
	bad := topo.CidTopo{CoreCid: -1, CoreIdx: -1, LLCCid: -1, LLCIdx: -1, NodeCid: -1, NodeIdx: -1, ShardCid: -1, ShardIdx: -1}
	if sch == nil || !x.kfAllowed(sch, kfCidTopo) || x.cids == nil {
		return bad
	}
	if err := x.cids.CidValid(int(cid)); err != nil {
		x.scxError(sch, "%s", err.Error())
		return bad
	}
	return x.cids.Topo(int(cid))
}

var _ sched.Ext = (*Ext)(nil)

// TidToTask is scx_bpf_tid_to_task(): the task with thread id tid (scxsim
// uses the pid as p->scx.tid) when SCX_OPS_TID_TO_TASK is on, nil
// otherwise.
func (x *Ext) TidToTask(tid uint64) *Task {
	sch := x.sched()
	if sch == nil || sch.ops.Flags&OpsTidToTask == 0 {
		if sch != nil {
			x.scxError(sch, "scx_bpf_tid_to_task() called without SCX_OPS_TID_TO_TASK")
		}
		return nil
	}
	if tid > 1<<31 {
		return nil
	}
	return x.core.TaskByPID(int32(tid))
}

// LockedRQ is scx_bpf_locked_rq(): the runqueue the current op holds; an
// error and nil outside rq-locked ops.
func (x *Ext) LockedRQ() *sched.RQ {
	rq := x.lockedRQ()
	if rq == nil {
		if sch := x.sched(); sch != nil {
			x.scxError(sch, "accessing rq without holding rq lock")
		}
	}
	return rq
}

// OpError raises scx_error() on the loaded scheduler with msg, for
// kernel-side failures the caller detected while running an op (the BPF
// adapter's program faults, bad arguments): SCX_EXIT_ERROR, "runtime
// error".
func (x *Ext) OpError(msg string) {
	if sch := x.sched(); sch != nil {
		x.scxError(sch, "%s", msg)
	}
}

// IdleCmask fills m with the idle cids (the built-in idle cpumask
// translated through the cid table), for Go cid-form schedulers; false if
// built-in idle tracking or the cid table is not there.
func (x *Ext) IdleCmask(m cmask.Mask) bool {
	if x.cids == nil || !x.idle.builtin {
		return false
	}
	x.cids.CpumaskToCmask(x.idle.cpu, m)
	return true
}
