package engine

import (
	"fmt"
	"testing"

	"github.com/scxsim/scxsim/sim/metrics"
)

func cgroupResult(t *testing.T, r *run, path string) metrics.CgroupResult {
	t.Helper()
	for _, c := range r.res.Cgroups {
		if c.Path == path {
			return c
		}
	}
	t.Fatalf("no cgroup %s in results", path)
	return metrics.CgroupResult{}
}

// A workload's cpu.max, cpu.max.burst and cpu.idle reach the fair class,
// and the results carry cpu.stat's bandwidth figures with known values.
func TestCgroupBandwidthStats(t *testing.T) {
	// Two tasks of a 20ms-per-100ms cgroup wake together every 200 ms
	// (from 150 ms) and ask 2 x 12 ms = 24 ms: more than the quota, less
	// than quota + burst.
	const bursty = `
cgroups: [{path: /a, max: "20ms 100ms"%s}]
groups:
  - {name: a, count: 2, start: 150ms, cgroup: /a, program: [{loop: {count: 1000, do: [{run: 12ms}, {timer: {period: 200ms, absolute: true}}]}}]}`
	cases := []struct {
		name, src                 string
		periods                   [2]uint64 // min, max
		throttled                 uint64
		throttledUS, tolUS, runMS uint64
		wantBurstUS               uint64
		nrBursts, burstUS         uint64 // cpu.stat's
	}{
		// Both queues run 10 ms of each period and sit throttled for
		// the other 90. The period timer fires at 100..900 ms (the one
		// at 1 s is the run's end), so 9 periods x 2 CPUs x 90 ms: as in
		// the kernel, the stints still open at the end are not counted.
		{"2 hogs, 20ms/100ms, 2 CPUs", `
cgroups: [{path: /a, max: "20ms 100ms"}]
groups:
  - {name: a, count: 2, cgroup: /a, program: [{run: 10s}]}`, [2]uint64{9, 10}, 9, 1_620_000, 1_000, 200, 0, 0, 0},
		// Without burst every wake-up of the pair is throttled (4 of
		// them closed in the run); each waits for the next period,
		// about 2 CPUs x 40 ms. The wake-up at 950 ms is throttled
		// until after the end: not counted.
		{"bursty, no burst", fmt.Sprintf(bursty, ""), [2]uint64{7, 9}, 4, 314_000, 4_000, 118, 0, 0, 0},
		// With a 20 ms burst the unused runtime of the idle period
		// carries over; only the first wake-up (the pool starts at the
		// quota) is throttled, 160..200 ms on both CPUs. The wake-ups
		// at 350, 550 and 750 ms use 24 ms of a 40 ms pool in their
		// period: 3 bursts of 4 ms (the one at 950 ms has no refill
		// before the end).
		{"bursty, burst 20ms", fmt.Sprintf(bursty, ", burst: 20ms"), [2]uint64{7, 9}, 1, 80_000, 4_000, 120, 20_000, 3, 12_000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := simYAML(t, machine(t, "1x1x2x1"), c.src, 1000*ms, noFx)
			checkConsistent(t, r)
			cg := cgroupResult(t, r, "/a")
			bw := cg.Bandwidth
			if bw == nil {
				t.Fatalf("no bandwidth figures for a cgroup with cpu.max")
			}
			if cg.QuotaUS != 20_000 || cg.PeriodUS != 100_000 || cg.BurstUS != c.wantBurstUS {
				t.Errorf("cpu.max %d %d burst %d, want 20000 100000 burst %d", cg.QuotaUS, cg.PeriodUS, cg.BurstUS, c.wantBurstUS)
			}
			if bw.NrPeriods < c.periods[0] || bw.NrPeriods > c.periods[1] {
				t.Errorf("nr_periods %d, want %d..%d", bw.NrPeriods, c.periods[0], c.periods[1])
			}
			if bw.NrThrottled != c.throttled {
				t.Errorf("nr_throttled %d, want %d", bw.NrThrottled, c.throttled)
			}
			if d := int64(bw.ThrottledUS) - int64(c.throttledUS); d < -int64(c.tolUS) || d > int64(c.tolUS) {
				t.Errorf("throttled_usec %d, want %d ± %d", bw.ThrottledUS, c.throttledUS, c.tolUS)
			}
			if bw.NrBursts != c.nrBursts || bw.BurstUS != c.burstUS {
				t.Errorf("nr_bursts %d burst_usec %d, want %d %d", bw.NrBursts, bw.BurstUS, c.nrBursts, c.burstUS)
			}
			if got := cg.RuntimeNS / uint64(ms); got+2 < c.runMS || got > c.runMS+2 {
				t.Errorf("ran %d ms, want %d ± 2", got, c.runMS)
			}
		})
	}
}

// Burst lowers throttling for the same demand (the two bursty cases above
// compared directly), and a cgroup without cpu.max has no bandwidth
// figures.
func TestCgroupBurstReducesThrottling(t *testing.T) {
	src := func(burst string) string {
		return `
cgroups: [{path: /a, max: "20ms 100ms"` + burst + `}, {path: /b}]
groups:
  - {name: a, count: 2, start: 150ms, cgroup: /a, program: [{loop: {count: 1000, do: [{run: 12ms}, {timer: {period: 200ms, absolute: true}}]}}]}
  - {name: b, cgroup: /b, program: [{loop: {count: 1000, do: [{run: 1ms}, {sleep: 50ms}]}}]}`
	}
	var thr [2]uint64
	for i, b := range []string{"", ", burst: 20ms"} {
		r := simYAML(t, machine(t, "1x1x2x1"), src(b), 1000*ms, noFx)
		thr[i] = cgroupResult(t, r, "/a").Bandwidth.NrThrottled
		if bw := cgroupResult(t, r, "/b").Bandwidth; bw != nil {
			t.Errorf("/b without cpu.max has bandwidth figures %+v", bw)
		}
	}
	if thr[1] >= thr[0] {
		t.Errorf("nr_throttled with burst %d, without %d: want fewer with burst", thr[1], thr[0])
	}
}

