package sched_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
)

const ms = 1_000_000

// cgDef is a cgroup of a test rig: path (parents first), cpu.weight,
// cpu.max quota/period and burst in us (quota 0: max), cpu.idle.
type cgDef struct {
	path                  string
	weight                uint32
	quota, period, burstU uint64
	idle                  bool
}

// rig is a driver with cgroups by path.
type rig struct {
	d   *schedtest.Driver
	cgs map[string]*sched.Cgroup
}

func newRig(t *testing.T, spec string, defs []cgDef) *rig {
	t.Helper()
	d := schedtest.New(machine(t, spec), sched.Options{})
	r := &rig{d: d, cgs: map[string]*sched.Cgroup{"/": d.Core.RootCgroup()}}
	for _, c := range defs {
		parent, name := "/", c.path[1:]
		for i := len(c.path) - 1; i > 0; i-- {
			if c.path[i] == '/' {
				parent, name = c.path[:i], c.path[i+1:]
				break
			}
		}
		cg, err := d.Core.NewCgroup(r.cgs[parent], name)
		if err != nil {
			t.Fatal(err)
		}
		if c.weight != 0 {
			if err := d.Core.SetCgroupWeight(cg, c.weight); err != nil {
				t.Fatal(err)
			}
		}
		if c.quota != 0 {
			period := c.period
			if period == 0 {
				period = 100_000
			}
			if err := d.Core.SetCgroupBandwidth(cg, period, c.quota, c.burstU); err != nil {
				t.Fatal(err)
			}
		}
		if c.idle {
			if err := d.Core.SetCgroupIdle(cg, true); err != nil {
				t.Fatal(err)
			}
		}
		r.cgs[c.path] = cg
	}
	return r
}

