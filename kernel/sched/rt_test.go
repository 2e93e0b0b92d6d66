package sched_test

import (
	"errors"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/topo"
)

func all(n int) topo.CPUMask {
	m := topo.NewCPUMask(n)
	for i := 0; i < n; i++ {
		m.Set(i)
	}
	return m
}

func spawn(t *testing.T, d *schedtest.Driver, spec sched.TaskSpec, b schedtest.Behavior) *sched.Task {
	t.Helper()
	p, err := d.Spawn(spec, b)
	if err != nil {
		t.Fatalf("spawn %s: %v", spec.Comm, err)
	}
	return p
}

// sched_setscheduler()'s parameter checks: rt_priority 1..99 exactly for
// SCHED_FIFO/SCHED_RR, 0 for the other policies.
func TestRTParams(t *testing.T) {
	cases := []struct {
		pol  sched.Policy
		prio int
		want error
	}{
		{sched.PolicyFIFO, 1, nil},
		{sched.PolicyRR, 99, nil},
		{sched.PolicyFIFO, 0, syscall.EINVAL},
		{sched.PolicyRR, 100, syscall.EINVAL},
		{sched.PolicyFIFO, -1, syscall.EINVAL},
		{sched.PolicyNormal, 5, syscall.EINVAL},
		{sched.PolicyBatch, 0, nil},
		{sched.Policy(4), 0, syscall.EINVAL},
	}
	for _, c := range cases {
		d := schedtest.New(machine(t, "1x1x1x1"), sched.Options{})
		p := spawn(t, d, sched.TaskSpec{Comm: "a", CPU: -1}, schedtest.Behavior{})
		err := d.Core.SetScheduler(p, c.pol, c.prio)
		if !errors.Is(err, c.want) && err != c.want {
			t.Errorf("SetScheduler(%v, %d) = %v, want %v", c.pol, c.prio, err, c.want)
		}
		_, err = d.Spawn(sched.TaskSpec{Comm: "b", Policy: c.pol, RTPriority: c.prio, CPU: -1}, schedtest.Behavior{})
		if !errors.Is(err, c.want) && err != c.want {
			t.Errorf("fork %v/%d = %v, want %v", c.pol, c.prio, err, c.want)
		}
		if c.want == nil && c.prio > 0 {
			if err := d.Core.SetScheduler(p, c.pol, c.prio); err != nil {
				t.Fatal(err)
			}
			if p.Class() != d.Core.RTClass() || p.Prio() != 99-c.prio || p.RTPriority() != c.prio {
				t.Errorf("%v/%d: class %s prio %d", c.pol, c.prio, p.Class().Name(), p.Prio())
			}
		}
	}
}

// A waking RT task preempts a fair hog at once: its wakeup latency is the
// resched IPI's, every time.
func TestRTWakeupPreemptsFair(t *testing.T) {
	d := schedtest.New(machine(t, "1x1x1x1"), sched.Options{})
	d.IPILatency = 7000
	woke := map[uint64]bool{}
	var lat []uint64
	var last uint64
	d.OnEvent = func(e sched.Event) {
		if e.Task == nil || e.Task.Comm != "rt" {
			return
		}
		switch e.Kind {
		case sched.EvWakeup:
			woke[e.Time] = true
			last = e.Time
		case sched.EvSwitch:
			if woke[last] {
				lat = append(lat, e.Time-last)
				delete(woke, last)
			}
		}
	}
	spawn(t, d, sched.TaskSpec{Comm: "hog", CPU: 0}, schedtest.Behavior{})
	d.Run(10_000_000)
	spawn(t, d, sched.TaskSpec{Comm: "rt", Policy: sched.PolicyFIFO, RTPriority: 10, CPU: 0},
		schedtest.Behavior{Run: 1_000_000, Sleep: 9_000_000})
	d.Run(200_000_000)
	if len(lat) < 15 {
		t.Fatalf("only %d RT wakeups", len(lat))
	}
	for i, l := range lat {
		if l != 7000 {
			t.Fatalf("wakeup %d latency %d ns, want 7000 (the IPI)", i, l)
		}
	}
}

