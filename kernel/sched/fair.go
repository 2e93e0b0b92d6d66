package sched

import "github.com/scxsim/scxsim/kernel/topo"

// fairEntity is the per-task state of the fair class (sched_entity).
type fairEntity struct {
	vruntime   uint64
	heapIdx    int // index in fairRQ.heap, -1 when not in it
	sliceStart uint64
	skip       bool // yielded: prefer another task at the next pick
	// prev, next link the task into fairRQ's tasks list (se.group_node).
	prev, next *Task
	listed     bool
}

// fairRQ is the per-CPU state of the fair class (cfs_rq).
type fairRQ struct {
	heap        []*Task // min-heap by (vruntime, pid): queued, not running
	curr        *Task   // the fair task that is rq's current task
	nr          int     // fair tasks queued, the running one included
	load        uint64  // sum of their weights
	minVruntime uint64
	// head and tail of rq->cfs_tasks: every queued fair task, the running
	// one included, most recently enqueued or picked first. Load
	// balancing takes tasks from the tail.
	head, tail *Task
}

// listAdd puts p first in the tasks list (list_add()).
func (f *fairRQ) listAdd(p *Task) {
	e := &p.fair
	e.prev, e.next, e.listed = nil, f.head, true
	if f.head != nil {
		f.head.fair.prev = p
	} else {
		f.tail = p
	}
	f.head = p
}

// listDel takes p out of the tasks list (list_del_init()).
func (f *fairRQ) listDel(p *Task) {
	e := &p.fair
	if !e.listed {
		return
	}
	if e.prev != nil {
		e.prev.fair.next = e.next
	} else {
		f.head = e.next
	}
	if e.next != nil {
		e.next.fair.prev = e.prev
	} else {
		f.tail = e.prev
	}
	e.prev, e.next, e.listed = nil, nil, false
}

// listMoveHead moves a listed p to the front (list_move()).
func (f *fairRQ) listMoveHead(p *Task) {
	if !p.fair.listed || f.head == p {
		return
	}
	f.listDel(p)
	f.listAdd(p)
}

func (f *fairRQ) init() {}

// VRuntime returns the fair-class virtual runtime of p.
func (p *Task) VRuntime() uint64 { return p.fair.vruntime }

// NrFair returns the number of fair tasks queued on rq (running included).
func (rq *RQ) NrFair() int { return rq.fair.nr }

func less(a, b *Task) bool {
	if a.fair.vruntime != b.fair.vruntime {
		return a.fair.vruntime < b.fair.vruntime
	}
	return a.PID < b.PID
}

func (f *fairRQ) push(p *Task) {
	p.fair.heapIdx = len(f.heap)
	f.heap = append(f.heap, p)
	f.up(p.fair.heapIdx)
}

func (f *fairRQ) remove(p *Task) {
	i := p.fair.heapIdx
	if i < 0 || i >= len(f.heap) || f.heap[i] != p {
		return
	}
	last := len(f.heap) - 1
	f.swap(i, last)
	f.heap = f.heap[:last]
	p.fair.heapIdx = -1
	if i < last {
		f.down(i)
		f.up(i)
	}
}

func (f *fairRQ) swap(i, j int) {
	f.heap[i], f.heap[j] = f.heap[j], f.heap[i]
	f.heap[i].fair.heapIdx = i
	f.heap[j].fair.heapIdx = j
}

func (f *fairRQ) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !less(f.heap[i], f.heap[p]) {
			break
		}
		f.swap(i, p)
		i = p
	}
}

func (f *fairRQ) down(i int) {
	n := len(f.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && less(f.heap[r], f.heap[l]) {
			m = r
		}
		if !less(f.heap[m], f.heap[i]) {
			return
		}
		f.swap(i, m)
		i = m
	}
}

func (f *fairRQ) leftmost() *Task {
	if len(f.heap) == 0 {
		return nil
	}
	return f.heap[0]
}

