package sched

import "slices"

// Load balancing of the fair class across the machine's scheduling
// domains (the SMP part of kernel/sched/fair.c), simplified: loads are
// instantaneous (the root cfs_rq's queued weight, no PELT), there is no
// utilization signal, no active balancing of running tasks, no cache-hot
// test and no NUMA imbalance allowance. See the package documentation.

// Domain levels, lowest first, as the default topology builds them.
const (
	sdSMT = iota
	sdMC
	sdPKG
	sdNUMA
	sdLevels
)

var sdNames = [sdLevels]string{"SMT", "MC", "PKG", "NUMA"}

const (
	lbBusyFactor        = 16  // sd->busy_factor
	lbMaxPinnedInterval = 512 // MAX_PINNED_INTERVAL (ms)
)

// schedDomain is a sched_domain shared by the CPUs of its span: the span
// and its groups (the child level's spans), in ascending CPU order.
type schedDomain struct {
	level  int
	span   []int
	groups [][]int
	// imbalancePct is sd->imbalance_pct: 110 at SMT, 117 above.
	imbalancePct uint64
	// shareLLC is SD_SHARE_LLC: the span shares a last-level cache.
	shareLLC bool
}

// cpuDomain is one CPU's view of a domain: the kernel keeps a sched_domain
// per CPU, with its own balancing state.
type cpuDomain struct {
	sd    *schedDomain
	local int // index of the group holding the CPU
	// lastBalance is sd->last_balance (ns), intervalMS sd->balance_interval.
	lastBalance uint64
	intervalMS  uint64
	nrFailed    uint // sd->nr_balance_failed
}

// fairLB is the fair class's balancing state.
type fairLB struct {
	built bool
	// overloaded is rd->overloaded: some CPU may hold two or more fair
	// tasks (see pullOne).
	overloaded bool
	doms       [][]cpuDomain // per cpu id, lowest level first
	next       []uint64      // rq->next_balance (ns), per cpu id
	cap        []uint64      // capacity_of(), per cpu id
	// seen marks the CPUs a newly-idle walk looked at (seen[cpu] == gen).
	seen []uint32
	gen  uint32
}

// Group classification (enum group_type), the subset modelled.
const (
	groupHasSpare = iota
	groupFullyBusy
	groupOverloaded
)

// Migration types (enum migration_type), the subset modelled.
const (
	migrateLoad = iota
	migrateTask
)

// sgStats is sg_lb_stats.
type sgStats struct {
	load, capacity, avgLoad uint64
	nrRunning, hNr          int
	idleCPUs, weight        int
	kind                    int
}

// classify sets the group's kind from its task count against its CPUs and,
// for a busy group, its average load per capacity (group_classify() and
// the avg_load of update_sg_lb_stats(), without PELT).
func (s *sgStats) classify() {
	switch {
	case s.nrRunning > s.weight:
		s.kind = groupOverloaded
	case s.nrRunning == s.weight && s.weight > 0:
		s.kind = groupFullyBusy
	default:
		s.kind = groupHasSpare
	}
	if s.kind != groupHasSpare && s.capacity > 0 {
		s.avgLoad = s.load * 1024 / s.capacity
	}
}

