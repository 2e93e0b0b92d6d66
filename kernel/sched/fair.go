package sched

import "github.com/scxsim/scxsim/kernel/topo"

// fairEntity is a schedulable entity of the fair class (sched_entity): a
// task's, or a task group's on one CPU (a group entity, queued on its
// parent group's cfs_rq and owning the group's cfs_rq of that CPU).
type fairEntity struct {
	vruntime   uint64
	heapIdx    int // index in its fairRQ's heap, -1 when not in it
	sliceStart uint64
	skip       bool // yielded: prefer another entity at the next pick
	onRQ       bool // se->on_rq: queued on cfsRQ (running included)
	// weight is se->load.weight: the task's load weight, or the group
	// entity's share (calc_group_shares()).
	weight uint32
	// key breaks vruntime ties: the pid of a task, minus the cgroup id
	// of a group entity.
	key int64
	// depth is se->depth: 0 for entities queued on the root cfs_rq.
	depth int
	// task is the entity's task, nil for a group entity.
	task *Task
	// cfsRQ is the cfs_rq the entity is (to be) queued on (se->cfs_rq),
	// parent the group entity owning it (se->parent, nil at the root),
	// my the group's own cfs_rq (se->my_q, nil for a task).
	cfsRQ  *fairRQ
	parent *fairEntity
	my     *fairRQ
	// prev, next link the task into the root fairRQ's tasks list
	// (se.group_node).
	prev, next *Task
	listed     bool
}