// updateMin mirrors update_min_vruntime(): min_vruntime only moves forward,
// following the smallest vruntime among the running and queued tasks.
func (f *fairRQ) updateMin() {
	v := f.minVruntime
	have := false
	if c := f.curr; c != nil && c.onRQ {
		v, have = c.fair.vruntime, true
	}
	if l := f.leftmost(); l != nil {
		if !have || l.fair.vruntime < v {
			v = l.fair.vruntime
		}
		have = true
	}
	if have && v > f.minVruntime {
		f.minVruntime = v
	}
}

// fairClass is the weighted-fair class (fair_sched_class), see the package
// documentation for the model.
type fairClass struct {
	core *Core
}

func newFairClass(c *Core) *fairClass { return &fairClass{core: c} }

func (fc *fairClass) Name() string { return "fair" }

func (fc *fairClass) base() uint64 { return fc.core.opts.BaseSliceNS }

// slice mirrors sched_slice(): the period (8 base slices, stretched to one
// base slice per runnable task) shared by weight.
func (fc *fairClass) slice(rq *RQ, p *Task) uint64 {
	b := fc.base()
	period := 8 * b
	if n := uint64(rq.fair.nr); n > 8 {
		period = n * b
	}
	load := rq.fair.load
	if load == 0 {
		return period
	}
	return period * uint64(p.weight) / load
}

func calcDelta(d uint64, w uint32) uint64 {
	if w == Nice0Load {
		return d
	}
	return d * Nice0Load / uint64(max(w, 1))
}

func (fc *fairClass) UpdateCurr(rq *RQ) {
	p := rq.fair.curr
	if p == nil || rq.curr != p {
		return
	}
	d := rq.ChargeCurr(p)
	if d == 0 {
		return
	}
	p.fair.vruntime += calcDelta(d, p.weight)
	rq.fair.updateMin()
}

// place mirrors place_entity() for a waking or new task: not before
// min_vruntime minus half a latency period (sleeper credit), never moved
// backwards.
func (fc *fairClass) place(rq *RQ, p *Task, initial bool) {
	min := rq.fair.minVruntime
	if initial {
		if p.fair.vruntime < min {
			p.fair.vruntime = min
		}
		return
	}
	credit := 4 * fc.base()
	floor := uint64(0)
	if min > credit {
		floor = min - credit
	}
	if p.fair.vruntime < floor {
		p.fair.vruntime = floor
	}
}

func (fc *fairClass) Enqueue(rq *RQ, p *Task, flags int) {
	if flags&EnqueueWakeup != 0 {
		fc.place(rq, p, false)
	} else if flags&EnqueueInitial != 0 {
		fc.place(rq, p, true)
	}
	rq.fair.nr++
	rq.fair.load += uint64(p.weight)
	rq.fair.listAdd(p)
	if p != rq.fair.curr {
		rq.fair.push(p)
	}
	rq.fair.updateMin()
}

func (fc *fairClass) Dequeue(rq *RQ, p *Task, flags int) {
	if p == rq.fair.curr {
		fc.UpdateCurr(rq)
	} else {
		rq.fair.remove(p)
	}
	rq.fair.listDel(p)
	rq.fair.nr--
	rq.fair.load -= uint64(p.weight)
	rq.fair.updateMin()
}

// Yield mirrors yield_task_fair(): the next pick prefers another task.
func (fc *fairClass) Yield(rq *RQ) {
	if p := rq.fair.curr; p != nil {
		fc.UpdateCurr(rq)
		p.fair.skip = true
	}
}

func (fc *fairClass) YieldTo(rq *RQ, p *Task) bool {
	if c := rq.fair.curr; c != nil {
		c.fair.skip = true
	}
	return true
}

// WakeupPreempt mirrors check_preempt_wakeup_fair(): a SCHED_IDLE current
// task is always preempted by a normal one; a batch or idle waker never
// preempts; otherwise preempt when the waker's vruntime trails the current
// task's by more than the wakeup granularity.
func (fc *fairClass) WakeupPreempt(rq *RQ, p *Task, wf int) {
	curr := rq.curr
	if curr == p || rq.needResched {
		return
	}
	if curr.policy == PolicyIdle && p.policy != PolicyIdle {
		fc.core.ReschedCurr(rq)
		return
	}
	if p.policy == PolicyBatch || p.policy == PolicyIdle {
		return
	}
	fc.UpdateCurr(rq)
	gran := calcDelta(4*fc.base()/3, p.weight)
	if p.fair.vruntime+gran < curr.fair.vruntime {
		fc.core.ReschedCurr(rq)
	}
}

