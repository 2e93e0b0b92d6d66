package sched_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
)

type hogSet struct {
	n    int
	nice int
}

// runHogs spawns the hog sets on CPU 0 of mach, runs warm ns, then
// measures each hog's CPU share over meas ns.
func runHogs(t *testing.T, mach string, sets []hogSet, warm, meas uint64) ([]*sched.Task, []float64) {
	d := schedtest.New(machine(t, mach), sched.Options{})
	var ps []*sched.Task
	for si, s := range sets {
		for i := 0; i < s.n; i++ {
			p, err := d.Spawn(sched.TaskSpec{Comm: fmt.Sprintf("h%d.%d", si, i), Nice: s.nice, CPU: 0}, schedtest.Behavior{})
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
	}
	d.Run(warm)
	before := make([]uint64, len(ps))
	for i, p := range ps {
		before[i] = d.Runtime(p)
	}
	d.Run(warm + meas)
	sh := make([]float64, len(ps))
	for i, p := range ps {
		sh[i] = float64(d.Runtime(p)-before[i]) / float64(meas)
	}
	return ps, sh
}

// TestFairBalanceHogs: hogs forked on CPU 0 (fork placement), or queued
// there pinned and then let go (only the periodic balance between busy
// CPUs can spread them once every CPU runs something), end up spread by
// load: each gets its weight's share of the machine.
func TestFairBalanceHogs(t *testing.T) {
	cases := []struct {
		name    string
		mach    string
		sets    []hogSet
		stacked bool
		tol     float64 // per-task share, relative to the expected
		minEach float64 // when not 0: every task at least this (no per-weight target)
	}{
		{"12 forks on 4 CPUs", "1x1x4x1", []hogSet{{12, 0}}, false, 0.03, 0},
		{"12 stacked on 4 CPUs", "1x1x4x1", []hogSet{{12, 0}}, true, 0.03, 0},
		// 2.5 tasks per CPU: the third task rotates between CPUs.
		{"40 forks on 16 SMT CPUs", "1x2x4x2", []hogSet{{40, 0}}, false, 0.1, 0},
		{"40 stacked on 2 nodes", "2x1x4x1", []hogSet{{40, 0}}, true, 0.1, 0},
		{"nice 0 and 5 forks", "1x1x4x1", []hogSet{{8, 0}, {8, 5}}, false, 0.03, 0},
		// The balance stops once CPU loads are within imbalance_pct
		// (117%) of each other: 3 nice-0 tasks on one CPU against 2 and
		// 3 nice-5 on another are balanced to the kernel.
		{"nice 0 and 5 stacked", "1x1x4x1", []hogSet{{8, 0}, {8, 5}}, true, 0.17, 0},
		{"5 on 4 CPUs", "1x1x4x1", []hogSet{{5, 0}}, false, 0, 0.74},
		{"5 stacked on 4 CPUs", "1x1x4x1", []hogSet{{5, 0}}, true, 0, 0.74},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := machine(t, c.mach)
			n := m.NrCPUIDs()
			d := schedtest.New(m, sched.Options{})
			var ps []*sched.Task
			var total float64
			for si, s := range c.sets {
				for i := 0; i < s.n; i++ {
					spec := sched.TaskSpec{Comm: fmt.Sprintf("h%d.%d", si, i), Nice: s.nice, CPU: 0}
					if c.stacked {
						spec.CPUs = one(0, n)
					}
					p, err := d.Spawn(spec, schedtest.Behavior{})
					if err != nil {
						t.Fatal(err)
					}
					ps = append(ps, p)
					total += float64(p.Weight())
				}
			}
			if c.stacked {
				for _, p := range ps {
					if p.CPU() != 0 {
						t.Fatalf("pinned task forked on CPU %d", p.CPU())
					}
					if err := d.Core.SetAffinity(p, allCPUs(n)); err != nil {
						t.Fatal(err)
					}
				}
			}
			const warm, meas = 3_000_000_000, 20_000_000_000
			d.Run(warm)
			before := make([]uint64, len(ps))
			for i, p := range ps {
				before[i] = d.Runtime(p)
			}
			d.Run(warm + meas)
			var sum float64
			for i, p := range ps {
				got := float64(d.Runtime(p)-before[i]) / meas
				sum += got
				if c.minEach != 0 {
					if got < c.minEach {
						t.Errorf("%s got %.3f CPUs, want >= %.2f", p.Comm, got, c.minEach)
					}
					continue
				}
				want := float64(n) * float64(p.Weight()) / total
				if math.Abs(got-want) > c.tol*want {
					t.Errorf("%s (weight %d) got %.3f CPUs, want %.3f ± %.0f%%", p.Comm, p.Weight(), got, want, 100*c.tol)
				}
			}
			if busy := math.Min(float64(n), float64(len(ps))); math.Abs(sum-busy) > 0.001*busy {
				t.Errorf("tasks used %.4f CPUs, want %.0f", sum, busy)
			}
		})
	}
}