// Hogs on one CPU: a FIFO task never yields to a less important one; SCHED_RR
// tasks of one priority alternate every 100 ms; FIFO tasks of one priority
// each run until they block.
func TestRTOneCPU(t *testing.T) {
	type task struct {
		pol  sched.Policy
		prio int
		b    schedtest.Behavior
	}
	cases := []struct {
		name  string
		tasks []task
		check func(t *testing.T, d *schedtest.Driver, ps []*sched.Task, sw []uint64, preempts int)
	}{
		{"fifo 20 over fifo 10", []task{{sched.PolicyFIFO, 10, schedtest.Behavior{}}, {sched.PolicyFIFO, 20, schedtest.Behavior{}}},
			func(t *testing.T, d *schedtest.Driver, ps []*sched.Task, sw []uint64, _ int) {
				if r := d.Runtime(ps[0]); r != 0 {
					t.Errorf("prio 10 hog ran %d ns under a prio 20 hog", r)
				}
			}},
		{"rr alternates every 100ms", []task{{sched.PolicyRR, 30, schedtest.Behavior{}}, {sched.PolicyRR, 30, schedtest.Behavior{}}},
			func(t *testing.T, d *schedtest.Driver, ps []*sched.Task, sw []uint64, _ int) {
				if len(sw) < 15 {
					t.Fatalf("%d switches", len(sw))
				}
				for i := 2; i < len(sw); i++ {
					if g := sw[i] - sw[i-1]; g != 100_000_000 {
						t.Fatalf("switch %d after %d ns, want 100 ms (%v)", i, g, sw)
					}
				}
				a, b := d.Runtime(ps[0]), d.Runtime(ps[1])
				if diff := int64(a) - int64(b); diff > 100_000_000 || diff < -100_000_000 {
					t.Errorf("runtimes %d and %d", a, b)
				}
			}},
		{"fifo same prio runs to block", []task{{sched.PolicyFIFO, 30, schedtest.Behavior{Run: 30_000_000, Sleep: 5_000_000}},
			{sched.PolicyFIFO, 30, schedtest.Behavior{Run: 30_000_000, Sleep: 5_000_000}}},
			func(t *testing.T, d *schedtest.Driver, ps []*sched.Task, sw []uint64, preempts int) {
				if preempts != 0 {
					t.Errorf("%d preemptions between FIFO peers", preempts)
				}
				if a, b := d.Runtime(ps[0]), d.Runtime(ps[1]); a < 900_000_000 || b < 900_000_000 {
					t.Errorf("runtimes %d and %d, want about 1 s each", a, b)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := schedtest.New(machine(t, "1x1x1x1"), sched.Options{})
			var sw []uint64
			preempts := 0
			d.OnEvent = func(e sched.Event) {
				if e.Kind == sched.EvSwitch && e.Prev != nil && e.Prev.PID != 0 && e.Task.PID != 0 {
					sw = append(sw, e.Time)
				}
				if e.Kind == sched.EvPreempt {
					preempts++
				}
			}
			var ps []*sched.Task
			for i, tk := range c.tasks {
				ps = append(ps, spawn(t, d, sched.TaskSpec{Comm: string(rune('a' + i)), Policy: tk.pol, RTPriority: tk.prio, CPU: 0}, tk.b))
			}
			d.Run(2_000_000_000)
			c.check(t, d, ps, sw, preempts)
		})
	}
}

// select_task_rq_rt(): an RT task waking where an RT task at least as
// important runs goes to the CPU of the lowest priority (cpupri: no RT
// task counts as lowest, idle or fair alike); when no CPU is lower it
// stays.
func TestRTPlacement(t *testing.T) {
	cases := []struct {
		name   string
		others []int // per CPU: rt priority of a pinned hog, 0 for a fair hog, -1 for idle
		prio   int
		want   int
	}{
		{"fair cpu beats rt 10", []int{50, 10, 0, 0}, 20, 2},
		{"idle and fair alike: first in LLC", []int{50, 10, -1, 0}, 20, 2},
		{"fair before idle by id", []int{50, 10, 0, -1}, 20, 2},
		{"lowest rt", []int{50, 10, 40, 30}, 20, 1},
		{"none lower: stay", []int{50, 60, 70, 80}, 20, 0},
		{"prev runs a lower rt that cannot move", []int{10, 0, 0, 0}, 20, 1},
		{"prev runs fair: stay and preempt", []int{0, -1, -1, -1}, 20, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := schedtest.New(machine(t, "1x1x4x1"), sched.Options{})
			for cpu, o := range c.others {
				switch {
				case o > 0:
					spawn(t, d, sched.TaskSpec{Policy: sched.PolicyFIFO, RTPriority: o, CPUs: one(cpu, 4), CPU: cpu}, schedtest.Behavior{})
				case o == 0:
					spawn(t, d, sched.TaskSpec{CPUs: one(cpu, 4), CPU: cpu}, schedtest.Behavior{})
				}
			}
			d.Run(5_000_000)
			p := spawn(t, d, sched.TaskSpec{Comm: "new", Policy: sched.PolicyFIFO, RTPriority: c.prio, CPU: 0}, schedtest.Behavior{})
			d.Run(10_000_000)
			if p.CPU() != c.want {
				t.Fatalf("placed on cpu %d, want %d", p.CPU(), c.want)
			}
		})
	}
}

