package sched

// Bandwidth control of the fair class (CONFIG_CFS_BANDWIDTH): a cgroup with
// a cpu.max quota has a runtime pool refilled to the quota (up to
// quota+burst with cpu.max.burst) at every period by a period timer; each
// of its per-CPU queues takes runtime from the pool in 5 ms slices and is
// charged for what its tasks run. A queue out of runtime with the pool
// empty is throttled: its group entity leaves the parent's queue (its tasks
// stay queued, runnable but not picked) until the period timer hands it
// runtime again. A parent's limit bounds its children, as every level of
// the running hierarchy is charged. The period timer runs only while the
// group uses runtime: it stops after a period in which nothing asked for
// runtime and nothing was throttled, and restarts on the next request.
// The slack timer (early redistribution of runtime returned by queues going
// empty) is not modelled: returned runtime goes back to the pool, and
// throttled queues get runtime at the next period.

const (
	// bandwidthSliceNS is sysctl_sched_cfs_bandwidth_slice (5 ms).
	bandwidthSliceNS = 5_000_000
	// minCfsRQRuntimeNS is min_cfs_rq_runtime: what a queue going empty
	// keeps of its runtime (1 ms).
	minCfsRQRuntimeNS = 1_000_000
	runtimeInf        = ^uint64(0)
)

// bandwidth is struct cfs_bandwidth of a task group, in ns.
type bandwidth struct {
	quota, period, burst uint64 // quota is runtimeInf without a limit
	runtime              uint64 // the pool
	timerActive          bool
	timerGen             uint64
	idle                 bool
	// throttled lists the group's throttled queues, oldest first.
	throttled []*fairRQ
	// runtimeSnap is the pool right after the last refill
	// (runtime_snap): what the period's net use is measured against.
	runtimeSnap uint64
	// cpu.stat's nr_periods, nr_throttled, throttled time (ns, summed
	// over the queues when they are unthrottled), nr_bursts and burst
	// time (ns).
	nrPeriods, nrThrottled uint64
	throttledTime          uint64
	nrBurst, burstTime     uint64
	clocks                 []throttleClock // by CPU
}

// refill mirrors __refill_cfs_bandwidth_runtime(): add a quota to the
// pool, capped at quota+burst; when the period's net use exceeded the
// quota, the excess came from banked runtime and counts as a burst.
func (b *bandwidth) refill() {
	if !b.enabled() {
		return
	}
	if used := int64(b.runtimeSnap) - int64(b.runtime) - int64(b.quota); used > 0 {
		b.burstTime += uint64(used)
		b.nrBurst++
	}
	b.runtime = min(b.runtime+b.quota, b.quota+b.burst)
	b.runtimeSnap = b.runtime
}

func (b *bandwidth) enabled() bool { return b.quota != runtimeInf }

// init takes cpu.max and cpu.max.burst from cg (us) and refills the pool
// as setting them does (__refill_cfs_bandwidth_runtime()).
func (b *bandwidth) init(cg *Cgroup) {
	b.quota, b.period, b.burst = runtimeInf, 100_000_000, 0
	// The kernel refuses a period outside [1ms, 1s] or a quota under
	// 1ms; the core does not check, so a zero period or quota is read as
	// no limit rather than as a group that can never run.
	if cg.PeriodUS > 0 && cg.QuotaUS > 0 && cg.QuotaUS != runtimeInf {
		b.quota, b.period = cg.QuotaUS*1000, cg.PeriodUS*1000
		if cg.BurstUS != runtimeInf {
			b.burst = cg.BurstUS * 1000
		}
	}
	if b.enabled() {
		b.refill()
	} else {
		b.runtime = 0
	}
}

