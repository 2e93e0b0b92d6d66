package sched

// Group scheduling of the fair class (CONFIG_FAIR_GROUP_SCHED): every
// cgroup other than the root has, on each CPU it is used on, a queue of its
// own (fairRQ) and a group entity queued on its parent's queue there. A
// task queues on its cgroup's queue of its CPU; picking descends from the
// CPU's root queue taking the smallest vruntime at each level, and running
// time advances every level's vruntime by the delta scaled by that level's
// entity weight. A group entity weighs the group's shares (cpu.weight, 100
// is 1024) times the share of the group's load queued on that CPU
// (calc_group_shares()). The kernel uses PELT load averages there; the
// simulation uses the instantaneous queued load: sum of the weights queued
// on the group's queue on the CPU, over the sum on all CPUs.

// Share bounds of the kernel (unscaled).
const (
	minShares = 2       // MIN_SHARES
	maxShares = 1 << 18 // MAX_SHARES
)

// taskGroup is the fair class's part of a task_group: per-CPU queues and
// group entities, shares and bandwidth.
type taskGroup struct {
	cg     *Cgroup
	parent *taskGroup // nil when the parent is the root
	// children are the child groups created so far, in creation order.
	children []*taskGroup
	// cfs holds the group's queue on each CPU (by cpu id), created the
	// first time the group is used there; the group entity is embedded.
	cfs []*fairRQ
	ses []*fairEntity
	// shares is tg->shares: the group's weight at its parent's level.
	shares uint32
	idle   bool
	// load sums the queued weight of the group's queues on every CPU
	// (the instantaneous stand-in for tg->load_avg).
	load uint64
	bw   bandwidth
	dead bool
}

// weightToShares mirrors sched_weight_from_cgroup(): cpu.weight 100 is
// NICE_0_LOAD, rounded to the closest.
func weightToShares(w uint32) uint32 {
	s := (uint64(w)*Nice0Load + 50) / 100
	return uint32(min(max(s, minShares), maxShares))
}

// tgOf returns cg's task group, creating it (and its ancestors') on first
// use. nil for the root cgroup.
func (fc *fairClass) tgOf(cg *Cgroup) *taskGroup {
	if cg == nil || cg.Parent == nil {
		return nil
	}
	if cg.fair != nil {
		return cg.fair
	}
	tg := &taskGroup{cg: cg, parent: fc.tgOf(cg.Parent), cfs: make([]*fairRQ, len(fc.core.rqs)),
		ses: make([]*fairEntity, len(fc.core.rqs)), idle: cg.Idle}
	tg.shares = weightToShares(cg.Weight)
	if tg.idle {
		tg.shares = WeightIdle
	}
	tg.bw.init(cg)
	cg.fair = tg
	fc.groups = append(fc.groups, tg)
	if tg.parent != nil {
		tg.parent.children = append(tg.parent.children, tg)
	}
	return tg
}

// groupCfs returns cg's queue on rq's CPU (the root queue for the root
// cgroup), creating it and its group entity, and its ancestors', on first
// use (alloc_fair_sched_group() + init_tg_cfs_entry(), done lazily).
func (fc *fairClass) groupCfs(cg *Cgroup, rq *RQ) *fairRQ {
	tg := fc.tgOf(cg)
	if tg == nil {
		return &rq.fair
	}
	if f := tg.cfs[rq.CPU]; f != nil {
		return f
	}
	parent := fc.groupCfs(cg.Parent, rq)
	f := &fairRQ{rq: rq, tg: tg}
	se := &fairEntity{heapIdx: -1, weight: tg.shares, key: -int64(cg.ID), depth: cg.Level - 1,
		cfsRQ: parent, parent: parent.se, my: f}
	f.se = se
	f.throttleCount = parent.throttleCount
	if tg.bw.enabled() {
		f.runtimeEnabled = true
	}
	tg.cfs[rq.CPU], tg.ses[rq.CPU] = f, se
	return f
}

// calcGroupShares mirrors calc_group_shares() on instantaneous load: the
// group's shares times this queue's part of the group's load, clamped to
// [MIN_SHARES, shares].
func calcGroupShares(f *fairRQ) uint32 {
	tg := f.tg
	shares := uint64(tg.shares)
	s := shares * f.load
	if tg.load != 0 {
		s /= tg.load
	}
	return uint32(min(max(s, minShares), shares))
}

// updateGroup mirrors update_cfs_group(): re-weigh group entity se from
// its queue's current share; an empty or throttled queue keeps its weight.
func (fc *fairClass) updateGroup(se *fairEntity) {
	f := se.my
	if f == nil || f.load == 0 || f.throttleCount > 0 {
		return
	}
	if w := calcGroupShares(f); w != se.weight {
		reweightEntity(se, w)
	}
}