// spawn starts a task in cgroup path; cpu >= 0 pins it there.
func (r *rig) spawn(t *testing.T, path string, cpu, nice int, b schedtest.Behavior) *sched.Task {
	t.Helper()
	spec := sched.TaskSpec{Comm: "t" + path, Cgroup: r.cgs[path], Nice: nice, CPU: cpu}
	if cpu >= 0 {
		spec.CPUs = one(cpu, r.d.Core.NrCPUIDs())
	} else {
		spec.CPU = 0
	}
	p, err := r.d.Spawn(spec, b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run advances to until in 1 ms steps, checking the fair queues' books
// after each.
func (r *rig) run(t *testing.T, until uint64) {
	t.Helper()
	for now := r.d.Now(); now < until; {
		now = min(now+ms, until)
		r.d.Run(now)
		if err := r.d.Core.CheckFair(); err != nil {
			t.Fatalf("at %d ns: %v", now, err)
		}
	}
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.4f, want %.4f ± %.3f", what, got, want, tol)
	}
}

type hogDef struct {
	cg   string
	cpu  int // -1: not pinned
	nice int
	want float64 // share of one CPU over the run
}

// spawnHogs starts one CPU hog per definition, in order.
func (r *rig) spawnHogs(t *testing.T, hogs []hogDef) []*sched.Task {
	t.Helper()
	var ps []*sched.Task
	for _, h := range hogs {
		ps = append(ps, r.spawn(t, h.cg, h.cpu, h.nice, schedtest.Behavior{}))
	}
	return ps
}

// Hogs in cgroups share CPUs by cpu.weight at every level, then by nice
// within a group.
func TestGroupShares(t *testing.T) {
	cases := []struct {
		name string
		spec string
		cgs  []cgDef
		hogs []hogDef
	}{
		{"1 vs 3 hogs, equal weights", "1x1x1x1",
			[]cgDef{{path: "/a"}, {path: "/b"}},
			[]hogDef{{"/a", 0, 0, 0.5}, {"/b", 0, 0, 1.0 / 6}, {"/b", 0, 0, 1.0 / 6}, {"/b", 0, 0, 1.0 / 6}}},
		{"1 vs 3 hogs, b weight 300", "1x1x1x1",
			[]cgDef{{path: "/a"}, {path: "/b", weight: 300}},
			[]hogDef{{"/a", 0, 0, 0.25}, {"/b", 0, 0, 0.25}, {"/b", 0, 0, 0.25}, {"/b", 0, 0, 0.25}}},
		{"nested", "1x1x1x1",
			[]cgDef{{path: "/p"}, {path: "/p/x"}, {path: "/p/y", weight: 300}, {path: "/q"}},
			[]hogDef{{"/q", 0, 0, 0.5}, {"/p/x", 0, 0, 0.125}, {"/p/y", 0, 0, 0.375}}},
		{"nested, tasks beside child groups", "1x1x1x1",
			[]cgDef{{path: "/p", weight: 300}, {path: "/p/x"}},
			[]hogDef{{"/", 0, 0, 0.25}, {"/p", 0, 0, 0.375}, {"/p/x", 0, 0, 0.375}}},
		{"root task vs a group of two", "1x1x1x1",
			[]cgDef{{path: "/a"}},
			[]hogDef{{"/", 0, 0, 0.5}, {"/a", 0, 0, 0.25}, {"/a", 0, 0, 0.25}}},
		{"nice within a group", "1x1x1x1",
			[]cgDef{{path: "/a"}, {path: "/b"}},
			[]hogDef{{"/a", 0, 0, 0.5 * 1024 / 1359}, {"/a", 0, 5, 0.5 * 335 / 1359}, {"/b", 0, 0, 0.5}}},
		// Shares are per CPU: b's load is split over two CPUs, so b weighs
		// 512 on CPU 0 against a's 1024, and has CPU 1 to itself.
		{"per-CPU shares", "1x1x2x1",
			[]cgDef{{path: "/a"}, {path: "/b"}},
			[]hogDef{{"/a", 0, 0, 2.0 / 3}, {"/b", 0, 0, 1.0 / 3}, {"/b", 1, 0, 1}}},
		{"pinned symmetric, two CPUs", "1x1x2x1",
			[]cgDef{{path: "/a"}, {path: "/b", weight: 300}},
			[]hogDef{{"/a", 0, 0, 0.25}, {"/a", 1, 0, 0.25}, {"/b", 0, 0, 0.75}, {"/b", 1, 0, 0.75}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, c.spec, c.cgs)
			ps := r.spawnHogs(t, c.hogs)
			const dur = 2000 * ms
			r.run(t, dur)
			for i, h := range c.hogs {
				near(t, fmt.Sprintf("hog %d (%s nice %d) share", i, h.cg, h.nice), float64(r.d.Runtime(ps[i]))/dur, h.want, 0.02)
			}
		})
	}
}

// The group entity's weight on each CPU is the group's shares times the
// CPU's part of the group's queued load (calc_group_shares()).
func TestGroupEntityWeight(t *testing.T) {
	r := newRig(t, "1x1x2x1", []cgDef{{path: "/a"}, {path: "/b", weight: 300}})
	r.spawn(t, "/a", 0, 0, schedtest.Behavior{})
	r.spawn(t, "/b", 0, 0, schedtest.Behavior{})
	r.spawn(t, "/b", 1, 0, schedtest.Behavior{})
	r.spawn(t, "/b", 1, 5, schedtest.Behavior{})
	r.run(t, 100*ms)
	c := r.d.Core
	// b: 3072 shares; load 1024 on CPU 0, 1024+335 on CPU 1.
	for _, x := range []struct {
		cg   string
		cpu  int
		want uint32
	}{
		{"/a", 0, 1024},
		{"/a", 1, 0},
		{"/b", 0, 3072 * 1024 / 2383},
		{"/b", 1, 3072 * 1359 / 2383},
	} {
		if got := c.GroupShares(r.cgs[x.cg], x.cpu); got != x.want {
			t.Errorf("%s on cpu %d weighs %d, want %d", x.cg, x.cpu, got, x.want)
		}
	}
}