// cgroupSetBandwidth mirrors tg_set_cfs_bandwidth(): new limits, a full
// pool, every queue's runtime reset and unthrottled.
func (fc *fairClass) cgroupSetBandwidth(cg *Cgroup) {
	fresh := cg.fair == nil
	tg := fc.tgOf(cg)
	if tg == nil || fresh {
		return // a new group took its limits from cg
	}
	b := &tg.bw
	b.init(cg)
	// Stop the timer; the next runtime request restarts it with the new
	// period.
	b.timerActive = false
	b.timerGen++
	b.idle = false
	for _, f := range tg.cfs {
		if f == nil {
			continue
		}
		f.runtimeEnabled = b.enabled()
		f.runtimeRemaining = 0
		if f.throttled {
			fc.unthrottle(f)
		}
	}
}

// startBandwidth mirrors start_cfs_bandwidth(): arm the period timer at
// the next period boundary if it is not running.
func (fc *fairClass) startBandwidth(tg *taskGroup) {
	b := &tg.bw
	if b.timerActive {
		return
	}
	b.timerActive = true
	b.timerGen++
	now := fc.core.host.Now()
	fc.armPeriod(tg, (now/b.period+1)*b.period)
}

func (fc *fairClass) armPeriod(tg *taskGroup, at uint64) {
	gen := tg.bw.timerGen
	fc.core.host.ArmTimer(at, func() { fc.periodTimer(tg, gen, at) })
}

// periodTimer mirrors sched_cfs_period_timer(): run a period and re-arm,
// or stop when the group went idle.
func (fc *fairClass) periodTimer(tg *taskGroup, gen, at uint64) {
	b := &tg.bw
	if tg.dead || gen != b.timerGen || !b.timerActive {
		return
	}
	if fc.doPeriod(tg) {
		b.timerActive = false
		return
	}
	fc.armPeriod(tg, at+b.period)
}

// doPeriod mirrors do_sched_cfs_period_timer(): refill the pool, hand it
// to the throttled queues; true when the timer should stop.
func (fc *fairClass) doPeriod(tg *taskGroup) bool {
	b := &tg.bw
	if !b.enabled() {
		return true
	}
	throttled := len(b.throttled) > 0
	b.nrPeriods++
	b.refill()
	if b.idle && !throttled {
		return true
	}
	if !throttled {
		b.idle = true
		return false
	}
	b.nrThrottled++
	fc.distribute(tg)
	b.idle = false
	return false
}

// distribute mirrors distribute_cfs_runtime(): each throttled queue in
// turn gets what it owes plus 1 ns, while the pool lasts, and is
// unthrottled once its runtime is positive.
func (fc *fairClass) distribute(tg *taskGroup) {
	b := &tg.bw
	for i := 0; i < len(b.throttled) && b.runtime > 0; {
		f := b.throttled[i]
		amt := uint64(1 - f.runtimeRemaining)
		amt = min(amt, b.runtime)
		b.runtime -= amt
		f.runtimeRemaining += int64(amt)
		if f.runtimeRemaining > 0 {
			fc.unthrottle(f) // takes f off the list
		} else {
			i++
		}
	}
}

// assignRuntime mirrors __assign_cfs_rq_runtime(): top f up to target
// from the pool (starting the period timer); true if f has runtime left.
func (fc *fairClass) assignRuntime(f *fairRQ, target int64) bool {
	b := &f.tg.bw
	want := uint64(target - f.runtimeRemaining)
	var amount uint64
	if !b.enabled() {
		amount = want
	} else {
		fc.startBandwidth(f.tg)
		if b.runtime > 0 {
			amount = min(b.runtime, want)
			b.runtime -= amount
			b.idle = false
		}
	}
	f.runtimeRemaining += int64(amount)
	return f.runtimeRemaining > 0
}

// accountRuntime mirrors __account_cfs_rq_runtime(): charge d, take a new
// slice when out, and reschedule the CPU when there is none.
func (fc *fairClass) accountRuntime(f *fairRQ, d uint64) {
	f.runtimeRemaining -= int64(d)
	if f.runtimeRemaining > 0 || f.throttled {
		return
	}
	if !fc.assignRuntime(f, bandwidthSliceNS) && f.curr != nil {
		fc.core.ReschedCurr(f.rq)
	}
}

