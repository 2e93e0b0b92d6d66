package engine

import (
	"fmt"
	"testing"

	"github.com/scxsim/scxsim/sim/workload"
)

// The Perfetto trace, decoded with protowire, tells the same story as the
// results: one switch-in per context switch, one wakeup_new per task, one
// exit per exited task, a waking per wakeup, every task named in the
// process tree, per-CPU runqueue counters in range, timestamps in order.
func TestTraceMatchesRun(t *testing.T) {
	m := machine(t, "1x2x2x2")
	w, err := workload.Builtin("build:jobs=6", m.NumPossible())
	if err != nil {
		t.Fatal(err)
	}
	r := simulate(t, m, w, 300*ms, DefaultEffects())
	checkConsistent(t, r)
	var switchIns, news, exits, wakings, served int64
	pending := map[int32]bool{}
	named := map[int32]string{}
	tracks := map[uint64]string{}
	var last uint64
	for _, e := range r.evs {
		switch e.Kind {
		case "sched_switch":
			if e.Next.PID != 0 {
				switchIns++
				if pending[e.Next.PID] {
					served++
					delete(pending, e.Next.PID)
				}
			}
			if e.CPU < 0 || e.CPU >= m.NrCPUIDs() {
				t.Fatalf("switch on cpu %d", e.CPU)
			}
			if e.TS < last {
				t.Fatalf("switch at %d after an event at %d", e.TS, last)
			}
			last = e.TS
		case "sched_wakeup_new":
			news++
			pending[e.Next.PID] = true
		case "sched_process_exit":
			exits++
		case "sched_waking":
			wakings++
			pending[e.Next.PID] = true
		case "process":
			named[e.Next.PID] = e.Name
		case "track":
			tracks[e.Track] = e.Name
		case "counter":
			if tracks[e.Track] == "" || e.Value < 0 || e.Value > float64(r.res.Summary.Tasks) {
				t.Fatalf("counter %+v on track %q", e, tracks[e.Track])
			}
		}
	}
	s := r.res.Summary
	if switchIns != int64(s.ContextSwitches) {
		t.Errorf("%d switch-ins in the trace, %d context switches in the results", switchIns, s.ContextSwitches)
	}
	if news != int64(s.Tasks) || exits != int64(s.Exited) {
		t.Errorf("trace: %d new, %d exits; results: %d tasks, %d exited", news, exits, s.Tasks, s.Exited)
	}
	// The results count a wakeup once the task runs: wakings still
	// pending at the end are not in them.
	if served != s.Wakeup.Count || wakings+news != served+int64(len(pending)) {
		t.Errorf("%d wakings and %d new tasks, %d of them ran; results count %d wakeups", wakings, news, served, s.Wakeup.Count)
	}
	if len(tracks) != m.NumPossible() {
		t.Errorf("%d counter tracks, want one per CPU", len(tracks))
	}
	for _, tk := range r.res.Tasks {
		if named[tk.PID] != tk.Comm {
			t.Errorf("pid %d named %q in the trace, %q in the results", tk.PID, named[tk.PID], tk.Comm)
		}
	}
	if s.Exited == 0 || s.Tasks < 10 {
		t.Fatalf("the build workload forked %d tasks, %d exited", s.Tasks, s.Exited)
	}
}

// A task's exit follows do_exit()'s order: sched_process_exit, then the
// waiting parent's sched_waking fired by the exiting task itself
// (exit_notify()), then the final sched_switch away from it.
func TestTraceExitOrder(t *testing.T) {
	m := machine(t, "1x1x1x1")
	w, err := parse(`
groups:
  - {name: cc, count: 0, loop: 1, program: [{run: 2ms}]}
  - {name: make, loop: 1, program: [{run: 1ms}, {fork: {group: cc, wait: true}}, {run: 1ms}]}`)
	if err != nil {
		t.Fatal(err)
	}
	r := simulate(t, m, w, 20*ms, noFx)
	pid := map[string]int32{}
	for _, e := range r.evs {
		if e.Kind == "process" {
			pid[e.Name] = e.Next.PID
		}
	}
	child, parent := pid["cc-0"], pid["make-0"]
	if child == 0 || parent == 0 {
		t.Fatalf("tasks not named: %v", pid)
	}
	var order []string
	for _, e := range r.evs {
		switch {
		case e.Kind == "sched_process_exit" && e.Next.PID == child:
			order = append(order, "exit")
		case e.Kind == "sched_waking" && e.Next.PID == parent:
			if e.Common != child {
				t.Errorf("parent woken by pid %d, want the exiting child %d", e.Common, child)
			}
			order = append(order, "waking")
		case e.Kind == "sched_switch" && e.Prev.PID == child:
			order = append(order, "switch")
		}
	}
	if got := fmt.Sprint(order); got != "[exit waking switch]" {
		t.Fatalf("exit events %s, want [exit waking switch]", got)
	}
}