// The balancer moves grouped tasks: two hogs of a group forked on CPU 0
// while CPU 1 is busy; when CPU 1's task exits, its newly-idle balance
// pulls one of them, and each then has a CPU; under a group limit the
// group, not the CPUs, bounds them.
func TestGroupBalance(t *testing.T) {
	cases := []struct {
		name  string
		quota uint64
		total float64 // the group's CPUs over the run
		min   float64 // each hog's least share of a CPU
	}{
		{"no limit", 0, 1.99, 0.98},
		// Half a CPU of quota: the group is limited, not the CPUs, and
		// both hogs still progress.
		{"limited", 50_000, 0.5, 0.2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, "1x1x2x1", []cgDef{{path: "/a", quota: c.quota}})
			r.spawn(t, "/", 1, 0, schedtest.Behavior{Run: 10 * ms, Exit: true})
			var hogs []*sched.Task
			for i := 0; i < 2; i++ {
				p := r.spawn(t, "/a", -1, 0, schedtest.Behavior{})
				if p.CPU() != 0 {
					t.Fatalf("hog %d forked on CPU %d", i, p.CPU())
				}
				hogs = append(hogs, p)
			}
			const dur = 1000 * ms
			r.run(t, dur)
			if hogs[0].CPU() == hogs[1].CPU() {
				t.Fatalf("both hogs on CPU %d", hogs[0].CPU())
			}
			total := 0.0
			for i, p := range hogs {
				share := float64(r.d.Runtime(p)) / dur
				total += share
				if share < c.min {
					t.Errorf("hog %d share %.3f, want at least %.3f", i, share, c.min)
				}
			}
			near(t, "group CPUs", total, c.total, 0.02)
		})
	}
}

// cpu.max: a group gets its quota per period whatever its tasks' demand,
// a parent's quota bounds its children, and others use the rest.
func TestBandwidth(t *testing.T) {
	cases := []struct {
		name string
		spec string
		cgs  []cgDef
		hogs []hogDef
	}{
		{"20ms/100ms, two hogs on two CPUs", "1x1x2x1",
			[]cgDef{{path: "/a", quota: 20_000}},
			[]hogDef{{"/a", -1, 0, 0.1}, {"/a", -1, 0, 0.1}}},
		{"20ms/100ms beside a root hog", "1x1x1x1",
			[]cgDef{{path: "/a", quota: 20_000}},
			[]hogDef{{"/a", 0, 0, 0.2}, {"/", 0, 0, 0.8}}},
		{"50ms/200ms period", "1x1x1x1",
			[]cgDef{{path: "/a", quota: 50_000, period: 200_000}},
			[]hogDef{{"/a", 0, 0, 0.25}}},
		{"quota above demand", "1x1x1x1",
			[]cgDef{{path: "/a", quota: 150_000}},
			[]hogDef{{"/a", 0, 0, 1}}},
		{"parent bounds children", "1x1x2x1",
			[]cgDef{{path: "/p", quota: 30_000}, {path: "/p/x"}, {path: "/p/y"}, {path: "/q"}},
			[]hogDef{{"/p/x", 0, 0, 0.15}, {"/p/y", 0, 0, 0.15}, {"/q", 0, 0, 0.7}}},
		{"child stricter than parent", "1x1x2x1",
			[]cgDef{{path: "/p", quota: 30_000}, {path: "/p/x"}, {path: "/p/y", quota: 10_000}},
			[]hogDef{{"/p/x", -1, 0, 0.2}, {"/p/y", -1, 0, 0.1}}},
		{"two CPUs' worth of quota", "1x1x2x1",
			[]cgDef{{path: "/a", quota: 150_000}},
			[]hogDef{{"/a", -1, 0, 0.75}, {"/a", -1, 0, 0.75}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, c.spec, c.cgs)
			ps := r.spawnHogs(t, c.hogs)
			const dur = 1000 * ms
			r.run(t, dur)
			// Quota is per group: how it splits between CPUs depends on
			// which queue asks first, so compare group totals.
			got, want := map[string]float64{}, map[string]float64{}
			var order []string
			for i, h := range c.hogs {
				if _, ok := want[h.cg]; !ok {
					order = append(order, h.cg)
				}
				got[h.cg] += float64(r.d.Runtime(ps[i])) / dur
				want[h.cg] += h.want
			}
			for _, cg := range order {
				near(t, cg+" CPU share", got[cg], want[cg], 0.02)
			}
			for _, p := range ps {
				if !p.OnRQ() || p.State() != sched.Runnable {
					t.Errorf("%v: on_rq %v state %v, want a runnable queued hog", p, p.OnRQ(), p.State())
				}
			}
		})
	}
}