// reweightEntity mirrors reweight_entity() as the CFS-era kernel did it:
// the queue's load follows, vruntime is kept.
func reweightEntity(se *fairEntity, w uint32) {
	if se.onRQ {
		se.cfsRQ.addLoad(uint64(se.weight), false)
		se.cfsRQ.addLoad(uint64(w), true)
	}
	se.weight = w
}

// updateGroupAll re-weighs tg's group entities on every CPU and their
// ancestors, as sched_group_set_shares() does after a shares change.
func (fc *fairClass) updateGroupAll(tg *taskGroup) {
	for cpu, se := range tg.ses {
		if se == nil {
			continue
		}
		rq := fc.core.rqs[cpu]
		rq.UpdateClock()
		fc.UpdateCurr(rq)
		for ; se != nil; se = se.parent {
			fc.updateGroup(se)
		}
	}
}

// setShares mirrors __sched_group_set_shares().
func (fc *fairClass) setShares(tg *taskGroup, shares uint32) {
	if tg.shares == shares {
		return
	}
	tg.shares = shares
	fc.updateGroupAll(tg)
}

// cgroupSetWeight applies cpu.weight (sched_group_set_shares()).
func (fc *fairClass) cgroupSetWeight(cg *Cgroup, weight uint32) {
	tg := fc.tgOf(cg)
	if tg == nil || tg.idle {
		return
	}
	fc.setShares(tg, weightToShares(weight))
}

// cgroupSetIdle applies cpu.idle (sched_group_set_idle()): an idle group
// weighs WEIGHT_IDLEPRIO at its parent's level and loses wakeup preemption
// against non-idle siblings. Clearing it sets the shares to NICE_0_LOAD,
// as the kernel does, whatever cpu.weight was before.
func (fc *fairClass) cgroupSetIdle(cg *Cgroup, idle bool) {
	fresh := cg.fair == nil
	tg := fc.tgOf(cg)
	if tg == nil || (tg.idle == idle && !fresh) {
		return
	}
	tg.idle = idle
	if idle {
		fc.setShares(tg, WeightIdle)
	} else {
		fc.setShares(tg, Nice0Load)
	}
}

// cgroupRemove frees cg's per-CPU state (unregister_fair_sched_group()):
// the group holds no task, so its entities are off every queue; a running
// bandwidth timer stops at its next expiry.
func (fc *fairClass) cgroupRemove(cg *Cgroup) {
	tg := cg.fair
	if tg == nil {
		return
	}
	for cpu, f := range tg.cfs {
		if f == nil {
			continue
		}
		if f.throttled {
			fc.unthrottle(f)
		}
		if se := tg.ses[cpu]; se.onRQ {
			// Cannot happen with no task in the group; keep the parent
			// consistent anyway.
			se.cfsRQ.dequeueEntity(se)
		}
	}
	tg.dead = true
	tg.bw.throttled = nil
	// The queues stay reachable from any child group (the kernel refuses
	// to remove a cgroup with children; the core does not check), so
	// only the links to the group go.
	cg.fair = nil
	fc.groups = deleteTG(fc.groups, tg)
	if tg.parent != nil {
		tg.parent.children = deleteTG(tg.parent.children, tg)
	}
}

// GroupShares returns the weight of cg's group entity on cpu (its share at
// the parent's level), 0 if the group has not been used there. For tests
// and reports.
func (c *Core) GroupShares(cg *Cgroup, cpu int) uint32 {
	tg := cg.fair
	if tg == nil || cpu < 0 || cpu >= len(tg.ses) || tg.ses[cpu] == nil {
		return 0
	}
	return tg.ses[cpu].weight
}

func deleteTG(s []*taskGroup, tg *taskGroup) []*taskGroup {
	for i, g := range s {
		if g == tg {
			return append(s[:i], s[i+1:]...)
		}
	}
	return s
}

// taskMoveGroup mirrors task_change_group_fair() for p leaving cgroup from
// for to (p is off its queue): its vruntime keeps its lag relative to the
// queue's min_vruntime, from the old group's queue on its CPU to the new
// one's.
func (fc *fairClass) taskMoveGroup(p *Task, from, to *Cgroup) {
	rq := fc.core.rqs[p.cpu]
	src, dst := fc.groupCfs(from, rq), fc.groupCfs(to, rq)
	if v := p.fair.vruntime; v >= src.minVruntime {
		p.fair.vruntime = v - src.minVruntime + dst.minVruntime
	} else {
		p.fair.vruntime = dst.minVruntime
	}
}
