package bpfsched_test

import (
	"errors"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/arena"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
)

// TestCidqManyTasks: cidq takes task contexts from its arena a chunk at a
// time as tasks arrive, so the number of tasks is bounded by the arena's
// 4 GiB, not by contexts preallocated at load (1024 before, and the fork
// that found none failed with -ENOMEM); the arena holds pages for the
// contexts in use plus its globals, not its whole size.
func TestCidqManyTasks(t *testing.T) {
	cases := []struct {
		tasks   int
		globals []string
		forked  int // forks that succeed
	}{
		{1500, nil, 1500},
		{12_000, nil, 12_000},
		// max_tasks still caps the contexts handed out: later forks fail
		// with ops.init_task()'s -ENOMEM.
		{1500, []string{"max_tasks=1000"}, 1000},
	}
	for _, c := range cases {
		w := newWorld(t, 16, "schedulers/cidq/cidq.bpf.o", c.globals...)
		s := w.attach()
		var tasks []*sched.Task
		for i := 0; i < c.tasks; i++ {
			p, err := w.d.Spawn(sched.TaskSpec{Comm: "w" + itoa(i), CPU: i % 16}, schedtest.Behavior{Run: 100_000, Sleep: 1_000_000_000})
			if err != nil {
				if !errors.Is(err, syscall.ENOMEM) {
					t.Fatalf("fork %d: %v", i, err)
				}
				continue
			}
			tasks = append(tasks, p)
		}
		if len(tasks) != c.forked {
			t.Fatalf("%d tasks %v: %d forks succeeded, want %d", c.tasks, c.globals, len(tasks), c.forked)
		}
		w.d.Run(500_000_000)
		if s.Exited() {
			t.Fatalf("%d tasks %v: exited: %s", c.tasks, c.globals, s.ExitInfo().Msg)
		}
		for _, p := range tasks {
			if p.SumExecRuntime == 0 {
				t.Fatalf("%s never ran", p)
			}
		}
		a := w.obj.Obj.Map("arena").Map.(*arena.Arena)
		// 104-byte contexts in 16-page chunks, plus a few pages of globals.
		const ctxBytes, chunkPages = 104, 16
		perChunk := chunkPages * 4096 / ctxBytes
		want := (c.forked + perChunk - 1) / perChunk * chunkPages
		if got := a.Populated(); got < want || got > want+8 {
			t.Errorf("%d tasks: %d arena pages populated, want %d plus globals", c.tasks, got, want)
		}
		s.Detach()
	}
}
