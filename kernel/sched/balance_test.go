package sched_test

import (
	"fmt"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
)

// TestNewIdlePullBound: a newly-idle balance looks at no more than
// sysctl_sched_nr_migrate (32) tasks of the busiest runqueue, least
// recently run first, as detach_tasks() does. CPU 0 holds pinned hogs and
// one task that may run on CPU 1 at a given depth from the tail of the
// runqueue's task list; CPU 1 goes newly idle once (no ticks, so no other
// balancing). The free task moves only when the bounded scan reaches it.
func TestNewIdlePullBound(t *testing.T) {
	cases := []struct {
		before   int // pinned hogs enqueued before the free task (nearer the tail)
		wantMove bool
	}{
		{0, true},
		{10, true},
		{30, true},
		{40, false},
		{200, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("depth=%d", c.before), func(t *testing.T) {
			d := schedtest.New(machine(t, "1x1x2x1"), sched.Options{})
			d.Ticks = false
			// CPU 1's only task runs 1ms, then sleeps for good: CPU 1 goes
			// newly idle once.
			d.Spawn(sched.TaskSpec{Comm: "s", CPUs: one(1, 2), CPU: 1}, schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000_000_000})
			// The running hog is spawned first (it becomes the list head once
			// picked); the rest queue behind it in spawn order.
			d.Spawn(sched.TaskSpec{Comm: "curr", CPUs: one(0, 2), CPU: 0}, schedtest.Behavior{})
			for i := 0; i < c.before; i++ {
				d.Spawn(sched.TaskSpec{Comm: "pin", CPUs: one(0, 2), CPU: 0}, schedtest.Behavior{})
			}
			free, _ := d.Spawn(sched.TaskSpec{Comm: "free", CPUs: one(0, 2), CPU: 0}, schedtest.Behavior{})
			// Fork placement would put it on the less loaded CPU 1: fork it
			// pinned to CPU 0, then let it run anywhere (it stays queued there).
			if err := d.Core.SetAffinity(free, allCPUs(2)); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 50; i++ {
				d.Spawn(sched.TaskSpec{Comm: "pin", CPUs: one(0, 2), CPU: 0}, schedtest.Behavior{})
			}
			if free.CPU() != 0 {
				t.Fatalf("free task forked on CPU %d", free.CPU())
			}
			d.Run(5_000_000)
			moved := free.CPU() == 1
			if moved != c.wantMove {
				t.Fatalf("free task on CPU %d, want moved=%v", free.CPU(), c.wantMove)
			}
			if moved && d.Runtime(free) == 0 {
				t.Fatal("pulled task did not run on CPU 1")
			}
		})
	}
}