// Push: an RT task preempted by a more important one on its CPU moves to
// a CPU without RT work. Pull: a CPU whose RT task blocks takes an RT task
// waiting on an overloaded CPU.
func TestRTPushPull(t *testing.T) {
	t.Run("push", func(t *testing.T) {
		d := schedtest.New(machine(t, "1x1x2x1"), sched.Options{})
		f := spawn(t, d, sched.TaskSpec{Comm: "fair", CPUs: one(1, 2), CPU: 1}, schedtest.Behavior{})
		a := spawn(t, d, sched.TaskSpec{Comm: "a", Policy: sched.PolicyFIFO, RTPriority: 10, CPU: 0}, schedtest.Behavior{})
		d.Run(10_000_000)
		b := spawn(t, d, sched.TaskSpec{Comm: "b", Policy: sched.PolicyFIFO, RTPriority: 20, CPU: 0}, schedtest.Behavior{})
		d.Run(20_000_000)
		if a.CPU() != 1 || b.CPU() != 0 {
			t.Fatalf("a on %d, b on %d; want a pushed to 1, b on 0", a.CPU(), b.CPU())
		}
		fr := d.Runtime(f)
		d.Run(500_000_000)
		if d.Runtime(f) != fr {
			t.Errorf("fair task ran under two RT hogs")
		}
		if ra := d.Runtime(a); ra < 480_000_000 {
			t.Errorf("pushed task ran %d ns", ra)
		}
	})
	t.Run("pull", func(t *testing.T) {
		d := schedtest.New(machine(t, "1x1x2x1"), sched.Options{})
		spawn(t, d, sched.TaskSpec{Comm: "a", Policy: sched.PolicyFIFO, RTPriority: 50, CPUs: one(0, 2), CPU: 0}, schedtest.Behavior{})
		spawn(t, d, sched.TaskSpec{Comm: "c", Policy: sched.PolicyFIFO, RTPriority: 60, CPUs: one(1, 2), CPU: 1},
			schedtest.Behavior{Run: 100_000_000, Sleep: 10_000_000_000})
		d.Run(10_000_000)
		b := spawn(t, d, sched.TaskSpec{Comm: "b", Policy: sched.PolicyFIFO, RTPriority: 10, CPU: 0}, schedtest.Behavior{})
		d.Run(50_000_000)
		if b.CPU() != 0 || d.Runtime(b) != 0 {
			t.Fatalf("b on cpu %d ran %d: want waiting on cpu 0", b.CPU(), d.Runtime(b))
		}
		d.Run(300_000_000)
		if b.CPU() != 1 {
			t.Fatalf("b on cpu %d, want pulled to 1", b.CPU())
		}
		if r := d.Runtime(b); r < 190_000_000 {
			t.Errorf("b ran %d ns after the pull, want about 200 ms", r)
		}
	})
}

// fair_server: a fair hog under an RT hog on one CPU gets the deferred
// server's 50 ms per second (the first at the zero-laxity point 950 ms in,
// then at the start of each period), and nothing more.
func TestFairServer(t *testing.T) {
	for _, hz := range []uint64{1000, 250} {
		d := schedtest.New(machine(t, "1x1x1x1"), sched.Options{TickNS: 1_000_000_000 / hz})
		f := spawn(t, d, sched.TaskSpec{Comm: "fair", CPU: 0}, schedtest.Behavior{})
		d.Run(1_000_000)
		start := d.Runtime(f)
		spawn(t, d, sched.TaskSpec{Comm: "rt", Policy: sched.PolicyFIFO, RTPriority: 1, CPU: 0}, schedtest.Behavior{})
		d.Run(2_000_000)
		start = d.Runtime(f) // the RT task waited for the IPI
		d.Run(1_000_000 + 940_000_000)
		if r := d.Runtime(f) - start; r != 0 {
			t.Fatalf("HZ %d: fair ran %d ns before the zero-laxity point", hz, r)
		}
		d.Run(1_000_000 + 5_000_000_000 - 100_000_000)
		got := d.Runtime(f) - start
		// [0.95,1.0] [1.0,1.05] [2.0,2.05] [3.0,3.05] [4.0,4.05], each up
		// to a tick late.
		want := uint64(250_000_000)
		slack := 5 * (1_000_000_000 / hz)
		if got < want || got > want+slack {
			t.Errorf("HZ %d: fair ran %d ns in 4.9 s under an RT hog, want %d..%d", hz, got, want, want+slack)
		}
	}
}