// returnRuntime mirrors return_cfs_rq_runtime() for a queue that went
// empty: what it holds beyond min_cfs_rq_runtime goes back to the pool.
func (fc *fairClass) returnRuntime(f *fairRQ) {
	slack := f.runtimeRemaining - minCfsRQRuntimeNS
	if slack <= 0 {
		return
	}
	if b := &f.tg.bw; b.enabled() {
		b.runtime += uint64(slack)
	}
	f.runtimeRemaining -= slack
}

// checkEnqueueThrottle mirrors check_enqueue_throttle(): an idle queue
// about to get its first entity takes runtime now and is throttled right
// away when there is none.
// The caller queues an entity on f next, so a throttled f's throttled
// time starts now.
func (fc *fairClass) checkEnqueueThrottle(f *fairRQ) {
	if f.runtimeEnabled && f.curr == nil && !f.throttled {
		fc.accountRuntime(f, 0)
		if f.runtimeRemaining <= 0 {
			fc.throttle(f)
		}
	}
	fc.startThrottledClock(f)
}

// checkRuntime mirrors check_cfs_rq_runtime() on each level of p's
// hierarchy, top down: throttle the queues out of runtime.
func (fc *fairClass) checkRuntime(se *fairEntity) {
	if se.parent != nil {
		fc.checkRuntime(se.parent)
	}
	f := se.cfsRQ
	if f.runtimeEnabled && f.runtimeRemaining <= 0 && !f.throttled {
		fc.throttle(f)
	}
}

// throttleWalk adds d to the throttle count of f and of its descendants'
// queues on the same CPU (tg_throttle_down() / tg_unthrottle_up()).
func throttleWalk(tg *taskGroup, cpu int, d int) {
	f := tg.cfs[cpu]
	if f == nil {
		return
	}
	f.throttleCount += d
	for _, c := range tg.children {
		throttleWalk(c, cpu, d)
	}
}

// throttle mirrors throttle_cfs_rq(): unless the pool still has runtime,
// take f's group entity (and ancestors left empty) off their queues and
// uncount f's tasks up to the root or an ancestor already off.
func (fc *fairClass) throttle(f *fairRQ) bool {
	if fc.assignRuntime(f, 1) {
		return false
	}
	b := &f.tg.bw
	b.throttled = append(b.throttled, f)
	throttleWalk(f.tg, f.rq.CPU, 1)
	f.throttled = true
	if f.nr > 0 {
		fc.startThrottledClock(f)
	}
	delta := f.hNr
	se := f.se
	for ; se != nil; se = se.parent {
		q := se.cfsRQ
		if !se.onRQ {
			return true
		}
		q.dequeueEntity(se)
		q.hNr -= delta
		if q.nr > 0 {
			se = se.parent
			break
		}
	}
	for ; se != nil; se = se.parent {
		if !se.onRQ {
			return true
		}
		se.cfsRQ.hNr -= delta
	}
	f.rq.NrRunning -= delta
	return true
}

// unthrottle mirrors unthrottle_cfs_rq(): put f's group entity (and
// ancestors that were left empty) back, count its tasks again up to the
// root or a throttled ancestor, and wake the CPU if it idles.
func (fc *fairClass) unthrottle(f *fairRQ) {
	rq := f.rq
	fc.lb.overloaded = true // tasks come back: the CPU may hold two
	rq.UpdateClock()
	fc.UpdateCurr(rq)
	f.throttled = false
	b := &f.tg.bw
	if tc := b.clockOf(rq.CPU); tc.set {
		b.throttledTime += rq.Clock() - tc.at
		*tc = throttleClock{}
	}
	for i, q := range b.throttled {
		if q == f {
			b.throttled = append(b.throttled[:i], b.throttled[i+1:]...)
			break
		}
	}
	throttleWalk(f.tg, rq.CPU, -1)
	if f.nr > 0 {
		fc.enqueueUp(f)
	}
	if rq.curr == rq.idle && rq.fair.nr > 0 {
		fc.core.ReschedCurr(rq)
	}
}