// A throttled group's task stays queued but the CPU idles (nr_running 0);
// the period timer's refill unthrottles it.
func TestThrottleUnthrottle(t *testing.T) {
	r := newRig(t, "1x1x1x1", []cgDef{{path: "/a", quota: 20_000}})
	p := r.spawn(t, "/a", 0, 0, schedtest.Behavior{})
	c, a := r.d.Core, r.cgs["/a"]
	rq := c.RQ(0)
	steps := []struct {
		at        uint64
		throttled bool
		ranMin    uint64 // runtime bounds so far
		ranMax    uint64
	}{
		{10 * ms, false, 9 * ms, 10 * ms},
		{50 * ms, true, 20 * ms, 24 * ms},
		{99 * ms, true, 20 * ms, 24 * ms},
		{110 * ms, false, 29 * ms, 34 * ms},
		{150 * ms, true, 40 * ms, 44 * ms},
		{999 * ms, true, 200 * ms, 204 * ms},
	}
	for _, s := range steps {
		r.run(t, s.at)
		if got := c.Throttled(a, 0); got != s.throttled {
			t.Errorf("at %d ms: throttled %v, want %v", s.at/ms, got, s.throttled)
		}
		if s.throttled && (rq.NrRunning != 0 || rq.Curr() != rq.Idle() || !p.OnRQ()) {
			t.Errorf("at %d ms: nr_running %d curr %v on_rq %v, want 0, idle, queued", s.at/ms, rq.NrRunning, rq.Curr(), p.OnRQ())
		}
		if ran := r.d.Runtime(p); ran < s.ranMin || ran > s.ranMax {
			t.Errorf("at %d ms: ran %.2f ms, want [%d, %d]", s.at/ms, float64(ran)/ms, s.ranMin/ms, s.ranMax/ms)
		}
	}
	periods, throttled, _ := c.BandwidthStats(a)
	if periods != 9 || throttled != 9 {
		t.Errorf("nr_periods %d nr_throttled %d, want 9 9", periods, throttled)
	}
}

// cpu.max.burst lets a group bank unused quota: a task that runs 30 ms,
// sleeps 194 ms, under a 20 ms/100 ms limit, is throttled in every burst
// without cpu.max.burst; with 20 ms of burst only in its first (the pool
// starts at one quota), as the idle periods fill the pool to 40 ms.
func TestBandwidthBurst(t *testing.T) {
	cases := []struct {
		burst       uint64
		nrThrottled uint64
	}{
		{0, 10},
		{20_000, 1},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("burst=%dus", c.burst), func(t *testing.T) {
			r := newRig(t, "1x1x1x1", []cgDef{{path: "/a", quota: 20_000, burstU: c.burst}})
			p := r.spawn(t, "/a", 0, 0, schedtest.Behavior{Run: 30 * ms, Sleep: 194 * ms})
			r.run(t, 3000*ms)
			_, thr, _ := r.d.Core.BandwidthStats(r.cgs["/a"])
			if thr != c.nrThrottled {
				t.Errorf("nr_throttled %d, want %d", thr, c.nrThrottled)
			}
			if ran := r.d.Runtime(p); ran < 270*ms {
				t.Errorf("ran %.1f ms, want at least 9 bursts of 30 ms", float64(ran)/ms)
			}
		})
	}
}

