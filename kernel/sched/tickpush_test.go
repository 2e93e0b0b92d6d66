package sched_test

import (
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
)

// TestTickPushBound: a busy CPU's tick pushes a waiting task to an idle
// CPU (the nohz idle balance stand-in), and the idle CPU's periodic
// balance pulls, in bounded passes: each looks at 32 tasks from the tail
// and rotates the pinned ones it saw to the front, so a movable task deep
// in the list is found after a few ticks.
func TestTickPushBound(t *testing.T) {
	d := schedtest.New(machine(t, "1x1x2x1"), sched.Options{})
	d.Spawn(sched.TaskSpec{Comm: "curr", CPUs: one(0, 2), CPU: 0}, schedtest.Behavior{})
	for i := 0; i < 150; i++ {
		d.Spawn(sched.TaskSpec{Comm: "pin", CPUs: one(0, 2), CPU: 0}, schedtest.Behavior{})
	}
	// Fork the free task while CPU 1 is busy so that it queues on CPU 0;
	// CPU 1's task exits after 0.5ms and CPU 1 stays idle.
	d.Spawn(sched.TaskSpec{Comm: "b", CPUs: one(1, 2), CPU: 1}, schedtest.Behavior{Run: 500_000, Exit: true})
	free, _ := d.Spawn(sched.TaskSpec{Comm: "free", CPUs: one(0, 2), CPU: 0}, schedtest.Behavior{})
	// Fork placement would put it on the less loaded CPU 1: fork it
	// pinned to CPU 0, then let it run anywhere (it stays queued there).
	if err := d.Core.SetAffinity(free, allCPUs(2)); err != nil {
		t.Fatal(err)
	}
	if free.CPU() != 0 {
		t.Fatalf("free task forked on CPU %d", free.CPU())
	}
	// The newly-idle pull at 0.5ms, CPU 0's push and CPU 1's periodic
	// balance at the first tick (4ms) looked at 96 of the 152 tasks.
	d.Run(5_000_000)
	if free.CPU() != 0 {
		t.Fatalf("free task on CPU %d after two bounded passes", free.CPU())
	}
	d.Run(100_000_000)
	if free.CPU() != 1 {
		t.Fatalf("free task still on CPU %d after 25 ticks", free.CPU())
	}
	if d.Runtime(free) < 50_000_000 {
		t.Fatalf("free task ran %d ns on CPU 1", d.Runtime(free))
	}
}
