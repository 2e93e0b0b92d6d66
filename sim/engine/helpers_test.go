package engine

import (
	"bytes"
	"testing"

	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/metrics"
	"github.com/scxsim/scxsim/sim/trace"
	"github.com/scxsim/scxsim/sim/workload"
)

const (
	us = uint64(1_000)
	ms = uint64(1_000_000)
)

// noFx turns every machine effect off, so timelines are exact.
var noFx = Effects{SMTFactor: 1}

func machine(t testing.TB, spec string) *topo.Machine {
	t.Helper()
	sp, err := topo.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sp.Machine(topo.Numbering("linear"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func machineFile(t testing.TB, yaml string) *topo.Machine {
	t.Helper()
	m, err := topo.ParseFile([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// run is one simulated run with its decoded trace.
type run struct {
	res *metrics.Results
	evs []trace.Event
}

func simulate(t testing.TB, m *topo.Machine, w *workload.Workload, dur uint64, fx Effects) *run {
	t.Helper()
	var buf bytes.Buffer
	tr := trace.NewWriter(&buf)
	res, err := Run(Config{Machine: m, Workload: w, Duration: dur, Seed: 1, Effects: fx, TaskDetail: true, Trace: tr})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	evs, err := trace.Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return &run{res, evs}
}

func simYAML(t testing.TB, m *topo.Machine, src string, dur uint64, fx Effects) *run {
	t.Helper()
	w, err := workload.ParseYAML("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return simulate(t, m, w, dur, fx)
}

// seg is one stretch a task spent on a CPU.
type seg struct {
	cpu        int
	start, end uint64
	state      int64 // prev_state when it left; -1 while running at the end
}

// segs returns comm's on-CPU stretches from the trace.
func (r *run) segs(comm string) []seg {
	var out []seg
	open := map[int]int{} // cpu -> index in out
	for _, e := range r.evs {
		if e.Kind != "sched_switch" {
			continue
		}
		if e.Prev.Comm == comm {
			if i, ok := open[e.CPU]; ok {
				out[i].end, out[i].state = e.TS, e.PrevState
				delete(open, e.CPU)
			}
		}
		if e.Next.Comm == comm {
			open[e.CPU] = len(out)
			out = append(out, seg{cpu: e.CPU, start: e.TS, state: -1})
		}
	}
	for _, i := range open {
		out[i].end = r.res.Run.DurationNS
	}
	return out
}

func (r *run) task(t testing.TB, comm string) metrics.TaskResult {
	t.Helper()
	for _, tr := range r.res.Tasks {
		if tr.Comm == comm {
			return tr
		}
	}
	t.Fatalf("no task %s", comm)
	return metrics.TaskResult{}
}

func (r *run) group(t testing.TB, name string) metrics.GroupResult {
	t.Helper()
	for _, g := range r.res.Groups {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no group %s", name)
	return metrics.GroupResult{}
}

func endOf(t testing.TB, tr metrics.TaskResult) uint64 {
	t.Helper()
	if tr.EndNS == nil {
		t.Fatalf("task %s did not exit", tr.Comm)
	}
	return *tr.EndNS
}

func starts(ss []seg) []uint64 {
	var out []uint64
	for _, s := range ss {
		out = append(out, s.start)
	}
	return out
}

func eqU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkConsistent asserts the invariants every run must keep: task run
// time sums to CPU busy time, per-CPU busy time never exceeds the run,
// and the trace's on-CPU time per task matches the task's run time.
func checkConsistent(t testing.TB, r *run) {
	t.Helper()
	s := r.res.Summary
	if s.RuntimeNS != s.BusyNS {
		t.Errorf("task run time %d != CPU busy time %d", s.RuntimeNS, s.BusyNS)
	}
	var sum uint64
	for _, c := range r.res.CPUs {
		if c.BusyNS > r.res.Run.DurationNS {
			t.Errorf("cpu %d busy %d longer than the run %d", c.CPU, c.BusyNS, r.res.Run.DurationNS)
		}
		sum += c.BusyNS
	}
	if sum != s.BusyNS {
		t.Errorf("per-CPU busy sums to %d, total says %d", sum, s.BusyNS)
	}
	for _, tk := range r.res.Tasks {
		var on uint64
		for _, sg := range r.segs(tk.Comm) {
			on += sg.end - sg.start
		}
		if on != tk.RuntimeNS {
			t.Errorf("task %s: trace on-CPU time %d, run time %d", tk.Comm, on, tk.RuntimeNS)
		}
	}
}