// TestForkPlacement: forks from CPU 0 go to the least loaded CPU
// (sched_balance_find_dst_cpu()): 12 hogs on 4 CPUs are 3 per CPU as soon
// as they are forked, and on two LLCs the second fork goes to the other
// LLC (its group is idler) before filling CPU 0's.
func TestForkPlacement(t *testing.T) {
	d := schedtest.New(machine(t, "1x1x4x1"), sched.Options{})
	d.Ticks = false
	per := make([]int, 4)
	for i := 0; i < 12; i++ {
		p, err := d.Spawn(sched.TaskSpec{Comm: "hog", CPU: 0}, schedtest.Behavior{})
		if err != nil {
			t.Fatal(err)
		}
		per[p.CPU()]++
		d.Drain()
	}
	if fmt.Sprint(per) != "[3 3 3 3]" {
		t.Errorf("forks per CPU %v, want [3 3 3 3]", per)
	}

	d = schedtest.New(machine(t, "1x2x2x1"), sched.Options{})
	d.Ticks = false
	var cpus []int
	for i := 0; i < 4; i++ {
		p, err := d.Spawn(sched.TaskSpec{Comm: "hog", CPU: 0}, schedtest.Behavior{})
		if err != nil {
			t.Fatal(err)
		}
		cpus = append(cpus, p.CPU())
		d.Drain()
	}
	if fmt.Sprint(cpus) != "[0 2 1 3]" {
		t.Errorf("forks went to CPUs %v, want [0 2 1 3]", cpus)
	}
}

// TestFairBalancePinned: the balancer never moves a task off the CPUs it
// may use: 8 hogs pinned to CPU 0 stay there with 1/8 of it each, 4 free
// hogs share CPUs 1-3.
func TestFairBalancePinned(t *testing.T) {
	d := schedtest.New(machine(t, "1x1x4x1"), sched.Options{})
	var pinned, free []*sched.Task
	for i := 0; i < 12; i++ {
		spec := sched.TaskSpec{Comm: "free", CPU: 0}
		if i%3 != 2 {
			spec.Comm, spec.CPUs = "pin", one(0, 4)
		}
		p, err := d.Spawn(spec, schedtest.Behavior{})
		if err != nil {
			t.Fatal(err)
		}
		if spec.CPUs != nil {
			pinned = append(pinned, p)
		} else {
			free = append(free, p)
		}
	}
	const dur = 10_000_000_000
	d.Run(dur)
	for _, p := range pinned {
		if p.NrMigrations != 0 || p.CPU() != 0 {
			t.Errorf("pinned task %d migrated %d times, on CPU %d", p.PID, p.NrMigrations, p.CPU())
		}
		if got := float64(d.Runtime(p)) / dur; math.Abs(got-0.125) > 0.002 {
			t.Errorf("pinned task %d got %.4f of CPU 0, want 0.125", p.PID, got)
		}
	}
	var sum float64
	for _, p := range free {
		if p.CPU() == 0 {
			t.Errorf("free task %d on CPU 0", p.PID)
		}
		sum += float64(d.Runtime(p)) / dur
	}
	if math.Abs(sum-3) > 0.01 {
		t.Errorf("free tasks used %.3f CPUs, want 3", sum)
	}
}