// The period timer runs only while the group uses runtime.
func TestBandwidthTimerStops(t *testing.T) {
	r := newRig(t, "1x1x1x1", []cgDef{{path: "/a", quota: 20_000}})
	r.spawn(t, "/a", 0, 0, schedtest.Behavior{Run: 50 * ms, Exit: true})
	r.run(t, 1000*ms)
	n1, _, pool := r.d.Core.BandwidthStats(r.cgs["/a"])
	r.run(t, 3000*ms)
	n2, _, _ := r.d.Core.BandwidthStats(r.cgs["/a"])
	if n1 == 0 || n1 > 6 || n2 != n1 {
		t.Errorf("nr_periods %d at 1 s, %d at 3 s: want a few, then no more", n1, n2)
	}
	if pool != 20*ms {
		t.Errorf("pool %d ns after going idle, want a full quota", pool)
	}
}

// Moving tasks between cgroups mid-run: out of a throttled group the task
// runs at once; into one it stops; between weighted groups the shares
// follow.
func TestGroupMove(t *testing.T) {
	t.Run("out of a throttled group", func(t *testing.T) {
		r := newRig(t, "1x1x1x1", []cgDef{{path: "/a", quota: 10_000}})
		p := r.spawn(t, "/a", 0, 0, schedtest.Behavior{})
		r.run(t, 50*ms)
		if !r.d.Core.Throttled(r.cgs["/a"], 0) {
			t.Fatal("group not throttled at 50 ms")
		}
		before := r.d.Runtime(p)
		if err := r.d.Core.MoveCgroup(p, r.cgs["/"]); err != nil {
			t.Fatal(err)
		}
		r.run(t, 90*ms)
		near(t, "ms run after the move", float64(r.d.Runtime(p)-before)/ms, 40, 0.5)
	})
	t.Run("into a throttled group", func(t *testing.T) {
		r := newRig(t, "1x1x1x1", []cgDef{{path: "/a", quota: 10_000}})
		r.spawn(t, "/a", 0, 0, schedtest.Behavior{})
		q := r.spawn(t, "/", 0, 0, schedtest.Behavior{})
		r.run(t, 50*ms)
		if err := r.d.Core.MoveCgroup(q, r.cgs["/a"]); err != nil {
			t.Fatal(err)
		}
		before := r.d.Runtime(q)
		r.run(t, 99*ms)
		if ran := r.d.Runtime(q) - before; ran > ms {
			t.Errorf("ran %.2f ms in a throttled group", float64(ran)/ms)
		}
	})
	t.Run("between weighted groups", func(t *testing.T) {
		r := newRig(t, "1x1x1x1", []cgDef{{path: "/a"}, {path: "/b"}})
		a := r.spawn(t, "/a", 0, 0, schedtest.Behavior{})
		c := r.spawn(t, "/a", 0, 0, schedtest.Behavior{})
		b := r.spawn(t, "/b", 0, 0, schedtest.Behavior{})
		r.run(t, 1000*ms)
		ra, rb, rc := r.d.Runtime(a), r.d.Runtime(b), r.d.Runtime(c)
		near(t, "a before", float64(ra)/(1000*ms), 0.25, 0.02)
		near(t, "b before", float64(rb)/(1000*ms), 0.5, 0.02)
		if err := r.d.Core.MoveCgroup(c, r.cgs["/b"]); err != nil {
			t.Fatal(err)
		}
		r.run(t, 2000*ms)
		near(t, "a after", float64(r.d.Runtime(a)-ra)/(1000*ms), 0.5, 0.02)
		near(t, "b after", float64(r.d.Runtime(b)-rb)/(1000*ms), 0.25, 0.02)
		near(t, "c after", float64(r.d.Runtime(c)-rc)/(1000*ms), 0.25, 0.02)
	})
}

