package bpfsched_test

import (
	"bytes"
	"errors"
	"fmt"
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

// TestDeterministic: the same machine, workload and object give the same
// schedule and the same BPF state, run after run.
func TestDeterministic(t *testing.T) {
	run := func(obj string) (string, []byte) {
		w := newWorld(t, 8, obj)
		var tasks []*sched.Task
		for i := 0; i < 40; i++ {
			p, err := w.d.Spawn(sched.TaskSpec{Comm: "t" + itoa(i), CPU: i % 8, Nice: i%3 - 1},
				schedtest.Behavior{Run: uint64(300_000 + 41_000*(i%5)), Sleep: uint64(200_000 + 97_000*(i%3))})
			if err != nil {
				t.Fatal(err)
			}
			tasks = append(tasks, p)
		}
		s := w.attach()
		w.d.Run(150_000_000)
		var sb strings.Builder
		for _, p := range tasks {
			fmt.Fprintf(&sb, "%s %d %d %d\n", p, w.d.Runtime(p), p.NrSwitches, p.NrMigrations)
		}
		state := w.global(map[string]string{"schedulers/cidq/cidq.bpf.o": "st", "schedulers/fifo/fifo.bpf.o": "vtime_now"}[obj])
		s.Detach()
		return sb.String(), state
	}
	for _, obj := range []string{"schedulers/cidq/cidq.bpf.o", "schedulers/fifo/fifo.bpf.o"} {
		a, sa := run(obj)
		b, sb := run(obj)
		if a != b {
			t.Errorf("%s: schedules differ:\n%s\n---\n%s", obj, a, b)
		}
		if !bytes.Equal(sa, sb) {
			t.Errorf("%s: BPF state differs: %x vs %x", obj, sa, sb)
		}
	}
}