// TestDomainLevels: the domains built from the topology, degenerate
// levels dropped.
func TestDomainLevels(t *testing.T) {
	cases := []struct{ mach, want string }{
		{"1x1x4x1", "[MC]"},
		{"1x2x4x2", "[SMT MC PKG]"},
		{"2x1x4x1", "[MC NUMA]"},
		{"2x2x2x2", "[SMT MC PKG NUMA]"},
		{"1x1x1x1", "[]"},
	}
	for _, c := range cases {
		d := schedtest.New(machine(t, c.mach), sched.Options{})
		if got := fmt.Sprint(d.Core.DomainLevels(0)); got != c.want {
			t.Errorf("%s: levels %s, want %s", c.mach, got, c.want)
		}
	}
}

// TestFairBalanceCgroups: on 4 CPUs, 4 hogs each in /a (weight 100), /b
// (weight 300) and /c (cpu.max 50ms/100ms). The kernel's answer: /c gets
// its 0.5 CPU, /a and /b split the other 3.5 by 1:3. Forked on CPU 0 in
// any order, fork placement by hierarchical load reaches one task of each
// group per CPU, where the answer is exact; the tolerance (0.03 CPU)
// covers the first period's throttling. Without the cpu.max (/c weighs as
// /a: 0.8, 2.4, 0.8) and queued on CPU 0 then let go, the periodic
// balance (by task_h_load()) spreads them; it stops when the CPUs' loads
// are within imbalance_pct (117%) of each other, and group shares follow
// the placement, so a group may be off by up to 0.06 CPU (measured 0.05).
func TestFairBalanceCgroups(t *testing.T) {
	for _, order := range []string{"abc", "cba", "interleaved", "stacked-nomax"} {
		t.Run(order, func(t *testing.T) {
			d := schedtest.New(machine(t, "1x1x4x1"), sched.Options{})
			mk := func(name string, w uint32, quota uint64) *sched.Cgroup {
				cg, err := d.Core.NewCgroup(nil, name)
				if err != nil {
					t.Fatal(err)
				}
				if w != 0 {
					if err := d.Core.SetCgroupWeight(cg, w); err != nil {
						t.Fatal(err)
					}
				}
				if quota != 0 {
					if err := d.Core.SetCgroupBandwidth(cg, 100_000, quota, 0); err != nil {
						t.Fatal(err)
					}
				}
				return cg
			}
			quota := uint64(50_000)
			if order == "stacked-nomax" {
				quota = 0
			}
			cgs := []*sched.Cgroup{mk("a", 100, 0), mk("b", 300, 0), mk("c", 0, quota)}
			var ps [3][]*sched.Task
			spawn := func(g int) {
				spec := sched.TaskSpec{Comm: string(rune('a' + g)), Cgroup: cgs[g], CPU: 0}
				if strings.HasPrefix(order, "stacked") {
					spec.CPUs = one(0, 4)
				}
				p, err := d.Spawn(spec, schedtest.Behavior{})
				if err != nil {
					t.Fatal(err)
				}
				ps[g] = append(ps[g], p)
			}
			switch order {
			case "abc", "stacked-nomax":
				for g := 0; g < 3; g++ {
					for i := 0; i < 4; i++ {
						spawn(g)
					}
				}
			case "cba":
				for g := 2; g >= 0; g-- {
					for i := 0; i < 4; i++ {
						spawn(g)
					}
				}
			default:
				for i := 0; i < 4; i++ {
					for g := 0; g < 3; g++ {
						spawn(g)
					}
				}
			}
			if strings.HasPrefix(order, "stacked") {
				for g := range ps {
					for _, p := range ps[g] {
						if err := d.Core.SetAffinity(p, allCPUs(4)); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			const dur = 10_000_000_000
			d.Run(dur)
			want, tol := []float64{0.875, 2.625, 0.5}, 0.03
			if order == "stacked-nomax" {
				want, tol = []float64{0.8, 2.4, 0.8}, 0.06
			}
			for g := range ps {
				var s uint64
				for _, p := range ps[g] {
					s += d.Runtime(p)
				}
				if got := float64(s) / dur; math.Abs(got-want[g]) > tol {
					t.Errorf("/%c used %.3f CPUs, want %.3f ± %.2f", 'a'+g, got, want[g], tol)
				}
			}
		})
	}
}
