package sched_test

import (
	"testing"

	"github.com/scxsim/scxsim/kernel/sched/schedtest"
)

// throttleGapNS is the time between the tick that finds a hog out of
// runtime and its queue being throttled at the reschedule: the rig's
// resched delivery latency (schedtest IPILatency). Not throttled time.
const throttleGapNS = 1000

// A lone hog on one CPU under 20ms/100ms runs 24 ms in the first period
// (20 ms and the overrun to the tick), 20 ms in later ones (the overrun is
// paid back), and its queue then sits throttled until the period timer:
// 76 ms, then 80 ms per period, each less the switch gap. A stint still
// going when read is not yet counted (the kernel adds it at unthrottle).
func TestCPUStatThrottledTime(t *testing.T) {
	r := newRig(t, "1x1x1x1", []cgDef{{path: "/a", quota: 20_000}})
	r.spawn(t, "/a", 0, 0, schedtest.Behavior{})
	a := r.cgs["/a"]
	for _, s := range []struct {
		at      uint64
		stints  uint64
		periods uint64
	}{
		{100*ms + 1, 1, 1},
		{150 * ms, 1, 1}, // second stint open
		{500*ms + 1, 5, 5},
		{990 * ms, 9, 9},
		{1000*ms + 1, 10, 10},
	} {
		r.run(t, s.at)
		st := r.d.Core.CPUStat(a)
		want := 76*ms + (s.stints-1)*80*ms - s.stints*throttleGapNS
		if st.ThrottledNS != want || st.NrPeriods != s.periods || st.NrThrottled != s.periods {
			t.Errorf("at %d ns: %+v, want throttled %d ns, %d periods all throttled", s.at, st, want, s.periods)
		}
		if st.NrBursts != 0 || st.BurstNS != 0 {
			t.Errorf("at %d ns: bursts without cpu.max.burst: %+v", s.at, st)
		}
	}
}

// Two hogs on two CPUs share 20ms/100ms: both queues are throttled in
// each period, and cpu.stat sums their throttled time over CPUs: both
// CPUs' elapsed time less what the hogs ran and the switch gaps.
func TestCPUStatThrottledTimeTwoCPUs(t *testing.T) {
	r := newRig(t, "1x1x2x1", []cgDef{{path: "/a", quota: 20_000}})
	p0 := r.spawn(t, "/a", 0, 0, schedtest.Behavior{})
	p1 := r.spawn(t, "/a", 1, 0, schedtest.Behavior{})
	r.run(t, 1000*ms)
	st := r.d.Core.CPUStat(r.cgs["/a"])
	ran := r.d.Runtime(p0) + r.d.Runtime(p1)
	if want := 2*1000*ms - ran - 20*throttleGapNS; st.ThrottledNS != want {
		t.Errorf("throttled %d ns, want %d", st.ThrottledNS, want)
	}
	if st.NrThrottled != 10 {
		t.Errorf("nr_throttled %d, want 10", st.NrThrottled)
	}
}

// cpu.max.burst: a task running 30 ms every 224 ms under 20ms/100ms with
// 20 ms of burst draws on the bank; without burst it never bursts.
func TestCPUStatBursts(t *testing.T) {
	for _, c := range []struct {
		burst    uint64
		bursts   bool
		maxBurst uint64
	}{
		{0, false, 0},
		{20_000, true, 20 * ms},
	} {
		r := newRig(t, "1x1x1x1", []cgDef{{path: "/a", quota: 20_000, burstU: c.burst}})
		r.spawn(t, "/a", 0, 0, schedtest.Behavior{Run: 30 * ms, Sleep: 194 * ms})
		r.run(t, 3000*ms)
		st := r.d.Core.CPUStat(r.cgs["/a"])
		if (st.NrBursts > 0) != c.bursts {
			t.Errorf("burst %d us: nr_bursts %d, want bursts %v", c.burst, st.NrBursts, c.bursts)
		}
		if st.BurstNS > st.NrBursts*c.maxBurst {
			t.Errorf("burst %d us: %d ns in %d bursts, more than the bank", c.burst, st.BurstNS, st.NrBursts)
		}
	}
}