// A cpu.idle cgroup weighs as a SCHED_IDLE task (3) against a normal
// cgroup (1024 at weight 100) on one CPU: it gets 3/1027 of the CPU.
func TestCgroupIdle(t *testing.T) {
	r := simYAML(t, machine(t, "1x1x1x1"), `
cgroups: [{path: /i, idle: true}, {path: /n}]
groups:
  - {name: i, cgroup: /i, program: [{run: 10s}]}
  - {name: n, cgroup: /n, program: [{run: 10s}]}`, 1000*ms, noFx)
	checkConsistent(t, r)
	i, n := cgroupResult(t, r, "/i"), cgroupResult(t, r, "/n")
	if !i.Idle || n.Idle {
		t.Errorf("idle flags %v %v, want true false", i.Idle, n.Idle)
	}
	want := 1000 * ms * 3 / 1027
	if d := int64(i.RuntimeNS) - int64(want); d < -int64(ms) || d > int64(ms) {
		t.Errorf("idle cgroup ran %d ns, want %d ± 1 ms", i.RuntimeNS, want)
	}
	if i.RuntimeNS == 0 {
		t.Errorf("idle cgroup never ran")
	}
	if i.RuntimeNS+n.RuntimeNS != 1000*ms {
		t.Errorf("cgroups ran %d + %d ns, want the whole second", i.RuntimeNS, n.RuntimeNS)
	}
}

// Under a sched_ext scheduler the fair class's bandwidth control does not
// apply: a cpu.max cgroup's tasks run unthrottled and its cpu.stat
// figures stay zero.
func TestCgroupBandwidthUnderExt(t *testing.T) {
	w, err := parse(`
cgroups: [{path: /a, max: "20ms 100ms", burst: 5ms}]
groups:
  - {name: a, count: 2, cgroup: /a, program: [{run: 10s}]}`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(Config{Machine: machine(t, "1x1x2x1"), Workload: w, Duration: 1000 * ms, Effects: noFx, Scheduler: &tickCounter{}})
	if err != nil {
		t.Fatal(err)
	}
	cg := res.Cgroups[0]
	if cg.Path != "/a" || cg.Bandwidth == nil || cg.BurstUS != 5000 {
		t.Fatalf("cgroup %+v, want /a with burst 5000 and bandwidth figures", cg)
	}
	if *cg.Bandwidth != (metrics.CgroupBandwidth{}) {
		t.Errorf("cpu.stat under sched_ext %+v, want zeros", *cg.Bandwidth)
	}
	if cg.RuntimeNS < 1990*ms {
		t.Errorf("ran %d ns, want both CPUs for the whole second", cg.RuntimeNS)
	}
}

// A limited parent whose tasks are all in its children is listed with its
// cpu.stat figures: two hogs in /a/x and /a/y under /a's 20ms/100ms on 2
// CPUs are throttled as the flat case (/a's queues throttled 90 ms of
// each of the 9 closed periods on both CPUs). Unlimited taskless cgroups
// stay out of the results.
func TestCgroupLimitedParentListed(t *testing.T) {
	r := simYAML(t, machine(t, "1x1x2x1"), `
cgroups: [{path: /a, max: "20ms 100ms"}, {path: /a/x}, {path: /a/y}, {path: /z}]
groups:
  - {name: x, cgroup: /a/x, program: [{run: 10s}]}
  - {name: y, cgroup: /a/y, program: [{run: 10s}]}`, 1000*ms, noFx)
	checkConsistent(t, r)
	var paths []string
	for _, c := range r.res.Cgroups {
		paths = append(paths, c.Path)
	}
	if fmt.Sprint(paths) != "[/a /a/x /a/y]" {
		t.Fatalf("cgroups %v, want [/a /a/x /a/y]", paths)
	}
	a := cgroupResult(t, r, "/a")
	if a.Tasks != 0 || a.RuntimeNS != 0 || a.QuotaUS != 20_000 || a.Bandwidth == nil {
		t.Fatalf("/a %+v, want no tasks of its own, cpu.max and bandwidth figures", a)
	}
	want := metrics.CgroupBandwidth{NrPeriods: 9, NrThrottled: 9, ThrottledUS: 1_620_000}
	if *a.Bandwidth != want {
		t.Errorf("/a cpu.stat %+v, want %+v", *a.Bandwidth, want)
	}
	for _, p := range []string{"/a/x", "/a/y"} {
		c := cgroupResult(t, r, p)
		if c.Tasks != 1 || c.Bandwidth != nil {
			t.Errorf("%s %+v, want 1 task and no bandwidth figures", p, c)
		}
		if got := c.RuntimeNS / uint64(ms); got+2 < 100 || got > 102 {
			t.Errorf("%s ran %d ms, want 100 ± 2 (10 ms per period)", p, got)
		}
	}
}
