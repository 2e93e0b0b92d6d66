package scxsim_test

import (
	"testing"
	"time"

	"github.com/scxsim/scxsim"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/goscheds"
)

// The README's example: a BPF scheduler checked from go test.
func TestExampleScheduler(t *testing.T) {
	m, err := scxsim.NewMachine("1x2x4x2")
	if err != nil {
		t.Fatal(err)
	}
	w, err := scxsim.BuiltinWorkload("schbench:workers=8", m.NumPossible())
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scxsim.SchedulerSpec("builtin:cidq")
	if err != nil {
		t.Fatal(err)
	}
	res := scxsim.Simulate(t, scxsim.Config{Machine: m, Scheduler: sched, Workload: w, Duration: time.Second, Tasks: true})
	scxsim.NoStall(t, res)
	scxsim.LatencyBelow(t, res, "worker", 99, 5*time.Millisecond)
	scxsim.FairWithin(t, res, "worker", 0.10)
}

// The helpers fail when they should: a scheduler that never dispatches
// stalls; hogs at different weights are not fair.
func TestHelpersCatchProblems(t *testing.T) {
	m, err := scxsim.NewMachine("1x1x2x1")
	if err != nil {
		t.Fatal(err)
	}
	hogs, err := scxsim.WorkloadYAML(`
groups:
  - {name: hog, count: 2, program: [{run: 10ms}]}
  - {name: low, count: 1, nice: 10, program: [{run: 10ms}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	never := scxsim.GoOps("never", func(x *scx.Ext) (*scx.Ops, error) {
		return &scx.Ops{Name: "never", TimeoutMS: 500,
			Enqueue: func(p *scx.Task, fl uint64) { x.DsqInsert(p, 7, scx.SliceDfl, fl) },
			Init:    func() int32 { return x.CreateDSQ(7, -1) }}, nil
	})
	res := scxsim.Simulate(t, scxsim.Config{Machine: m, Scheduler: never, Workload: hogs, Duration: 2 * time.Second, Tasks: true})
	if scxsim.Stalled(res) == "" {
		t.Errorf("a scheduler that never dispatches was not reported: exit %+v", res.Scheduler.Exit)
	}
	fifo := scxsim.GoOps("fifo", func(x *scx.Ext) (*scx.Ops, error) {
		return (&goscheds.FIFO{X: x}).Ops("fifo", 0), nil
	})
	res = scxsim.Simulate(t, scxsim.Config{Machine: m, Scheduler: fifo, Workload: hogs, Duration: time.Second, Tasks: true})
	if s := scxsim.Stalled(res); s != "" {
		t.Errorf("fifo stalled: %s", s)
	}
	// Under fifo (no weights) a nice-10 hog gets the same share as the
	// others: FairWithin on a mixed-weight set must complain, and
	// LatencyBelow with an impossible bound too.
	rec := &recTB{TB: t}
	scxsim.FairWithin(rec, res, "low", 0.05)
	if rec.failed {
		t.Error("FairWithin failed a single-task group")
	}
	mixed := &recTB{TB: t}
	for i := range res.Tasks {
		res.Tasks[i].Group = "all"
	}
	scxsim.FairWithin(mixed, res, "all", 0.05)
	if !mixed.failed {
		t.Error("FairWithin accepted nice 0 and nice 10 hogs sharing equally")
	}
	// Under fair the same hogs on one CPU get run time in proportion to
	// weight: FairWithin, which divides by weight, accepts them.
	one, err := scxsim.NewMachine("1x1x1x1")
	if err != nil {
		t.Fatal(err)
	}
	res = scxsim.Simulate(t, scxsim.Config{Machine: one, Workload: hogs, Duration: 2 * time.Second, Tasks: true})
	for i := range res.Tasks {
		res.Tasks[i].Group = "all"
	}
	weighted := &recTB{TB: t}
	scxsim.FairWithin(weighted, res, "all", 0.05)
	if weighted.failed {
		t.Errorf("FairWithin refused fair's weighted shares: %+v", res.Tasks)
	}
	scxsim.NoStall(t, res)
	lat := &recTB{TB: t}
	scxsim.LatencyBelow(lat, res, "", 100, 0)
	if !lat.failed {
		t.Error("LatencyBelow accepted a zero bound")
	}
	if p, err := scxsim.Percentile(res, "hog", 99); err != nil || p < 0 {
		t.Errorf("percentile %v %v", p, err)
	}
	if _, err := scxsim.Percentile(res, "nope", 99); err == nil {
		t.Error("no error for an unknown group")
	}
}

// recTB records failures instead of failing the test.
type recTB struct {
	testing.TB
	failed bool
}

func (r *recTB) Helper()                      {}
func (r *recTB) Error(args ...any)            { r.failed = true }
func (r *recTB) Errorf(f string, args ...any) { r.failed = true }
func (r *recTB) Fatalf(f string, args ...any) { r.failed = true }

// Config.Duration 0 takes the workload's own duration; with neither, Run
// refuses.
func TestRunWorkloadDuration(t *testing.T) {
	m, err := scxsim.NewMachine("1x1x1x1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		yaml string
		cfg  time.Duration
		want time.Duration // 0: an error
	}{
		{"duration: 250ms\n", 0, 250 * time.Millisecond},
		{"duration: 250ms\n", 100 * time.Millisecond, 100 * time.Millisecond},
		{"", 0, 0},
	} {
		w, err := scxsim.WorkloadYAML(tc.yaml + "groups:\n  - name: w\n    program:\n      - run: 1ms\n      - sleep: 1ms\n")
		if err != nil {
			t.Fatal(err)
		}
		res, err := scxsim.Run(scxsim.Config{Machine: m, Workload: w, Duration: tc.cfg})
		switch {
		case tc.want == 0 && err == nil:
			t.Errorf("%q, %v: no error", tc.yaml, tc.cfg)
		case tc.want != 0 && err != nil:
			t.Errorf("%q, %v: %v", tc.yaml, tc.cfg, err)
		case tc.want != 0 && res.Run.DurationNS != uint64(tc.want):
			t.Errorf("%q, %v: simulated %d ns, want %v", tc.yaml, tc.cfg, res.Run.DurationNS, tc.want)
		}
	}
}
