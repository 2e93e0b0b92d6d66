package bpfsched_test

import (
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
)

// TestManyTaskMirrors: more task_struct mirrors than the VM has regions
// (0x6000 between vm.RegionBase and the top of the address space) must
// work, whether the tasks live at the same time or come and go. Each
// mirror used to be a region of its own, and region ids are never reused,
// so the 24,577th mirror ever created wrapped around the address space
// and ops handed the program a pointer no kfunc recognised.
func TestManyTaskMirrors(t *testing.T) {
	cases := []struct {
		name          string
		waves, perWav int
		b             schedtest.Behavior
	}{
		// 26k tasks alive at once, each waking once within the run.
		{"live", 1, 26_000, schedtest.Behavior{Run: 100_000, Sleep: 1_000_000_000}},
		// 26k tasks in waves of 1300 that run once and exit.
		{"churn", 20, 1300, schedtest.Behavior{Run: 100_000, Exit: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, 16, "schedulers/fifo/fifo.bpf.o")
			s := w.attach()
			var tasks []*sched.Task
			now := uint64(0)
			for i := 0; i < c.waves; i++ {
				tasks = append(tasks, w.spawn(c.perWav, c.b)...)
				now += 200_000_000
				w.d.Run(now)
				if s.Exited() {
					t.Fatalf("wave %d: exited: %+v", i, s.ExitInfo().Msg)
				}
			}
			for _, p := range tasks {
				if p.SumExecRuntime == 0 {
					t.Fatalf("%s never ran", p)
				}
			}
			s.Detach()
		})
	}
}