// Balance mirrors balance_fair(): true when fair has a task; otherwise a
// fair task that just stopped triggers a newly-idle pull.
func (fc *fairClass) Balance(rq *RQ, prev *Task) bool {
	if rq.fair.nr > 0 {
		return true
	}
	if !rq.online || prev.class != Class(fc) {
		return false
	}
	return fc.pullOne(rq)
}

// PickTask mirrors pick_task_fair(): the smallest vruntime among the
// queued tasks and the running one, a yielding task last.
func (fc *fairClass) PickTask(rq *RQ) *Task {
	if rq.fair.nr == 0 {
		return nil
	}
	l := rq.fair.leftmost()
	c := rq.fair.curr
	if c == nil || !c.onRQ || c != rq.curr {
		return l
	}
	if l == nil {
		return c
	}
	if c.fair.skip || less(l, c) {
		return l
	}
	return c
}

func (fc *fairClass) PutPrev(rq *RQ, p *Task, next *Task) {
	if rq.fair.curr != p {
		return
	}
	fc.UpdateCurr(rq)
	p.fair.skip = false
	rq.fair.curr = nil
	if p.onRQ {
		rq.fair.push(p)
	}
}

// SetNext mirrors set_next_task_fair(): the task leaves the tree and moves
// to the front of the tasks list, which is thus most recently run first.
func (fc *fairClass) SetNext(rq *RQ, p *Task, first bool) {
	rq.fair.remove(p)
	rq.fair.listMoveHead(p)
	rq.fair.curr = p
	p.execStart = rq.clock
	p.fair.sliceStart = p.SumExecRuntime
	p.fair.skip = false
}

// SelectTaskRQ mirrors select_task_rq_fair() reduced to select_idle_sibling():
// prev if idle, else an idle CPU of prev's LLC, else prev. Idle CPUs of
// other LLCs get work through the newly-idle and periodic balancing.
func (fc *fairClass) SelectTaskRQ(p *Task, prev int, wf int) int {
	c := fc.core
	idle := func(cpu int) bool {
		rq := c.RQ(cpu)
		return rq != nil && rq.online && rq.IsIdle() && p.cpus.Test(cpu)
	}
	if idle(prev) {
		return prev
	}
	for _, cpu := range c.m.LLCCPUs(prev) {
		if idle(cpu) {
			return cpu
		}
	}
	return prev
}

// TaskTick mirrors task_tick_fair(): charge the running task and preempt
// it once it used its slice while others wait.
func (fc *fairClass) TaskTick(rq *RQ, p *Task) {
	fc.UpdateCurr(rq)
	if rq.fair.nr < 2 || rq.fair.curr != p {
		return
	}
	if p.SumExecRuntime-p.fair.sliceStart >= fc.slice(rq, p) {
		fc.core.ReschedCurr(rq)
	}
}

func (fc *fairClass) TaskFork(p *Task) {
	rq := fc.core.rqs[p.cpu]
	p.fair.heapIdx = -1
	p.fair.vruntime = rq.fair.minVruntime
	p.fair.prev, p.fair.next, p.fair.listed = nil, nil, false
}

func (fc *fairClass) TaskDead(p *Task) {}

// SwitchingTo places a task arriving from another class at the CPU's
// min_vruntime so stale vruntime neither starves nor favours it.
func (fc *fairClass) SwitchingTo(rq *RQ, p *Task) {
	p.fair.heapIdx = -1
	p.fair.prev, p.fair.next, p.fair.listed = nil, nil, false
	p.fair.vruntime = rq.fair.minVruntime
}

func (fc *fairClass) SwitchedFrom(rq *RQ, p *Task) {}
func (fc *fairClass) SwitchedTo(rq *RQ, p *Task)   {}