// fairRQ is a cfs_rq: the root one of a CPU (RQ.fair) or a task group's
// on one CPU.
type fairRQ struct {
	heap []*fairEntity // min-heap by (vruntime, key): queued, not running
	curr *fairEntity   // the entity of this queue on the running chain
	nr   int           // entities queued, the running one included (nr_queued)
	// hNr counts the tasks queued in this queue's hierarchy that are not
	// throttled below it (h_nr_running); at the root, the CPU's runnable
	// fair tasks.
	hNr         int
	load        uint64 // sum of the queued entities' weights
	minVruntime uint64
	// currTask is the fair task that is the CPU's current one (root
	// queue only).
	currTask *Task
	// head and tail of rq->cfs_tasks (root queue only): every queued
	// fair task of the CPU, the running one included, most recently
	// enqueued or picked first. Load balancing takes tasks from the tail.
	head, tail *Task

	rq *RQ
	tg *taskGroup  // nil for the root queue
	se *fairEntity // the group entity owning this queue, nil at the root
	// Bandwidth control (CONFIG_CFS_BANDWIDTH) of this group on this CPU.
	runtimeEnabled   bool
	runtimeRemaining int64
	throttled        bool
	throttleCount    int // throttled self or ancestors (throttle_count)
	throttledListed  bool
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

func (f *fairRQ) init(rq *RQ) { f.rq = rq }

// VRuntime returns the fair-class virtual runtime of p.
func (p *Task) VRuntime() uint64 { return p.fair.vruntime }

// NrFair returns the number of runnable fair tasks on rq (running included,
// throttled ones excluded).
func (rq *RQ) NrFair() int { return rq.fair.hNr }

func less(a, b *fairEntity) bool {
	if a.vruntime != b.vruntime {
		return a.vruntime < b.vruntime
	}
	return a.key < b.key
}

func (f *fairRQ) push(e *fairEntity) {
	e.heapIdx = len(f.heap)
	f.heap = append(f.heap, e)
	f.up(e.heapIdx)
}

func (f *fairRQ) remove(e *fairEntity) {
	i := e.heapIdx
	if i < 0 || i >= len(f.heap) || f.heap[i] != e {
		return
	}
	last := len(f.heap) - 1
	f.swap(i, last)
	f.heap[last] = nil
	f.heap = f.heap[:last]
	e.heapIdx = -1
	if i < last {
		f.down(i)
		f.up(i)
	}
}

func (f *fairRQ) swap(i, j int) {
	f.heap[i], f.heap[j] = f.heap[j], f.heap[i]
	f.heap[i].heapIdx = i
	f.heap[j].heapIdx = j
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

func (f *fairRQ) leftmost() *fairEntity {
	if len(f.heap) == 0 {
		return nil
	}
	return f.heap[0]
}

// updateMin mirrors update_min_vruntime(): min_vruntime only moves forward,
// following the smallest vruntime among the running and queued entities.
func (f *fairRQ) updateMin() {
	v := f.minVruntime
	have := false
	if c := f.curr; c != nil && c.onRQ {
		v, have = c.vruntime, true
	}
	if l := f.leftmost(); l != nil {
		if !have || l.vruntime < v {
			v = l.vruntime
		}
		have = true
	}
	if have && v > f.minVruntime {
		f.minVruntime = v
	}
}

// addLoad changes the queue's load and its group's total (the
// instantaneous stand-in for tg->load_avg).
func (f *fairRQ) addLoad(w uint64, add bool) {
	if add {
		f.load += w
		if f.tg != nil {
			f.tg.load += w
		}
	} else {
		f.load -= w
		if f.tg != nil {
			f.tg.load -= w
		}
	}
}

// enqueueEntity is the queue part of enqueue_entity(): account se's
// weight and put it in the tree unless it is the running one.
func (f *fairRQ) enqueueEntity(se *fairEntity) {
	f.nr++
	f.addLoad(uint64(se.weight), true)
	se.onRQ = true
	if se != f.curr {
		f.push(se)
	}
}

// dequeueEntity is the queue part of dequeue_entity(). min_vruntime is
// updated while se still counts as queued (unlike the kernel, which
// clears on_rq first): a running entity going to sleep holds it back
// until it is put, as this class always did.
func (f *fairRQ) dequeueEntity(se *fairEntity) {
	if se != f.curr {
		f.remove(se)
	}
	f.nr--
	f.addLoad(uint64(se.weight), false)
	f.updateMin()
	se.onRQ = false
}

// fairClass is the weighted-fair class (fair_sched_class), see the package
// documentation for the model.
type fairClass struct {
	core *Core
	// groups lists the task groups in creation order (the kernel's
	// task_groups list), for deterministic walks.
	groups []*taskGroup
	lb     fairLB
}

func newFairClass(c *Core) *fairClass { return &fairClass{core: c} }

func (fc *fairClass) Name() string { return "fair" }

func (fc *fairClass) base() uint64 { return fc.core.opts.BaseSliceNS }

// slice mirrors sched_slice(): the period (8 base slices, stretched to one
// base slice per runnable task of the CPU) shared by weight at each level
// of the hierarchy.
func (fc *fairClass) slice(rq *RQ, p *Task) uint64 {
	b := fc.base()
	period := 8 * b
	if n := uint64(rq.fair.hNr); n > 8 {
		period = n * b
	}
	se := &p.fair
	if se.parent == nil {
		if load := rq.fair.load; load != 0 {
			period = period * uint64(se.weight) / load
		}
		return period
	}
	for ; se != nil; se = se.parent {
		if load := se.cfsRQ.load; load != 0 {
			period = period * uint64(se.weight) / load
		}
	}
	return period
}

func calcDelta(d uint64, w uint32) uint64 {
	if w == Nice0Load {
		return d
	}
	return d * Nice0Load / uint64(max(w, 1))
}

// UpdateCurr mirrors update_curr() for every level of the running task's
// hierarchy: each entity's vruntime advances by the delta scaled by its
// own weight, and each bandwidth-limited queue is charged the delta.
func (fc *fairClass) UpdateCurr(rq *RQ) {
	p := rq.fair.currTask
	if p == nil || rq.curr != p {
		return
	}
	d := rq.chargeCurr(p)
	if d == 0 {
		return
	}
	if rq.dlActive != 0 {
		rq.chargeServer(p, d)
	}
	if se := &p.fair; se.parent == nil {
		// A root task: one level, and the root has no bandwidth limit.
		se.vruntime += calcDelta(d, se.weight)
		se.cfsRQ.updateMin()
		return
	}
	for se := &p.fair; se != nil; se = se.parent {
		f := se.cfsRQ
		se.vruntime += calcDelta(d, se.weight)
		f.updateMin()
		if f.runtimeEnabled {
			fc.accountRuntime(f, d)
		}
	}
}

// place mirrors place_entity() for a waking or new entity: not before
// min_vruntime minus half a latency period (sleeper credit), never moved
// backwards.
func (fc *fairClass) place(f *fairRQ, se *fairEntity, initial bool) {
	min := f.minVruntime
	if initial {
		if se.vruntime < min {
			se.vruntime = min
		}
		return
	}
	credit := 4 * fc.base()
	floor := uint64(0)
	if min > credit {
		floor = min - credit
	}
	if se.vruntime < floor {
		se.vruntime = floor
	}
}

// taskCfs binds p's entity to the queue of p's cgroup on rq's CPU and
// returns that queue.
func (fc *fairClass) taskCfs(rq *RQ, p *Task) *fairRQ {
	se := &p.fair
	se.task = p
	se.key = int64(p.PID)
	se.weight = p.weight
	cg := p.cgroup
	if cg == nil || cg.Parent == nil {
		se.cfsRQ, se.parent, se.depth = &rq.fair, nil, 0
		return &rq.fair
	}
	f := fc.groupCfs(cg, rq)
	se.cfsRQ, se.parent, se.depth = f, f.se, cg.Level
	return f
}

// Enqueue mirrors enqueue_task_fair(): queue p on its group's queue, then
// walk up queueing each group entity that was not queued, stopping at a
// throttled queue; the rest of the way up only counts the task.
func (fc *fairClass) Enqueue(rq *RQ, p *Task, flags int) {
	if rq.fair.hNr > 0 {
		fc.lb.overloaded = true // set_rd_overloaded(): two or more here
	}
	f := fc.taskCfs(rq, p)
	grouped := f.tg != nil
	if grouped {
		fc.UpdateCurr(rq)
	}
	if flags&EnqueueWakeup != 0 {
		fc.place(f, &p.fair, false)
	} else if flags&EnqueueInitial != 0 {
		fc.place(f, &p.fair, true)
	}
	rq.fair.listAdd(p)
	if !grouped {
		f.enqueueEntity(&p.fair)
		f.hNr++
		f.updateMin()
		return
	}
	se := &p.fair
	for ; se != nil; se = se.parent {
		if se.onRQ {
			break
		}
		f = se.cfsRQ
		if se.my != nil {
			fc.updateGroup(se)
			fc.place(f, se, false)
		}
		if f.nr == 0 && f.runtimeEnabled {
			fc.checkEnqueueThrottle(f)
		}
		f.enqueueEntity(se)
		f.updateMin()
		f.hNr++
		if f.throttled {
			rq.NrRunning-- // not counted while throttled
			return
		}
	}
	for ; se != nil; se = se.parent {
		f = se.cfsRQ
		fc.updateGroup(se)
		f.hNr++
		if f.throttled {
			rq.NrRunning--
			return
		}
	}
}

// Dequeue mirrors dequeue_task_fair(): take p off its group's queue, then
// walk up dequeueing group entities left empty.
func (fc *fairClass) Dequeue(rq *RQ, p *Task, flags int) {
	se := &p.fair
	f := se.cfsRQ
	rq.fair.listDel(p)
	if f.tg == nil {
		if se == f.curr {
			fc.UpdateCurr(rq)
		}
		f.dequeueEntity(se)
		f.hNr--
		return
	}
	fc.UpdateCurr(rq)
	for ; se != nil; se = se.parent {
		f = se.cfsRQ
		f.dequeueEntity(se)
		if se.my != nil {
			fc.updateGroup(se)
		}
		f.hNr--
		if f.throttled {
			rq.NrRunning++ // the core's decrement: it was not counted
			return
		}
		if f.nr > 0 {
			se = se.parent
			break
		}
		if f.runtimeEnabled {
			fc.returnRuntime(f)
		}
	}
	for ; se != nil; se = se.parent {
		f = se.cfsRQ
		fc.updateGroup(se)
		f.hNr--
		if f.throttled {
			rq.NrRunning++
			return
		}
	}
}

// setSkip marks p's entity and its ancestors to be passed over at the
// next pick (set_skip_buddy()).
func setSkip(p *Task) {
	for se := &p.fair; se != nil; se = se.parent {
		se.skip = true
	}
}

// Yield mirrors yield_task_fair(): the next pick prefers another task.
func (fc *fairClass) Yield(rq *RQ) {
	if p := rq.fair.currTask; p != nil {
		fc.UpdateCurr(rq)
		setSkip(p)
	}
}

func (fc *fairClass) YieldTo(rq *RQ, p *Task) bool {
	if c := rq.fair.currTask; c != nil {
		setSkip(c)
	}
	return true
}

// seIsIdle mirrors se_is_idle(): a SCHED_IDLE task or an idle group.
func seIsIdle(se *fairEntity) bool {
	if se.task != nil {
		return se.task.policy == PolicyIdle
	}
	return se.my.tg.idle
}

// findMatchingSE mirrors find_matching_se(): walk a and b up to entities
// queued on the same cfs_rq.
func findMatchingSE(a, b *fairEntity) (*fairEntity, *fairEntity) {
	for a.depth > b.depth {
		a = a.parent
	}
	for b.depth > a.depth {
		b = b.parent
	}
	for a.cfsRQ != b.cfsRQ {
		a, b = a.parent, b.parent
	}
	return a, b
}

// WakeupPreempt mirrors check_preempt_wakeup_fair(): a SCHED_IDLE current
// task is always preempted by a normal one; a batch or idle waker never
// preempts; otherwise, at the level where both hierarchies meet, an idle
// group yields to a non-idle one, and the waker preempts when its vruntime
// trails the current one's by more than the wakeup granularity.
func (fc *fairClass) WakeupPreempt(rq *RQ, p *Task, wf int) {
	curr := rq.curr
	if curr == p || rq.needResched || p.class != Class(fc) {
		return
	}
	if curr.policy == PolicyIdle && p.policy != PolicyIdle {
		fc.core.ReschedCurr(rq)
		return
	}
	if p.policy == PolicyBatch || p.policy == PolicyIdle {
		return
	}
	se, pse := &curr.fair, &p.fair
	if pse.cfsRQ != nil && pse.cfsRQ.throttleCount > 0 {
		return // queued in a throttled hierarchy: it cannot run
	}
	fc.UpdateCurr(rq)
	if curr == rq.fair.currTask && pse.cfsRQ != nil && se.cfsRQ != pse.cfsRQ {
		se, pse = findMatchingSE(se, pse)
		if !se.onRQ {
			// The running task's group left the queue (throttled).
			fc.core.ReschedCurr(rq)
			return
		}
		ci, pi := seIsIdle(se), seIsIdle(pse)
		if ci && !pi {
			fc.core.ReschedCurr(rq)
			return
		}
		if ci != pi {
			return
		}
	}
	gran := calcDelta(4*fc.base()/3, pse.weightOr(p))
	if pse.vruntime+gran < se.vruntime {
		fc.core.ReschedCurr(rq)
	}
}

// weightOr is the entity's weight, the task's for a task entity.
func (se *fairEntity) weightOr(p *Task) uint32 {
	if se.task != nil {
		return se.task.weight
	}
	return se.weight
}

// Balance mirrors balance_fair(): throttle the running hierarchy's queues
// that ran out of bandwidth (the check pick_next_task_fair() makes), then
// true when fair has a task; otherwise a fair task that just stopped
// triggers a newly-idle pull.
func (fc *fairClass) Balance(rq *RQ, prev *Task) bool {
	if p := rq.fair.currTask; p != nil && p.fair.cfsRQ.tg != nil {
		fc.checkRuntime(&p.fair)
	}
	if rq.fair.nr > 0 {
		return true
	}
	if !rq.online || prev.class != Class(fc) {
		return false
	}
	return fc.pullOne(rq)
}

// PickTask mirrors pick_task_fair(): from the root queue down, the
// smallest vruntime among each level's queued entities and its running
// one, a yielding one last.
func (fc *fairClass) PickTask(rq *RQ) *Task {
	if rq.fair.nr == 0 {
		return nil
	}
	f := &rq.fair
	currOK := f.currTask != nil && f.currTask == rq.curr
	for {
		var se *fairEntity
		l := f.leftmost()
		c := f.curr
		switch {
		case !currOK || c == nil || !c.onRQ:
			se = l
		case l == nil:
			se = c
		case c.skip || less(l, c):
			se = l
		default:
			se = c
		}
		if se == nil {
			return nil
		}
		if se.my == nil {
			return se.task
		}
		f = se.my
	}
}

func (fc *fairClass) PutPrev(rq *RQ, p *Task, next *Task) {
	if rq.fair.currTask != p {
		return
	}
	fc.UpdateCurr(rq)
	for se := &p.fair; se != nil; se = se.parent {
		f := se.cfsRQ
		se.skip = false
		if f.curr == se {
			f.curr = nil
		}
		if se.onRQ {
			f.push(se)
		}
	}
	rq.fair.currTask = nil
}

// SetNext mirrors set_next_task_fair(): the task and its ancestors leave
// their trees and become their queues' running entities; the task moves
// to the front of the tasks list, which is thus most recently run first.
func (fc *fairClass) SetNext(rq *RQ, p *Task, first bool) {
	for se := &p.fair; se != nil; se = se.parent {
		f := se.cfsRQ
		f.remove(se)
		f.curr = se
		se.skip = false
	}
	rq.fair.listMoveHead(p)
	rq.fair.currTask = p
	p.execStart = rq.clock
	p.fair.sliceStart = p.SumExecRuntime
}

// SelectTaskRQ mirrors select_task_rq_fair(): a fork or exec goes to the
// least loaded CPU (sched_balance_find_dst_cpu(), fairbalance.go); a
// wakeup reduces to select_idle_sibling(): prev if idle, else an idle CPU
// of prev's LLC, else prev. Idle CPUs of other LLCs get work through the
// newly-idle and periodic balancing.
func (fc *fairClass) SelectTaskRQ(p *Task, prev int, wf int) int {
	c := fc.core
	if wf&(WFFork|WFExec) != 0 {
		return fc.findIdlestCPU(p, prev)
	}
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

// TaskTick mirrors task_tick_fair(): charge the running task, refresh the
// shares of its group entities (update_cfs_group() from entity_tick()), and
// preempt it once it used its slice while others wait.
func (fc *fairClass) TaskTick(rq *RQ, p *Task) {
	fc.UpdateCurr(rq)
	if rq.fair.currTask != p {
		return
	}
	for se := p.fair.parent; se != nil; se = se.parent {
		fc.updateGroup(se)
	}
	if rq.fair.hNr < 2 {
		return
	}
	if p.SumExecRuntime-p.fair.sliceStart >= fc.slice(rq, p) {
		fc.core.ReschedCurr(rq)
	}
}

func (fc *fairClass) TaskFork(p *Task) {
	rq := fc.core.rqs[p.cpu]
	p.fair.heapIdx = -1
	p.fair.onRQ = false
	p.fair.vruntime = fc.taskCfs(rq, p).minVruntime
	p.fair.prev, p.fair.next, p.fair.listed = nil, nil, false
}

func (fc *fairClass) TaskDead(p *Task) {}

// SwitchingTo places a task arriving from another class at its queue's
// min_vruntime so stale vruntime neither starves nor favours it.
func (fc *fairClass) SwitchingTo(rq *RQ, p *Task) {
	p.fair.heapIdx = -1
	p.fair.onRQ = false
	p.fair.prev, p.fair.next, p.fair.listed = nil, nil, false
	p.fair.vruntime = fc.taskCfs(rq, p).minVruntime
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

// MigrateTaskRQ keeps p's lag relative to its queue's min_vruntime across
// CPUs.
func (fc *fairClass) MigrateTaskRQ(p *Task, newCPU int) {
	src := fc.taskCfs(fc.core.rqs[p.cpu], p)
	dst := fc.taskCfs(fc.core.rqs[newCPU], p)
	v := p.fair.vruntime
	if v >= src.minVruntime {
		v = v - src.minVruntime + dst.minVruntime
	} else {
		v = dst.minVruntime
	}
	p.fair.vruntime = v
}

func (fc *fairClass) RQOnline(rq *RQ)  {}
func (fc *fairClass) RQOffline(rq *RQ) {}

// sysctlNrMigrate is sysctl_sched_nr_migrate: the most tasks one load
// balancing pass looks at on the busiest runqueue.
const sysctlNrMigrate = 32

// movable reports whether queued fair task p may be pulled to cpu: not
// running, allowed there, and not in a throttled hierarchy on either CPU
// (throttled_lb_pair()).
func (fc *fairClass) movable(rq *RQ, p *Task, cpu int) bool {
	if p == rq.curr || !p.cpus.Test(cpu) || p.MigrationDisabled() {
		return false
	}
	if f := p.fair.cfsRQ; f.tg != nil {
		if f.throttleCount > 0 {
			return false
		}
		if d := f.tg.cfs[cpu]; d != nil && d.throttleCount > 0 {
			return false
		}
	}
	return true
}

// detachOne mirrors detach_tasks() for a pass that moves one task (a
// newly-idle balance, or a push to one idle CPU): walk src's tasks list
// from the tail, least recently run first, looking at no more than
// loop_max = min(sysctl_sched_nr_migrate, nr_running) tasks; a task that
// cannot move to cpu goes to the front of the list, as in the kernel, so
// the next pass looks at others. Returns the first task that may move, or
// nil.
func (fc *fairClass) detachOne(src *RQ, cpu int) *Task {
	if src.NrRunning <= 1 {
		return nil
	}
	loopMax := min(sysctlNrMigrate, src.NrRunning)
	for loop := 1; loop <= loopMax; loop++ {
		p := src.fair.tail
		if p == nil {
			return nil
		}
		if fc.movable(src, p, cpu) {
			return p
		}
		src.fair.listMoveHead(p)
	}
	return nil
}

// pullOne mirrors a newly-idle balance (sched_balance_newidle()): walk
// dst's domains from the lowest and, at the first level where one of the
// CPUs not seen below has at least two fair tasks, detach one task from
// the one with the most (the first in CPU order on a tie) through
// detachOne. A machine without domains (one CPU) has nothing to pull.
// As the kernel skips the walk unless the root domain is overloaded
// (rd->overloaded), it is skipped unless some CPU may hold two fair
// tasks: the flag is set by any enqueue onto a CPU with a fair task and
// cleared by a walk that found none.
func (fc *fairClass) pullOne(dst *RQ) bool {
	if !fc.lb.built {
		fc.buildDomains()
	}
	c := fc.core
	lb := &fc.lb
	if !lb.overloaded {
		return false
	}
	lb.gen++
	found := false
	for _, d := range lb.doms[dst.CPU] {
		var busiest *RQ
		for _, x := range d.sd.span {
			if lb.seen[x] == lb.gen {
				continue
			}
			lb.seen[x] = lb.gen
			rq := c.rqs[x]
			if rq == dst || !rq.online || rq.fair.hNr < 2 {
				continue
			}
			found = true
			if busiest == nil || rq.fair.hNr > busiest.fair.hNr {
				busiest = rq
			}
		}
		if busiest == nil {
			continue
		}
		pick := fc.detachOne(busiest, dst.CPU)
		if pick == nil {
			continue
		}
		c.MoveQueuedTask(pick, dst.CPU)
		return true
	}
	if !found && len(lb.doms[dst.CPU]) > 0 && dst.online {
		lb.overloaded = false
	}
	return false
}

// balanceTick runs at every tick: the periodic load balance of the CPU's
// domains when due (periodicBalance, fairbalance.go), then the nohz idle
// balance stand-in: a CPU with waiting fair tasks pushes one to an idle
// CPU that may run it and reschedules that CPU. Each push attempt is a
// bounded detachOne pass.
func (fc *fairClass) balanceTick(rq *RQ) {
	fc.periodicBalance(rq)
	if rq.fair.hNr < 2 {
		return
	}
	c := fc.core
	try := func(cpu int) bool {
		d := c.RQ(cpu)
		if d == nil || d == rq || !d.online || !d.IsIdle() {
			return false
		}
		pick := fc.detachOne(rq, cpu)
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
