package sched_test

import (
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/topo"
)

func machine(t testing.TB, spec string) *topo.Machine {
	t.Helper()
	s, err := topo.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Machine(topo.Linear)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func one(cpu int, n int) topo.CPUMask {
	m := topo.NewCPUMask(n)
	m.Set(cpu)
	return m
}

// Two CPU hogs pinned to one CPU share it in proportion to their weights.
func TestFairShares(t *testing.T) {
	cases := []struct {
		name         string
		niceA, niceB int
		wantA        float64 // share of A
	}{
		{"equal", 0, 0, 0.5},
		{"nice0 vs nice5", 0, 5, 1024.0 / (1024 + 335)},
		{"nice-5 vs nice0", -5, 0, 3121.0 / (3121 + 1024)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := schedtest.New(machine(t, "1x1x2x1"), sched.Options{})
			a, _ := d.Spawn(sched.TaskSpec{Comm: "a", Nice: c.niceA, CPUs: one(0, 2), CPU: 0}, schedtest.Behavior{})
			b, _ := d.Spawn(sched.TaskSpec{Comm: "b", Nice: c.niceB, CPUs: one(0, 2), CPU: 0}, schedtest.Behavior{})
			d.Run(2_000_000_000)
			ra, rb := d.Runtime(a), d.Runtime(b)
			total := float64(ra + rb)
			if total < 1.9e9 {
				t.Fatalf("CPU 0 ran only %.0f ns of 2 s", total)
			}
			share := float64(ra) / total
			if share < c.wantA-0.02 || share > c.wantA+0.02 {
				t.Fatalf("share of a = %.3f, want %.3f (a=%d b=%d)", share, c.wantA, ra, rb)
			}
		})
	}
}

// Hogs spread over idle CPUs: wakeup placement and the periodic pull.
func TestFairSpreads(t *testing.T) {
	d := schedtest.New(machine(t, "1x1x4x1"), sched.Options{})
	var ts []*sched.Task
	for i := 0; i < 4; i++ {
		p, _ := d.Spawn(sched.TaskSpec{Comm: "hog", CPU: 0}, schedtest.Behavior{})
		ts = append(ts, p)
	}
	d.Run(1_000_000_000)
	for _, p := range ts {
		if r := d.Runtime(p); r < 900_000_000 {
			t.Errorf("%s ran %d ns of 1 s, want a CPU of its own", p, r)
		}
	}
}

// A sleeper that wakes preempts a hog on the same CPU.
func TestWakeupPreempt(t *testing.T) {
	d := schedtest.New(machine(t, "1x1x1x1"), sched.Options{})
	hog, _ := d.Spawn(sched.TaskSpec{Comm: "hog", CPU: 0}, schedtest.Behavior{})
	sl, _ := d.Spawn(sched.TaskSpec{Comm: "sleeper", CPU: 0}, schedtest.Behavior{Run: 100_000, Sleep: 10_000_000})
	d.Run(1_000_000_000)
	if r := d.Runtime(sl); r < 90*100_000 {
		t.Fatalf("sleeper ran %d ns, want about 100 bursts of 100us", r)
	}
	if d.Runtime(hog) < 900_000_000 {
		t.Fatalf("hog starved: %d", d.Runtime(hog))
	}
}

func TestAffinityMovesQueuedTask(t *testing.T) {
	d := schedtest.New(machine(t, "1x1x2x1"), sched.Options{})
	a, _ := d.Spawn(sched.TaskSpec{Comm: "a", CPUs: one(0, 2), CPU: 0}, schedtest.Behavior{})
	b, _ := d.Spawn(sched.TaskSpec{Comm: "b", CPUs: one(0, 2), CPU: 0}, schedtest.Behavior{})
	d.Run(10_000_000)
	if err := d.Core.SetAffinity(b, one(1, 2)); err != nil {
		t.Fatal(err)
	}
	d.Run(20_000_000)
	if b.CPU() != 1 || a.CPU() != 0 {
		t.Fatalf("a on %d, b on %d; want 0 and 1", a.CPU(), b.CPU())
	}
	if err := d.Core.SetAffinity(b, topo.NewCPUMask(2)); err == nil {
		t.Fatal("empty affinity accepted")
	}
}

func TestOfflineMovesTasks(t *testing.T) {
	d := schedtest.New(machine(t, "1x1x2x1"), sched.Options{})
	a, _ := d.Spawn(sched.TaskSpec{Comm: "a", CPU: 1}, schedtest.Behavior{})
	d.Run(5_000_000)
	if err := d.Core.SetOnline(1, false); err != nil {
		t.Fatal(err)
	}
	d.Run(10_000_000)
	if a.CPU() != 0 || d.Core.RQ(1).Curr() != d.Core.RQ(1).Idle() {
		t.Fatalf("a on cpu %d after cpu1 went offline", a.CPU())
	}
}

// Exited tasks leave the task list, which keeps creation order.
func TestExitKeepsOrder(t *testing.T) {
	d := schedtest.New(machine(t, "1x1x2x1"), sched.Options{})
	var keep []*sched.Task
	for i := 0; i < 200; i++ {
		if i%3 == 0 {
			p, _ := d.Spawn(sched.TaskSpec{Comm: "keep"}, schedtest.Behavior{Run: 100_000, Sleep: 100_000})
			keep = append(keep, p)
		} else {
			d.Spawn(sched.TaskSpec{Comm: "gone"}, schedtest.Behavior{Run: 100_000, Exit: true})
		}
	}
	d.Run(500_000_000)
	got := d.Core.Tasks()
	if len(got) != len(keep) {
		t.Fatalf("%d live tasks, want %d", len(got), len(keep))
	}
	for i := range got {
		if got[i] != keep[i] {
			t.Fatalf("task %d is %s, want %s", i, got[i], keep[i])
		}
		if d.Core.TaskByPID(keep[i].PID) != keep[i] {
			t.Fatal("pid lookup")
		}
	}
}

func allCPUs(n int) topo.CPUMask {
	m := topo.NewCPUMask(n)
	for i := 0; i < n; i++ {
		m.Set(i)
	}
	return m
}