func (fc *fairClass) Reweight(rq *RQ, p *Task, old uint32) {
	// The task is dequeued around the change (see Core.changeTask), so
	// the load sum is rebuilt by the enqueue.
}

func (fc *fairClass) SetCPUsAllowed(p *Task, mask topo.CPUMask) {
	fc.core.SetCPUsAllowedCommon(p, mask)
}

// MigrateTaskRQ keeps p's lag relative to min_vruntime across CPUs.
func (fc *fairClass) MigrateTaskRQ(p *Task, newCPU int) {
	src, dst := fc.core.rqs[p.cpu], fc.core.rqs[newCPU]
	v := p.fair.vruntime
	if v >= src.fair.minVruntime {
		v = v - src.fair.minVruntime + dst.fair.minVruntime
	} else {
		v = dst.fair.minVruntime
	}
	p.fair.vruntime = v
}

func (fc *fairClass) RQOnline(rq *RQ)  {}
func (fc *fairClass) RQOffline(rq *RQ) {}

// sysctlNrMigrate is sysctl_sched_nr_migrate: the most tasks one load
// balancing pass looks at on the busiest runqueue.
const sysctlNrMigrate = 32

// movable reports whether queued fair task p may be pulled to cpu.
func movable(rq *RQ, p *Task, cpu int) bool {
	return p != rq.curr && p.cpus.Test(cpu) && !p.MigrationDisabled()
}

// detachOne mirrors detach_tasks() for a pass that moves one task (a
// newly-idle balance, or a push to one idle CPU): walk src's tasks list
// from the tail, least recently run first, looking at no more than
// loop_max = min(sysctl_sched_nr_migrate, nr_running) tasks; a task that
// cannot move to cpu goes to the front of the list, as in the kernel, so
// the next pass looks at others. Returns the first task that may move, or
// nil.
func detachOne(src *RQ, cpu int) *Task {
	if src.NrRunning <= 1 {
		return nil
	}
	loopMax := min(sysctlNrMigrate, src.NrRunning)
	for loop := 1; loop <= loopMax; loop++ {
		p := src.fair.tail
		if p == nil {
			return nil
		}
		if movable(src, p, cpu) {
			return p
		}
		src.fair.listMoveHead(p)
	}
	return nil
}

// pullOne mirrors a newly-idle balance: detach one task from the CPU with
// the most fair tasks (at least two) through detachOne.
func (fc *fairClass) pullOne(dst *RQ) bool {
	c := fc.core
	var busiest *RQ
	for _, rq := range c.rqs {
		if rq == nil || rq == dst || !rq.online || rq.fair.nr < 2 {
			continue
		}
		if busiest == nil || rq.fair.nr > busiest.fair.nr {
			busiest = rq
		}
	}
	if busiest == nil {
		return false
	}
	pick := detachOne(busiest, dst.CPU)
	if pick == nil {
		return false
	}
	c.MoveQueuedTask(pick, dst.CPU)
	return true
}

// balanceTick mirrors the periodic balance kick: a CPU with waiting fair
// tasks pushes one to an idle CPU that may run it (what nohz idle
// balancing achieves) and reschedules that CPU. Each attempt is a bounded
// detachOne pass.
func (fc *fairClass) balanceTick(rq *RQ) {
	if rq.fair.nr < 2 || len(rq.fair.heap) == 0 {
		return
	}
	c := fc.core
	try := func(cpu int) bool {
		d := c.RQ(cpu)
		if d == nil || d == rq || !d.online || !d.IsIdle() {
			return false
		}
		pick := detachOne(rq, cpu)
		if pick == nil {
			return false
		}
		c.MoveQueuedTask(pick, cpu)
		return true
	}
	if c.idleMask.Empty() {
		return
	}
	for _, cpu := range c.m.LLCCPUs(rq.CPU) {
		if c.idleMask.Test(cpu) && try(cpu) {
			return
		}
	}
	for cpu := range c.idleMask.CPUs() {
		if try(cpu) {
			return
		}
	}
}
