package engine

import (
	"fmt"
	"math"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/goscheds"
	"github.com/scxsim/scxsim/sim/metrics"
	"github.com/scxsim/scxsim/sim/workload"
)

// A task moved by affinity one step further each time (SMT sibling,
// another core of the LLC, another LLC of the node, another node) counts
// one migration of each distance and pays each warm-up once.
func TestMigrationDistances(t *testing.T) {
	m := machine(t, "2x2x2x2")
	c0, _ := m.CPU(0)
	var smt, llc, node, xnode = -1, -1, -1, -1
	for _, s := range m.Siblings(0) {
		if s != 0 {
			smt = s
		}
	}
	for _, c := range m.CPUs() {
		switch {
		case c.Node != c0.Node:
			xnode = pick(xnode, c.ID)
		case c.LLC != c0.LLC:
			node = pick(node, c.ID)
		case c.Core != c0.Core:
			llc = pick(llc, c.ID)
		}
	}
	if smt < 0 || llc < 0 || node < 0 || xnode < 0 {
		t.Fatalf("machine lacks a distance: %d %d %d %d", smt, llc, node, xnode)
	}
	fx := Effects{SMTFactor: 1, WarmupSMTNS: 1 * us, WarmupLLCNS: 20 * us, WarmupNodeNS: 300 * us, WarmupXNodeNS: 4000 * us}
	r := simYAML(t, m, fmt.Sprintf(`
groups:
  - name: mover
    loop: 1
    cpus: "0"
    program:
      - run: 1ms
      - affinity: "%d"
      - run: 1ms
      - affinity: "%d"
      - run: 1ms
      - affinity: "%d"
      - run: 1ms
      - affinity: "%d"
      - run: 1ms
`, smt, llc, node, xnode), 100*ms, fx)
	checkConsistent(t, r)
	tk := r.task(t, "mover-0")
	want := metrics.Migrations{SMT: 1, LLC: 1, Node: 1, XNode: 1}
	if tk.Migrations != want || r.res.Summary.Migrations != want {
		t.Errorf("migrations %+v (summary %+v), want one of each distance", tk.Migrations, r.res.Summary.Migrations)
	}
	if e, w := endOf(t, tk), 5*ms+1*us+20*us+300*us+4000*us; e != w {
		t.Errorf("ended at %d, want %d: 5ms of work and each warm-up once", e, w)
	}
	var cpus []int
	for _, s := range r.segs("mover-0") {
		cpus = append(cpus, s.cpu)
	}
	if fmt.Sprint(cpus) != fmt.Sprint([]int{0, smt, llc, node, xnode}) {
		t.Errorf("ran on cpus %v, want %v", cpus, []int{0, smt, llc, node, xnode})
	}
	if tk.WorkNS != 5*ms || tk.RuntimeNS != endOf(t, tk) {
		t.Errorf("work %d, runtime %d: warm-up is run time without work", tk.WorkNS, tk.RuntimeNS)
	}
}

func pick(have, id int) int {
	if have < 0 {
		return id
	}
	return have
}