// Priority changes (prio_changed_rt()): a running task lowered to the
// priority of a waiting one keeps the CPU (it goes to the head of its new
// list); one lowered below it yields; a waiting task raised above the
// running one preempts it.
func TestRTPrioChange(t *testing.T) {
	cases := []struct {
		name    string
		who     string // "a" (running, prio 50) or "b" (waiting, prio 30)
		newPrio int
		runs    string
	}{
		{"lowered to the waiter's prio keeps running", "a", 30, "a"},
		{"lowered below the waiter yields", "a", 20, "b"},
		{"waiter raised above preempts", "b", 60, "b"},
		{"waiter raised to equal waits", "b", 50, "a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := schedtest.New(machine(t, "1x1x1x1"), sched.Options{})
			a := spawn(t, d, sched.TaskSpec{Comm: "a", Policy: sched.PolicyFIFO, RTPriority: 50, CPU: 0}, schedtest.Behavior{})
			b := spawn(t, d, sched.TaskSpec{Comm: "b", Policy: sched.PolicyFIFO, RTPriority: 30, CPU: 0}, schedtest.Behavior{})
			d.Run(10_000_000)
			p := map[string]*sched.Task{"a": a, "b": b}
			if err := d.Core.SetScheduler(p[c.who], sched.PolicyFIFO, c.newPrio); err != nil {
				t.Fatal(err)
			}
			d.Run(20_000_000)
			if cur := d.Core.RQ(0).Curr(); cur != p[c.runs] {
				t.Fatalf("%s runs, want %s", cur.Comm, c.runs)
			}
		})
	}
}

// A random mix of RT and fair tasks waking, blocking, changing policy,
// priority and affinity, and CPUs going off and on line keeps the RT
// class's queues, counts and overload state consistent.
func TestRTStress(t *testing.T) {
	for seed := int64(1); seed <= 4; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		d := schedtest.New(machine(t, "1x1x4x1"), sched.Options{})
		var ps []*sched.Task
		for i := 0; i < 12; i++ {
			spec := sched.TaskSpec{CPU: rng.IntN(4)}
			if i%2 == 0 {
				spec.Policy, spec.RTPriority = sched.PolicyRR, 1+rng.IntN(5)
				if i%4 == 0 {
					spec.Policy = sched.PolicyFIFO
				}
			}
			b := schedtest.Behavior{Run: uint64(1+rng.IntN(20)) * 1_000_000, Sleep: uint64(1+rng.IntN(20)) * 1_000_000}
			ps = append(ps, spawn(t, d, spec, b))
		}
		for step := 0; step < 300; step++ {
			p := ps[rng.IntN(len(ps))]
			switch rng.IntN(5) {
			case 0:
				if rng.IntN(2) == 0 {
					_ = d.Core.SetScheduler(p, sched.PolicyFIFO, 1+rng.IntN(5))
				} else {
					_ = d.Core.SetScheduler(p, sched.PolicyNormal, 0)
				}
			case 1:
				m := topo.NewCPUMask(4)
				m.Set(rng.IntN(4))
				m.Set(rng.IntN(4))
				_ = d.Core.SetAffinity(p, m)
			case 2:
				_ = d.Core.SetAffinity(p, all(4))
			case 3:
				cpu := 1 + rng.IntN(3)
				_ = d.Core.SetOnline(cpu, !d.Core.RQ(cpu).Online())
			}
			d.Run(d.Now() + uint64(rng.IntN(3_000_000)))
			if err := d.Core.CheckRT(); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			if err := d.Core.CheckFair(); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
		}
	}
}
