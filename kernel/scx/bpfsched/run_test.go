package bpfsched_test

import (
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
)

func TestFifoRuns(t *testing.T) {
	w := newWorld(t, 4, "schedulers/fifo/fifo.bpf.o")
	tasks := w.spawn(16, schedtest.Behavior{Run: 3_000_000, Sleep: 1_000_000})
	s := w.attach()
	w.d.Run(200_000_000)
	if s.Exited() {
		t.Fatalf("exited: %+v", s.ExitInfo())
	}
	for _, p := range tasks {
		if p.SumExecRuntime == 0 {
			t.Errorf("%s never ran", p)
		}
		if p.Class() != sched.Class(w.x) {
			t.Errorf("%s in class %s", p, p.Class().Name())
		}
	}
	t.Log(w.x.Log())
	s.Detach()
	w.d.Drain()
	t.Logf("%+v", s.ExitInfo())
}

func TestCidqRuns(t *testing.T) {
	w := newWorld(t, 8, "schedulers/cidq/cidq.bpf.o")
	tasks := w.spawn(32, schedtest.Behavior{Run: 3_000_000, Sleep: 1_000_000})
	s := w.attach()
	w.d.Run(200_000_000)
	if s.Exited() {
		t.Fatalf("exited: %+v", s.ExitInfo())
	}
	for _, p := range tasks {
		if p.SumExecRuntime == 0 {
			t.Errorf("%s never ran", p)
		}
	}
	t.Log(w.x.Log())
	s.Detach()
	t.Logf("%+v", s.ExitInfo())
}