// spanUnion returns the sorted union of sorted a and b, a itself when it
// already holds b.
func spanUnion(a, b []int) []int {
	if spanHas(a, b) {
		return a
	}
	out := make([]int, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i >= len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// spanHas reports whether sorted a holds every CPU of sorted b.
func spanHas(a, b []int) bool {
	i := 0
	for _, x := range b {
		for i < len(a) && a[i] < x {
			i++
		}
		if i >= len(a) || a[i] != x {
			return false
		}
	}
	return true
}

// buildDomains builds the domain hierarchy of every possible CPU once
// (build_sched_domains() over the default topology: SMT siblings, the LLC,
// the node, the machine), dropping levels that span no more than the level
// below (sd_degenerate()). Domains with the same span are shared.
func (fc *fairClass) buildDomains() {
	c := fc.core
	m := c.m
	n := len(c.rqs)
	lb := &fc.lb
	lb.built = true
	lb.overloaded = true
	lb.doms = make([][]cpuDomain, n)
	lb.next = make([]uint64, n)
	lb.cap = make([]uint64, n)
	lb.seen = make([]uint32, n)
	var all []int
	for _, cc := range m.CPUs() {
		all = append(all, cc.ID)
		lb.cap[cc.ID] = uint64(cc.Capacity)
	}
	levelSpan := func(lv, cpu int) []int {
		switch lv {
		case sdSMT:
			return m.Siblings(cpu)
		case sdMC:
			return m.LLCCPUs(cpu)
		case sdPKG:
			if cc, _ := m.CPU(cpu); cc.Node >= 0 {
				return m.NodeCPUs(cc.Node)
			}
		}
		return all
	}
	// spans[lv][cpu]: cpu's span at each level, each a superset of the
	// one below.
	var spans [sdLevels][][]int
	for lv := range sdLevels {
		spans[lv] = make([][]int, n)
	}
	for _, cpu := range all {
		child := []int{cpu}
		for lv := range sdLevels {
			child = spanUnion(levelSpan(lv, cpu), child)
			spans[lv][cpu] = child
		}
	}
	var byFirst [sdLevels][]*schedDomain
	covered := make([]bool, n)
	for lv := range sdLevels {
		byFirst[lv] = make([]*schedDomain, n)
	}
	for _, cpu := range all {
		prev := []int{cpu}
		for lv := range sdLevels {
			span := spans[lv][cpu]
			if len(span) == len(prev) {
				continue // degenerate: same span as the level below
			}
			prev = span
			sd := byFirst[lv][span[0]]
			if sd == nil || !slices.Equal(sd.span, span) {
				sd = &schedDomain{level: lv, span: span, imbalancePct: 117, shareLLC: lv <= sdMC}
				if lv == sdSMT {
					sd.imbalancePct = 110
				}
				for _, x := range span {
					if covered[x] {
						continue
					}
					var g []int
					if lv == sdSMT {
						g = []int{x}
					} else {
						for _, y := range spans[lv-1][x] {
							if !covered[y] && slices.Contains(span, y) {
								g = append(g, y)
							}
						}
					}
					for _, y := range g {
						covered[y] = true
					}
					sd.groups = append(sd.groups, g)
				}
				for _, x := range span {
					covered[x] = false
				}
				if byFirst[lv][span[0]] == nil {
					byFirst[lv][span[0]] = sd
				}
			}
			d := cpuDomain{sd: sd, intervalMS: uint64(len(span))}
			for i, g := range sd.groups {
				if _, ok := slices.BinarySearch(g, cpu); ok {
					d.local = i
					break
				}
			}
			lb.doms[cpu] = append(lb.doms[cpu], d)
		}
	}
}

// DomainLevels returns the names of cpu's balancing domain levels, lowest
// first, with each level's group count. For tests and reports.
func (c *Core) DomainLevels(cpu int) []string {
	fc := c.fair
	if !fc.lb.built {
		fc.buildDomains()
	}
	var out []string
	if cpu < 0 || cpu >= len(fc.lb.doms) {
		return nil
	}
	for _, d := range fc.lb.doms[cpu] {
		out = append(out, sdNames[d.sd.level])
	}
	return out
}

// lbInterval mirrors get_sd_balance_interval(): balance_interval ms, times
// busy_factor on a busy CPU, between one tick and
// max_load_balance_interval (HZ*num_online_cpus()/10).
func (fc *fairClass) lbInterval(d *cpuDomain, busy bool) uint64 {
	ms := d.intervalMS
	if busy {
		ms *= lbBusyFactor
	}
	ns := ms * 1_000_000
	tick := fc.core.opts.TickNS
	maxNS := uint64(max(fc.core.active.Weight(), 1)) * 100_000_000
	return min(max(ns, tick), max(maxNS, tick))
}

// cpuIdleForLB is idle_cpu() for balancing: nothing runs or waits.
func (fc *fairClass) cpuIdleForLB(cpu int) bool {
	rq := fc.core.rqs[cpu]
	return rq.IsIdle()
}

// periodicBalance mirrors sched_balance_trigger() + sched_balance_domains()
// at a tick: when rq's next balance is due, walk its domains from the
// lowest, balancing each whose interval elapsed, and stop above a level
// where another CPU of the local group is the one to balance.
func (fc *fairClass) periodicBalance(rq *RQ) {
	if !fc.lb.built {
		fc.buildDomains()
	}
	cpu := rq.CPU
	now := rq.clock
	lb := &fc.lb
	if now < lb.next[cpu] || !rq.online {
		return
	}
	idle := rq.IsIdle()
	busy := !idle
	next := now + 60_000_000_000
	doms := lb.doms[cpu]
	for i := range doms {
		d := &doms[i]
		interval := fc.lbInterval(d, busy)
		if now >= d.lastBalance+interval {
			cont := fc.balanceRQ(rq, d, idle)
			d.lastBalance = now
			idle = rq.IsIdle()
			busy = !idle
			interval = fc.lbInterval(d, busy)
			if !cont {
				next = min(next, d.lastBalance+interval)
				break
			}
		}
		next = min(next, d.lastBalance+interval)
	}
	lb.next[cpu] = next
}

// shouldWeBalance mirrors should_we_balance(): of the local group, the
// first idle CPU balances, or the group's first CPU when none is idle.
func (fc *fairClass) shouldWeBalance(cpu int, g []int) bool {
	c := fc.core
	first := -1
	for _, x := range g {
		if !c.active.Test(x) {
			continue
		}
		if first < 0 {
			first = x
		}
		if fc.cpuIdleForLB(x) {
			return x == cpu
		}
	}
	return first == cpu
}

// sgLBStats mirrors update_sg_lb_stats() and group_classify() without
// utilization: more runnable tasks than CPUs is overloaded, as many is
// fully busy.
func (fc *fairClass) sgLBStats(g []int) sgStats {
	c := fc.core
	var s sgStats
	for _, x := range g {
		rq := c.rqs[x]
		if !rq.online {
			continue
		}
		s.weight++
		s.load += rq.fair.load
		s.capacity += fc.lb.cap[x]
		s.nrRunning += rq.NrRunning
		s.hNr += rq.fair.hNr
		if rq.IsIdle() {
			s.idleCPUs++
		}
	}
	s.classify()
	return s
}

// pickBusiest mirrors update_sd_pick_busiest(): the higher group type;
// within overloaded or fully busy the higher average load, then the more
// fair tasks; within spare capacity the fewer idle CPUs, then the more
// tasks.
func pickBusiest(s, b *sgStats, have bool) bool {
	if s.hNr == 0 {
		return false
	}
	if !have {
		return true
	}
	if s.kind != b.kind {
		return s.kind > b.kind
	}
	switch s.kind {
	case groupOverloaded, groupFullyBusy:
		if s.avgLoad != b.avgLoad {
			return s.avgLoad > b.avgLoad
		}
		// Equal loads (exact here, PELT makes them differ in the
		// kernel): the group with more tasks, whose load comes in
		// smaller pieces.
		return s.hNr > b.hNr
	default:
		if s.idleCPUs != b.idleCPUs {
			return s.idleCPUs < b.idleCPUs
		}
		return s.nrRunning > b.nrRunning
	}
}

// siblingImbalance mirrors sibling_imbalance() with group weights standing
// in for core counts: the task-count difference to spread evenly.
func siblingImbalance(idle bool, b, l *sgStats) int {
	if !idle || b.nrRunning == 0 {
		return 0
	}
	if b.weight == l.weight {
		return max(b.nrRunning-l.nrRunning, 0)
	}
	imb := max(l.weight*b.nrRunning-b.weight*l.nrRunning, 0)
	imb = (2*imb + l.weight + b.weight) / (l.weight + b.weight)
	if imb <= 1 && l.nrRunning == 0 && b.nrRunning > 1 {
		imb = 2
	}
	return imb
}

// balanceRQ mirrors sched_balance_rq() for a periodic balance of d by
// rq's CPU: find the busiest group (sched_balance_find_src_group() with
// calculate_imbalance()) and its busiest CPU, then pull up to the
// imbalance. Returns false when another CPU of the local group balances
// this level (continue_balancing = 0).
func (fc *fairClass) balanceRQ(rq *RQ, d *cpuDomain, idle bool) bool {
	sd := d.sd
	if !fc.shouldWeBalance(rq.CPU, sd.groups[d.local]) {
		return false
	}
	var local, busiest sgStats
	var busiestG []int
	have := false
	var totalLoad, totalCap uint64
	for i, g := range sd.groups {
		s := fc.sgLBStats(g)
		totalLoad += s.load
		totalCap += s.capacity
		if i == d.local {
			local = s
			continue
		}
		if pickBusiest(&s, &busiest, have) {
			busiest, busiestG, have = s, g, true
		}
	}
	mt, imb := fc.findImbalance(sd, idle, &local, &busiest, have, totalLoad, totalCap)
	if imb <= 0 {
		fc.lbBalanced(d, false)
		return true
	}
	src := fc.findBusiestQueue(busiestG, mt, imb)
	if src == nil {
		fc.lbBalanced(d, false)
		return true
	}
	moved, allPinned := 0, true
	if src.NrRunning > 1 {
		moved, allPinned = fc.detachTasks(src, rq.CPU, d, mt, imb, idle)
	}
	if moved == 0 {
		if allPinned {
			fc.lbBalanced(d, true)
			return true
		}
		d.nrFailed++
	} else {
		d.nrFailed = 0
	}
	d.intervalMS = uint64(len(sd.span)) // unbalanced: back to min_interval
	return true
}

// lbBalanced is the out_balanced / out_one_pinned tail of
// sched_balance_rq(): lengthen the interval up to max_interval (2x the
// span weight), or MAX_PINNED_INTERVAL when every task was pinned.
func (fc *fairClass) lbBalanced(d *cpuDomain, allPinned bool) {
	if !allPinned {
		d.nrFailed = 0
	}
	maxMS := 2 * uint64(len(d.sd.span))
	if (allPinned && d.intervalMS < lbMaxPinnedInterval) || d.intervalMS < maxMS {
		d.intervalMS *= 2
	}
}

// findImbalance mirrors the decisions of sched_balance_find_src_group()
// and calculate_imbalance(): a busy CPU pulls only from an overloaded
// group; between overloaded (or soon overloaded) groups the imbalance is
// load, to bring both to the domain average; a local group with spare
// capacity asks for tasks (half the task-count difference, or of the
// idle-CPU difference).
func (fc *fairClass) findImbalance(sd *schedDomain, idle bool, local, busiest *sgStats, have bool,
	totalLoad, totalCap uint64) (int, int64) {
	if !have || busiest.nrRunning == 0 {
		return 0, 0
	}
	if local.kind > busiest.kind {
		return 0, 0
	}
	var sdAvg uint64
	if totalCap > 0 {
		sdAvg = totalLoad * 1024 / totalCap
	}
	if local.kind == groupOverloaded {
		if local.avgLoad >= busiest.avgLoad || local.avgLoad >= sdAvg {
			return 0, 0
		}
		if 100*busiest.avgLoad <= sd.imbalancePct*local.avgLoad {
			return 0, 0
		}
	}
	preferSibling := sd.level != sdNUMA
	force := preferSibling && local.kind == groupHasSpare && siblingImbalance(idle, busiest, local) > 1
	if !force && busiest.kind != groupOverloaded {
		if !idle {
			return 0, 0
		}
		if busiest.weight > 1 && local.idleCPUs <= busiest.idleCPUs+1 {
			return 0, 0
		}
		if busiest.hNr == 1 {
			return 0, 0
		}
	}
	// calculate_imbalance()
	if local.kind == groupHasSpare {
		if busiest.kind > groupFullyBusy && !sd.shareLLC {
			// migrate_util to fill the spare capacity: without a
			// utilization signal, one task per idle CPU.
			return migrateTask, int64(max(local.idleCPUs, 1))
		}
		var n int
		if busiest.weight == 1 || preferSibling {
			n = siblingImbalance(idle, busiest, local)
		} else {
			n = max(local.idleCPUs-busiest.idleCPUs, 0)
		}
		return migrateTask, int64(n >> 1)
	}
	if local.kind < groupOverloaded {
		if local.capacity > 0 {
			local.avgLoad = local.load * 1024 / local.capacity
		}
		if local.avgLoad >= busiest.avgLoad || local.avgLoad >= sdAvg {
			return 0, 0
		}
	}
	if busiest.avgLoad <= sdAvg {
		return 0, 0
	}
	a := (busiest.avgLoad - sdAvg) * busiest.capacity
	b := (sdAvg - local.avgLoad) * local.capacity
	return migrateLoad, int64(min(a, b) / 1024)
}

// findBusiestQueue mirrors sched_balance_find_src_rq(): the group's CPU
// with the highest load per capacity (skipping one whose single task
// weighs more than the imbalance), or with the most fair tasks.
func (fc *fairClass) findBusiestQueue(g []int, mt int, imb int64) *RQ {
	var best *RQ
	var bestLoad, bestCap uint64
	bestNr := 0
	for _, x := range g {
		rq := fc.core.rqs[x]
		if !rq.online || rq.fair.hNr == 0 {
			continue
		}
		switch mt {
		case migrateLoad:
			load, capa := rq.fair.load, fc.lb.cap[x]
			if rq.NrRunning == 1 && int64(load) > imb {
				continue
			}
			if best == nil || load*bestCap > bestLoad*capa {
				best, bestLoad, bestCap = rq, load, capa
			}
		default:
			if rq.fair.hNr > bestNr {
				best, bestNr = rq, rq.fair.hNr
			}
		}
	}
	return best
}

// taskHLoad mirrors task_h_load() on instantaneous load: p's weight scaled
// at each group level by the group entity's weight over its queue's load,
// so a task counts for its share of the CPU's root load.
func taskHLoad(p *Task) uint64 {
	se := &p.fair
	h := uint64(se.weight)
	for ; se.parent != nil; se = se.parent {
		if l := se.cfsRQ.load; l > 0 {
			h = h * uint64(se.parent.weight) / l
		}
	}
	return max(h, 1)
}

// detachTasks mirrors detach_tasks() + attach_tasks(): from src's tasks
// list tail (least recently run first), look at up to loop_max =
// min(sysctl_sched_nr_migrate, nr_running) tasks, moving those that may
// run on dst until the imbalance is met. A task weighing more than the
// imbalance is skipped, less so after failed balances (load halved per
// failure). Returns the tasks moved and whether every task looked at was
// pinned away from dst.
func (fc *fairClass) detachTasks(src *RQ, dst int, d *cpuDomain, mt int, imb int64, idle bool) (int, bool) {
	c := fc.core
	loopMax := min(sysctlNrMigrate, src.NrRunning)
	moved, allPinned := 0, true
	for loop := 0; loop < loopMax; loop++ {
		if idle && src.NrRunning <= 1 {
			break
		}
		p := src.fair.tail
		if p == nil {
			break
		}
		if p.cpus.Test(dst) {
			allPinned = false
		}
		if !fc.movable(src, p, dst) {
			src.fair.listMoveHead(p)
			continue
		}
		switch mt {
		case migrateLoad:
			load := taskHLoad(p)
			if int64(load>>min(d.nrFailed, 63)) > imb {
				src.fair.listMoveHead(p)
				continue
			}
			imb -= int64(load)
		default:
			imb--
		}
		c.MoveQueuedTask(p, dst)
		moved++
		if imb <= 0 {
			break
		}
	}
	return moved, allPinned
}

// findIdlestCPU mirrors sched_balance_find_dst_cpu() for fork and exec
// placement: from cpu's highest domain down, the least loaded group
// (sched_balance_find_dst_group()) and in it the least loaded allowed CPU
// (sched_balance_find_dst_group_cpu()), descending into that CPU's
// domains below the level just balanced.
func (fc *fairClass) findIdlestCPU(p *Task, cpu int) int {
	if !fc.lb.built {
		fc.buildDomains()
	}
	doms := fc.lb.doms[cpu]
	lv := len(doms) - 1
	for lv >= 0 {
		d := &doms[lv]
		g := fc.findIdlestGroup(d, p, cpu)
		if g == nil {
			lv--
			continue
		}
		nc := fc.findIdlestGroupCPU(g, p, cpu)
		if nc == cpu || nc < 0 {
			lv--
			continue
		}
		weight := len(d.sd.span)
		cpu = nc
		doms = fc.lb.doms[cpu]
		lv = -1
		for i := range doms {
			if len(doms[i].sd.span) >= weight {
				break
			}
			lv = i
		}
	}
	return cpu
}

// sgWakeupStats mirrors update_sg_wakeup_stats(): g's stats over the CPUs
// p may use, without p itself.
func (fc *fairClass) sgWakeupStats(g []int, p *Task) (sgStats, bool) {
	c := fc.core
	var s sgStats
	allowed := false
	for _, x := range g {
		rq := c.rqs[x]
		if !rq.online {
			continue
		}
		s.weight++
		s.capacity += fc.lb.cap[x]
		if !p.cpus.Test(x) {
			continue
		}
		allowed = true
		load, nr := rq.fair.load, rq.NrRunning
		if p.onRQ && p.cpu == x {
			load -= min(uint64(p.fair.weight), load)
			nr--
		}
		s.load += load
		s.nrRunning += nr
		if nr == 0 && (rq.curr == rq.idle || rq.curr == p) {
			s.idleCPUs++
		}
	}
	s.classify()
	return s, allowed
}

// findIdlestGroup mirrors sched_balance_find_dst_group(): the least busy
// group other than the local one (lower group type, then lower average
// load, or more idle CPUs and fewer tasks; the first in CPU order on a
// tie), or nil to stay in the local group unless the other is clearly
// better (by imbalance_pct for loaded groups, by idle CPUs otherwise).
func (fc *fairClass) findIdlestGroup(d *cpuDomain, p *Task, cpu int) []int {
	var local, idlest sgStats
	var idlestG []int
	haveLocal := false
	for i, g := range d.sd.groups {
		s, ok := fc.sgWakeupStats(g, p)
		if !ok {
			continue
		}
		if i == d.local {
			local, haveLocal = s, true
			continue
		}
		if idlestG == nil || pickIdlest(&s, &idlest) {
			idlest, idlestG = s, g
		}
	}
	if idlestG == nil {
		return nil
	}
	if !haveLocal {
		return idlestG
	}
	if local.kind != idlest.kind {
		if local.kind < idlest.kind {
			return nil
		}
		return idlestG
	}
	switch local.kind {
	case groupOverloaded, groupFullyBusy:
		margin := uint64(1024) * (d.sd.imbalancePct - 100) / 100
		if idlest.avgLoad >= local.avgLoad+margin {
			return nil
		}
		if 100*local.avgLoad <= d.sd.imbalancePct*idlest.avgLoad {
			return nil
		}
	default:
		if local.idleCPUs >= idlest.idleCPUs {
			return nil
		}
	}
	return idlestG
}

// pickIdlest mirrors update_pick_idlest(), task counts standing in for
// utilization.
func pickIdlest(s, b *sgStats) bool {
	if s.kind != b.kind {
		return s.kind < b.kind
	}
	switch s.kind {
	case groupOverloaded, groupFullyBusy:
		return s.avgLoad < b.avgLoad
	default:
		if s.idleCPUs != b.idleCPUs {
			return s.idleCPUs > b.idleCPUs
		}
		return s.nrRunning < b.nrRunning
	}
}

// findIdlestGroupCPU mirrors sched_balance_find_dst_group_cpu(): cpu if
// it is an idle allowed CPU of g, else g's first idle allowed CPU, else
// its least loaded allowed one (fewest tasks on equal load), first in CPU
// order on a tie.
func (fc *fairClass) findIdlestGroupCPU(g []int, p *Task, cpu int) int {
	c := fc.core
	best, bestIdle := -1, false
	var bestLoad uint64
	bestNr := 0
	for _, x := range g {
		rq := c.rqs[x]
		if !rq.online || !p.cpus.Test(x) {
			continue
		}
		idle := rq.IsIdle()
		if idle {
			if x == cpu {
				return x
			}
			if !bestIdle {
				best, bestIdle = x, true
			}
			continue
		}
		if bestIdle {
			continue
		}
		load, nr := rq.fair.load, rq.NrRunning
		if best < 0 || load < bestLoad || (load == bestLoad && nr < bestNr) {
			best, bestLoad, bestNr = x, load, nr
		}
	}
	return best
}