// cpu.weight and cpu.idle changes take effect mid-run.
func TestGroupReweight(t *testing.T) {
	cases := []struct {
		name   string
		change func(c *sched.Core, b *sched.Cgroup) error
		before float64 // a's share before
		after  float64
		idle   bool
	}{
		{"weight 100 -> 300", func(c *sched.Core, b *sched.Cgroup) error { return c.SetCgroupWeight(b, 300) }, 0.5, 0.25, false},
		{"weight 100 -> 25", func(c *sched.Core, b *sched.Cgroup) error { return c.SetCgroupWeight(b, 25) }, 0.5, 0.8, false},
		{"idle -> not idle", func(c *sched.Core, b *sched.Cgroup) error { return c.SetCgroupIdle(b, false) }, 1024.0 / 1027, 0.5, true},
		{"not idle -> idle", func(c *sched.Core, b *sched.Cgroup) error { return c.SetCgroupIdle(b, true) }, 0.5, 1024.0 / 1027, false},
		// Clearing cpu.idle sets NICE_0_LOAD shares, not the weight
		// the group had before it was made idle.
		{"weight 300, idle, not idle", func(c *sched.Core, b *sched.Cgroup) error {
			if err := c.SetCgroupWeight(b, 300); err != nil {
				return err
			}
			if err := c.SetCgroupIdle(b, true); err != nil {
				return err
			}
			if err := c.SetCgroupWeight(b, 200); err == nil {
				return fmt.Errorf("cpu.weight of an idle group accepted")
			}
			return c.SetCgroupIdle(b, false)
		}, 0.5, 0.5, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, "1x1x1x1", []cgDef{{path: "/a"}, {path: "/b", idle: c.idle}})
			a := r.spawn(t, "/a", 0, 0, schedtest.Behavior{})
			r.spawn(t, "/b", 0, 0, schedtest.Behavior{})
			r.run(t, 1000*ms)
			ra := r.d.Runtime(a)
			near(t, "a before", float64(ra)/(1000*ms), c.before, 0.02)
			if err := c.change(r.d.Core, r.cgs["/b"]); err != nil {
				t.Fatal(err)
			}
			// An idle group's entity may be up to a tick of its run,
			// scaled by 1024/3, ahead in vruntime: let that settle.
			r.run(t, 2500*ms)
			ra = r.d.Runtime(a)
			r.run(t, 3500*ms)
			near(t, "a after", float64(r.d.Runtime(a)-ra)/(1000*ms), c.after, 0.02)
		})
	}
}

// A waking task of a non-idle group preempts a task of an idle group
// right away, whatever their vruntimes.
func TestIdleGroupWakeupPreempt(t *testing.T) {
	r := newRig(t, "1x1x1x1", []cgDef{{path: "/a"}, {path: "/i", idle: true}})
	r.spawn(t, "/i", 0, 0, schedtest.Behavior{})
	w := r.spawn(t, "/a", 0, 0, schedtest.Behavior{Run: 100_000, Sleep: 10 * ms})
	r.run(t, 1000*ms)
	// 100 runs of 0.1 ms each, each started within IPI latency of the
	// wakeup: the waker waits at most a few us per wakeup.
	if w.WaitTime > 100*10_000 {
		t.Errorf("waker waited %.2f ms in all", float64(w.WaitTime)/ms)
	}
}

// Cgroups come and go: a group created mid-run works, and removing one
// frees its per-CPU state.
func TestGroupLifecycle(t *testing.T) {
	r := newRig(t, "1x1x2x1", nil)
	c := r.d.Core
	p := r.spawn(t, "/", 0, 0, schedtest.Behavior{})
	q := r.spawn(t, "/", 0, 0, schedtest.Behavior{})
	r.run(t, 100*ms)
	for round := 0; round < 3; round++ {
		cg, err := c.NewCgroup(nil, fmt.Sprintf("g%d", round))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SetCgroupWeight(cg, 300); err != nil {
			t.Fatal(err)
		}
		if err := c.MoveCgroup(q, cg); err != nil {
			t.Fatal(err)
		}
		start := r.d.Now()
		rp, rq := r.d.Runtime(p), r.d.Runtime(q)
		r.run(t, start+1000*ms)
		near(t, "p share", float64(r.d.Runtime(p)-rp)/(1000*ms), 0.25, 0.02)
		near(t, "q share", float64(r.d.Runtime(q)-rq)/(1000*ms), 0.75, 0.02)
		if c.GroupShares(cg, 0) != 3072 {
			t.Errorf("group weighs %d on CPU 0, want 3072", c.GroupShares(cg, 0))
		}
		if err := c.RemoveCgroup(cg); err == nil {
			t.Fatal("removed a cgroup holding a task")
		}
		if err := c.MoveCgroup(q, c.RootCgroup()); err != nil {
			t.Fatal(err)
		}
		if err := c.RemoveCgroup(cg); err != nil {
			t.Fatal(err)
		}
		if c.GroupShares(cg, 0) != 0 {
			t.Error("removed group still has per-CPU state")
		}
		r.run(t, r.d.Now()+10*ms)
	}
}