// Voluntary switches count blocking, involuntary ones preemption: a task
// that sleeps n times has n voluntary switches; two hogs sharing one CPU
// at HZ 100 under fair switch at every 10ms tick (the fair slice is
// shorter), each switch but the last in-flight one involuntary.
func TestSwitchCounts(t *testing.T) {
	r := simYAML(t, machine(t, "1x1x1x1"), `
groups:
  - {name: s, loop: 7, program: [{run: 1ms}, {sleep: 2ms}]}
`, 100*ms, noFx)
	if tk := r.task(t, "s-0"); tk.Voluntary != 7 || tk.Involuntary != 0 || r.res.Summary.ContextSwitches != 8 {
		t.Errorf("sleeper: %d voluntary, %d involuntary, %d switch-ins; want 7, 0, 8 (7 wakeups and the first run)",
			tk.Voluntary, tk.Involuntary, r.res.Summary.ContextSwitches)
	}
	w, err := parse(`
groups:
  - {name: hog, count: 2, program: [{run: 10ms}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(Config{Machine: machine(t, "1x1x1x1"), Workload: w, Duration: 1000 * ms, HZ: 100, Effects: noFx, TaskDetail: true})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.ContextSwitches != 100 || s.Involuntary != 99 || s.Voluntary != 0 {
		t.Errorf("two hogs at HZ 100: %d switch-ins, %d involuntary, %d voluntary; want 100, 99, 0", s.ContextSwitches, s.Involuntary, s.Voluntary)
	}
	for _, tk := range res.Tasks {
		if tk.RuntimeNS != 500*ms {
			t.Errorf("%s ran %d, want 500ms", tk.Comm, tk.RuntimeNS)
		}
	}
}

// Under fair, hogs of different nice share a CPU in proportion to their
// load weights (nice 0: 1024, nice 5: 335, nice -3: 1991), so run time
// per weight, the fairness figure, is equal for all.
func TestFairnessRuntimeByWeight(t *testing.T) {
	r := simYAML(t, machine(t, "1x1x1x1"), `
groups:
  - {name: a, program: [{run: 10ms}]}
  - {name: b, nice: 5, program: [{run: 10ms}]}
  - {name: c, nice: -3, program: [{run: 10ms}]}
`, 3000*ms, noFx)
	checkConsistent(t, r)
	var total float64
	for _, tk := range r.res.Tasks {
		total += float64(tk.RuntimeNS)
	}
	for _, c := range []struct {
		comm   string
		weight uint32
	}{{"a-0", 1024}, {"b-0", 335}, {"c-0", 1991}} {
		tk := r.task(t, c.comm)
		if tk.Weight != c.weight {
			t.Errorf("%s weight %d, want %d", c.comm, tk.Weight, c.weight)
		}
		want := float64(c.weight) / (1024 + 335 + 1991)
		if got := float64(tk.RuntimeNS) / total; math.Abs(got-want) > 0.01 {
			t.Errorf("%s got %.4f of the CPU, want %.4f (its weight's share)", c.comm, got, want)
		}
	}
}

// Per-CPU utilization over time: each timeline bin holds the busy
// fraction of that stretch of each CPU.
func TestUtilizationTimeline(t *testing.T) {
	w, err := parse(`
groups:
  - {name: a, loop: 1, cpus: "0", program: [{run: 30ms}]}
  - {name: b, loop: 1, cpus: "1", start: 50ms, program: [{run: 25ms}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(Config{Machine: machine(t, "1x1x2x1"), Workload: w, Duration: 100 * ms, Effects: noFx, TimelineBins: 10})
	if err != nil {
		t.Fatal(err)
	}
	// The run ends when the last task exits, at 75ms: 8 bins of 10ms,
	// the last one 5ms wide.
	want := map[int]string{0: "[1 1 1 0 0 0 0 0]", 1: "[0 0 0 0 0 1 1 1]"}
	if res.Run.DurationNS != 75*ms || res.TimelineBinNS != 10*ms {
		t.Fatalf("run of %d, bins of %d", res.Run.DurationNS, res.TimelineBinNS)
	}
	for _, c := range res.CPUs {
		if got := fmt.Sprint(c.Timeline); got != want[c.CPU] {
			t.Errorf("cpu %d timeline %s, want %s", c.CPU, got, want[c.CPU])
		}
	}
	if u := res.CPUs[1].Utilization; u != 0.333 {
		t.Errorf("cpu 1 utilization %.3f, want 25/75", u)
	}
}

// A wakeup sent to another, idle CPU arrives after the IPI latency plus
// the idle-exit latency, and that is the wakeup latency the run reports,
// under fair and under a sched_ext scheduler (whose wakeups reach the CPU
// as a kick).
func TestRemoteWakeupLatency(t *testing.T) {
	fx := Effects{SMTFactor: 1, IPILatencyNS: 3 * us, IdleExitNS: 7 * us}
	w, err := parse(`
groups:
  - {name: a, cpus: "0", program: [{sleep: 1ms}, {wake: b}]}
  - {name: b, cpus: "1", program: [wait, {run: 100us}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range []Scheduler{Fair{}, &tickCounter{}} {
		res, err := Run(Config{Machine: machine(t, "1x1x2x1"), Workload: w, Duration: 100 * ms, Effects: fx, Scheduler: sc})
		if err != nil {
			t.Fatal(err)
		}
		g := res.Groups[1]
		if g.Name != "b" || g.Wakeup.Count < 90 || g.Wakeup.Min != int64(10*us) || g.Wakeup.Max != int64(10*us) {
			t.Errorf("%s: %s: %d wakeups, latency %d..%d, want all 10us (IPI 3us + idle exit 7us)", sc.Name(), g.Name, g.Wakeup.Count, g.Wakeup.Min, g.Wakeup.Max)
		}
	}
}

// tickCounter is the Go FIFO with its ops.tick calls counted.
type tickCounter struct {
	ticks int
	x     *scx.Ext
}

func (tc *tickCounter) Name() string { return "tick-counter" }
func (tc *tickCounter) Kind() string { return "go" }
func (tc *tickCounter) Attach(core *sched.Core) error {
	tc.x = scx.New(core)
	ops := (&goscheds.FIFO{X: tc.x}).Ops("fifo", 0)
	ops.Tick = func(p *scx.Task) { tc.ticks++ }
	_, err := tc.x.Register(ops)
	return err
}
func (tc *tickCounter) Finish(*metrics.SchedulerResult) {}

// The scheduler tick runs at HZ on a busy CPU and stops on an idle one
// (nohz): one busy CPU for 1s gets HZ-1 ticks (the one at 1s is past the
// end); a task busy the first 10.5ms of every 100ms gets the ticks that
// fall in those stretches, ten times floor(10.5ms / tick).
func TestTicksAtHZ(t *testing.T) {
	for _, hz := range []int{100, 250, 1000} {
		for _, tc := range []struct {
			src  string
			want int
		}{
			{`groups: [{name: hog, program: [{run: 10ms}]}]`, hz - 1},
			{`groups: [{name: p, program: [{run: 10500us}, {sleep: 89500us}]}]`, 10 * int(10_500_000/(1_000_000_000/uint64(hz)))},
		} {
			w, err := parse(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			sc := &tickCounter{}
			if _, err := Run(Config{Machine: machine(t, "1x1x2x1"), Workload: w, Duration: 1000 * ms, HZ: hz, Effects: noFx, Scheduler: sc}); err != nil {
				t.Fatal(err)
			}
			if sc.ticks != tc.want {
				t.Errorf("HZ %d, %s: %d ticks, want %d", hz, tc.src, sc.ticks, tc.want)
			}
		}
	}
}

func parse(src string) (*workload.Workload, error) {
	return workload.ParseYAML("test.yaml", []byte(src))
}

// perfSetter is the Go FIFO that halves CPU 0's performance level
// (scx_bpf_cpuperf_set) on its first tick.
type perfSetter struct{ tickCounter }

func (ps *perfSetter) Attach(core *sched.Core) error {
	ps.x = scx.New(core)
	ops := (&goscheds.FIFO{X: ps.x}).Ops("fifo", 0)
	ops.Tick = func(p *scx.Task) {
		if ps.ticks++; ps.ticks == 1 {
			ps.x.CPUPerfSet(0, 512)
		}
	}
	_, err := ps.x.Register(ops)
	return err
}

// A scheduler's cpuperf setting changes run speed from the next tick: a
// 10ms run does 1ms at full speed before the first tick halves the
// performance level, then 9ms at half speed, ending at 19ms. The setting
// belongs to that run: the next run on the same machine runs at full speed.
func TestCPUPerfSetByScheduler(t *testing.T) {
	m := machine(t, "1x1x1x1")
	w, err := parse(`groups: [{name: a, loop: 1, program: [{run: 10ms}]}]`)
	if err != nil {
		t.Fatal(err)
	}
	for i, sc := range []Scheduler{&perfSetter{}, Fair{}} {
		res, err := Run(Config{Machine: m, Workload: w, Duration: 100 * ms, HZ: 1000, Effects: noFx, Scheduler: sc, TaskDetail: true})
		if err != nil {
			t.Fatal(err)
		}
		want := []uint64{19 * ms, 10 * ms}[i]
		if e := *res.Tasks[0].EndNS; e != want {
			t.Errorf("run %d (%s): ended at %d, want %d", i, sc.Name(), e, want)
		}
	}
	if c, _ := m.CPU(0); c.Perf != 1024 {
		t.Errorf("machine left with perf %d", c.Perf)
	}
}

// wake which: random wakes one task per wake, drawn from the seeded
// generator: 60 wakes make 60 runs spread over the group, the same seed
// gives the same spread and another seed another one.
func TestWakeRandom(t *testing.T) {
	w, err := parse(`
groups:
  - {name: m, loop: 60, program: [{sleep: 1ms}, {wake: {group: r, which: random}}]}
  - {name: r, count: 4, program: [wait, {run: 10us}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	spread := func(seed uint64) string {
		res, err := Run(Config{Machine: machine(t, "1x1x2x1"), Workload: w, Duration: 100 * ms, Seed: seed, Effects: noFx, TaskDetail: true})
		if err != nil {
			t.Fatal(err)
		}
		var its []uint64
		var sum uint64
		for _, tk := range res.Tasks {
			if tk.Group == "r" {
				its = append(its, tk.Iterations)
				sum += tk.Iterations
			}
		}
		if sum != 60 {
			t.Errorf("seed %d: %d runs of r (%v), want 60", seed, sum, its)
		}
		for _, n := range its {
			if n == 0 || n > 30 {
				t.Errorf("seed %d: spread %v: random should reach every task, none too often", seed, its)
			}
		}
		return fmt.Sprint(its)
	}
	a, b, c := spread(1), spread(1), spread(2)
	if a != b || a == c {
		t.Errorf("seed 1: %s and %s; seed 2: %s", a, b, c)
	}
}
