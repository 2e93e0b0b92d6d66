package bpfsched_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"

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

// TestExitedTasksFreed: the task_struct mirrors and task storage of tasks
// that exited are freed (bpf_task_storage_free() at task free), in bounded
// time, while the scheduler keeps running.
func TestExitedTasksFreed(t *testing.T) {
	w := newWorld(t, 4, "schedulers/cidq/cidq.bpf.o", "max_tasks=128")
	s := w.attach()
	st := w.obj.Obj.Map("task_ctxs").Map.(*maps.LocalStorage)
	now := uint64(0)
	for wave := 0; wave < 20; wave++ {
		w.spawn(50, schedtest.Behavior{Run: 500_000, Exit: true})
		now += 50_000_000
		w.d.Run(now)
	}
	if s.Exited() {
		t.Fatalf("exited: %+v", s.ExitInfo())
	}
	// 1000 tasks came and went; 128 contexts were enough and the storage
	// of the dead ones was freed.
	if n := len(w.d.Core.Tasks()); n != 0 {
		t.Errorf("%d tasks left", n)
	}
	t.Logf("storage owners %d", st.Len())
	if n := st.Len(); n > 200 {
		t.Errorf("task storage holds %d owners after 1000 task exits", n)
	}
	s.Detach()
}

// TestEnableFailureDump: cidq runs out of task contexts while tasks are
// switched to it; the exit carries ops.init_task()'s error and the debug
// dump has the scheduler's own ops.dump() line.
func TestEnableFailureDump(t *testing.T) {
	w := newWorld(t, 4, "schedulers/cidq/cidq.bpf.o", "max_tasks=4")
	w.spawn(8, schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000})
	_, err := w.obj.Attach(w.x)
	var ee *bpfsched.EnableError
	if !errors.As(err, &ee) {
		t.Fatalf("attach: %v", err)
	}
	if !strings.Contains(ee.Info.Msg, "ops.init_task() failed (-12)") {
		t.Errorf("exit message %q", ee.Info.Msg)
	}
	if !strings.Contains(ee.Info.Dump, "cidq: direct=") {
		t.Errorf("dump lacks ops.dump() output:\n%s", ee.Info.Dump)
	}
}