// Throttled tasks stay runnable through the core's other paths: a CPU
// going offline moves them, nice and affinity changes requeue them, and
// the group keeps its quota with every task progressing.
func TestThrottledTasksSurvive(t *testing.T) {
	r := newRig(t, "1x1x2x1", []cgDef{{path: "/a", quota: 10_000}})
	c := r.d.Core
	var ps []*sched.Task
	for i := 0; i < 3; i++ {
		ps = append(ps, r.spawn(t, "/a", -1, 0, schedtest.Behavior{}))
	}
	r.run(t, 50*ms)
	if !c.Throttled(r.cgs["/a"], 0) && !c.Throttled(r.cgs["/a"], 1) {
		t.Fatal("no queue of /a throttled at 50 ms")
	}
	if err := c.SetNice(ps[0], 5); err != nil {
		t.Fatal(err)
	}
	if err := c.SetAffinity(ps[1], one(1, 2)); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckFair(); err != nil {
		t.Fatal(err)
	}
	r.run(t, 250*ms)
	if err := c.SetOnline(1, false); err != nil {
		t.Fatal(err)
	}
	if err := c.SetAffinity(ps[1], one(0, 2)); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckFair(); err != nil {
		t.Fatal(err)
	}
	before := make([]uint64, len(ps))
	for i, p := range ps {
		before[i] = r.d.Runtime(p)
	}
	r.run(t, 1250*ms)
	var total uint64
	for i, p := range ps {
		ran := r.d.Runtime(p) - before[i]
		total += ran
		if ran == 0 || !p.OnRQ() {
			t.Errorf("%v ran %d ns in the last second, on_rq %v", p, ran, p.OnRQ())
		}
	}
	near(t, "group CPUs in the last second", float64(total)/(1000*ms), 0.1, 0.01)
}

// Tasks a sched_ext scheduler leaves when it goes away come back to the
// fair class in their cgroups' queues: cpu.weight holds from then on.
func TestGroupSharesAfterExtLeaves(t *testing.T) {
	r := newRig(t, "1x1x1x1", []cgDef{{path: "/a"}, {path: "/b", weight: 300}})
	x := scx.New(r.d.Core)
	sch, err := x.Register(&scx.Ops{Name: "fifo",
		Enqueue: func(q *sched.Task, f uint64) { x.DsqInsert(q, scx.DSQGlobal, 0, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	r.d.Drain()
	a := r.spawn(t, "/a", 0, 0, schedtest.Behavior{})
	b := r.spawn(t, "/b", 0, 0, schedtest.Behavior{})
	r.run(t, 200*ms)
	if a.Class() != sched.Class(x) {
		t.Fatalf("task on %s, want ext", a.Class().Name())
	}
	x.Unregister(sch)
	r.d.Drain()
	if a.Class() != r.d.Core.FairClass() || b.Class() != r.d.Core.FairClass() {
		t.Fatal("tasks not back on fair")
	}
	ra, rb := r.d.Runtime(a), r.d.Runtime(b)
	r.run(t, 1200*ms)
	near(t, "a share on fair", float64(r.d.Runtime(a)-ra)/(1000*ms), 0.25, 0.02)
	near(t, "b share on fair", float64(r.d.Runtime(b)-rb)/(1000*ms), 0.75, 0.02)
}