// enqueueUp queues f's group entity and the ancestors not queued, adding
// f's tasks to each level's count, up to the root (where the runqueue
// counts them) or a throttled queue.
func (fc *fairClass) enqueueUp(f *fairRQ) {
	delta := f.hNr
	se := f.se
	for ; se != nil; se = se.parent {
		q := se.cfsRQ
		if se.onRQ {
			break
		}
		fc.updateGroup(se)
		fc.place(q, se, false)
		q.enqueueEntity(se)
		q.updateMin()
		q.hNr += delta
		if q.throttled {
			fc.startThrottledClock(q)
			return
		}
	}
	for ; se != nil; se = se.parent {
		fc.updateGroup(se)
		se.cfsRQ.hNr += delta
		if se.cfsRQ.throttled {
			return
		}
	}
	f.rq.NrRunning += delta
}

// throttleClock is cfs_rq->throttled_clock of a group's queue on one CPU:
// since when the throttled queue has held tasks.
type throttleClock struct {
	at  uint64
	set bool
}

// clockOf returns the throttle clock of the group's queue on cpu.
func (b *bandwidth) clockOf(cpu int) *throttleClock {
	for len(b.clocks) <= cpu {
		b.clocks = append(b.clocks, throttleClock{})
	}
	return &b.clocks[cpu]
}

// startThrottledClock starts f's throttle clock if f is throttled and the
// clock is not running: an empty throttled queue's time does not count as
// throttled until an entity is queued on it (throttle_cfs_rq(),
// enqueue_entity()).
func (fc *fairClass) startThrottledClock(f *fairRQ) {
	if !f.throttled {
		return
	}
	if tc := f.tg.bw.clockOf(f.rq.CPU); !tc.set {
		*tc = throttleClock{at: fc.core.host.Now(), set: true}
	}
}

// CPUStat is a cgroup's cpu.stat bandwidth figures
// (cpu_extra_stat_show()), in ns where the kernel shows us.
type CPUStat struct {
	NrPeriods, NrThrottled uint64
	// ThrottledNS is throttled_usec in ns: the time the group's queues
	// spent throttled with tasks queued, summed over CPUs. As in the
	// kernel, a queue's stint is added when it is unthrottled: a queue
	// still throttled when read has not contributed its current stint.
	ThrottledNS uint64
	// NrBursts and BurstNS count the periods whose net use exceeded the
	// quota, and by how much in total (nr_bursts, burst_usec).
	NrBursts, BurstNS uint64
	// Pool is the runtime left in the group's pool (not in cpu.stat).
	Pool uint64
}

// CPUStat returns cg's cpu.stat bandwidth figures; zeros for a cgroup the
// fair class has no group for.
func (c *Core) CPUStat(cg *Cgroup) CPUStat {
	tg := cg.fair
	if tg == nil {
		return CPUStat{}
	}
	b := &tg.bw
	return CPUStat{
		NrPeriods: b.nrPeriods, NrThrottled: b.nrThrottled,
		ThrottledNS: b.throttledTime,
		NrBursts:    b.nrBurst, BurstNS: b.burstTime,
		Pool: b.runtime,
	}
}

// BandwidthStats returns cg's cpu.stat bandwidth counters (nr_periods,
// nr_throttled) and the runtime left in its pool, in ns.
func (c *Core) BandwidthStats(cg *Cgroup) (nrPeriods, nrThrottled, pool uint64) {
	tg := cg.fair
	if tg == nil {
		return 0, 0, 0
	}
	return tg.bw.nrPeriods, tg.bw.nrThrottled, tg.bw.runtime
}

// Throttled reports whether cg's queue on cpu is throttled.
func (c *Core) Throttled(cg *Cgroup, cpu int) bool {
	tg := cg.fair
	if tg == nil || cpu < 0 || cpu >= len(tg.cfs) || tg.cfs[cpu] == nil {
		return false
	}
	return tg.cfs[cpu].throttled
}
