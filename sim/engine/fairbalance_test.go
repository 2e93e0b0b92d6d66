package engine

import (
	"fmt"
	"math"
	"testing"
)

// runIn is the on-CPU time of segs within [from, to).
func runIn(ss []seg, from, to uint64) uint64 {
	var sum uint64
	for _, s := range ss {
		a, b := max(s.start, from), min(s.end, to)
		if b > a {
			sum += b - a
		}
	}
	return sum
}

// The fair class spreads load as the kernel's does: forks go to the least
// loaded CPU, busy CPUs balance among themselves, idle CPUs pull. Each
// case forks its tasks from one parent on CPU 0 and checks per-task CPU
// shares over the last 8 s of a 10 s run.
func TestFairBalanceWorkloads(t *testing.T) {
	const dur, from = 10_000 * ms, 2_000 * ms
	cases := []struct {
		name string
		mach string
		src  string
		// want is each task's CPU share by name prefix (group name);
		// atLeast, when set, is a floor for every task instead.
		want    map[string]float64
		tol     float64
		atLeast float64
		perCPU  string // tasks per CPU where each last ran, when set
	}{
		{"12 hogs forked on 4 CPUs", "1x1x4x1", `
groups:
  - {name: hog, count: 0, program: [{run: 100s}]}
  - {name: parent, cpus: "0", program: [{fork: {group: hog, count: 12}}, exit]}`,
			map[string]float64{"hog": 1.0 / 3}, 0.01, 0, "[3 3 3 3]"},
		{"5 hogs forked on 4 CPUs", "1x1x4x1", `
groups:
  - {name: hog, count: 0, program: [{run: 100s}]}
  - {name: parent, cpus: "0", program: [{fork: {group: hog, count: 5}}, exit]}`,
			// 0.8 each on average; the balancer moves the waiting task
			// of the doubled-up CPU every few balance intervals, which
			// does not pair the tasks evenly: each gets 0.72 or more.
			nil, 0, 0.72, ""},
		{"nice 0 and 5 forked on 4 CPUs", "1x1x4x1", `
groups:
  - {name: n0, count: 0, program: [{run: 100s}]}
  - {name: n5, count: 0, nice: 5, program: [{run: 100s}]}
  - {name: parent, cpus: "0", program: [{fork: {group: n0, count: 8}}, {fork: {group: n5, count: 8}}, exit]}`,
			// 4 CPUs by weight: 4*1024/(8*1024+8*335), 4*335/(...).
			map[string]float64{"n0": 4096.0 / 10872, "n5": 1340.0 / 10872}, 0.01, 0, "[4 4 4 4]"},
		{"pinned hogs stay, free ones spread", "1x1x4x1", `
groups:
  - {name: pin, count: 0, cpus: "0", program: [{run: 100s}]}
  - {name: free, count: 0, program: [{run: 100s}]}
  - {name: parent, cpus: "0", program: [{fork: {group: pin, count: 4}}, {fork: {group: free, count: 3}}, exit]}`,
			map[string]float64{"pin": 0.25, "free": 1}, 0.01, 0, "[4 1 1 1]"},
		{"idle CPUs pull when tasks exit", "1x1x4x1", `
groups:
  - {name: long, count: 0, program: [{run: 100s}]}
  - {name: short, count: 0, loop: 1, program: [{run: 1s}]}
  - {name: parent, cpus: "0", program: [{fork: {group: short, count: 4}}, {fork: {group: long, count: 4}}, exit]}`,
			// From 2 s only the 4 long hogs are left, one per CPU.
			map[string]float64{"long": 1}, 0.01, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := simYAML(t, machine(t, c.mach), c.src, dur, noFx)
			checkConsistent(t, r)
			per := make([]int, 4)
			for _, tk := range r.res.Tasks {
				if tk.Comm == "parent-0" {
					continue
				}
				ss := r.segs(tk.Comm)
				if len(ss) == 0 {
					t.Fatalf("%s never ran", tk.Comm)
				}
				per[ss[len(ss)-1].cpu]++
				got := float64(runIn(ss, from, dur)) / float64(dur-from)
				if c.atLeast != 0 {
					if got < c.atLeast {
						t.Errorf("%s used %.3f CPUs, want >= %.2f", tk.Comm, got, c.atLeast)
					}
					continue
				}
				for pfx, want := range c.want {
					if len(tk.Comm) > len(pfx) && tk.Comm[:len(pfx)+1] == pfx+"-" && math.Abs(got-want) > c.tol {
						t.Errorf("%s used %.3f CPUs, want %.3f ± %.2f", tk.Comm, got, want, c.tol)
					}
				}
			}
			if c.perCPU != "" && fmt.Sprint(per) != c.perCPU {
				t.Errorf("tasks per CPU at the end %v, want %s", per, c.perCPU)
			}
			var busy uint64
			for _, cpu := range r.res.CPUs {
				busy += cpu.BusyNS
			}
			if u := float64(busy) / float64(4*dur); u < 0.995 {
				t.Errorf("CPUs %.1f%% busy, want ~100%%", 100*u)
			}
		})
	}
}

// The cgroup example of the kernel's cpu controller on 4 CPUs: 4 hogs each
// in /a (weight 100), /b (weight 300) and /c (cpu.max 50ms/100ms), forked
// by one parent. /c is capped at 0.5 CPU, /a and /b share the other 3.5
// CPUs 1:3 (0.875 and 2.625). Fork placement by hierarchical load leaves
// one task of each group per CPU, where this is exact; the tolerance
// (0.02 CPU) covers /c's first periods.
func TestFairBalanceCgroupWorkload(t *testing.T) {
	const dur = 10_000 * ms
	for _, order := range []string{"a b c", "c b a"} {
		t.Run(order, func(t *testing.T) {
			var forks string
			for _, g := range []byte{order[0], order[2], order[4]} {
				forks += fmt.Sprintf("{fork: {group: %c, count: 4}}, ", g)
			}
			src := `
cgroups: [{path: /a}, {path: /b, weight: 300}, {path: /c, max: "50ms 100ms"}]
groups:
  - {name: a, count: 0, cgroup: /a, program: [{run: 100s}]}
  - {name: b, count: 0, cgroup: /b, program: [{run: 100s}]}
  - {name: c, count: 0, cgroup: /c, program: [{run: 100s}]}
  - {name: parent, cpus: "0", program: [` + forks + `exit]}`
			r := simYAML(t, machine(t, "1x1x4x1"), src, dur, noFx)
			checkConsistent(t, r)
			got := map[string]float64{}
			for _, tk := range r.res.Tasks {
				got[tk.Cgroup] += float64(tk.RuntimeNS) / float64(dur)
			}
			for cg, want := range map[string]float64{"/a": 0.875, "/b": 2.625, "/c": 0.5} {
				if math.Abs(got[cg]-want) > 0.02 {
					t.Errorf("%s used %.3f CPUs, want %.3f ± 0.02", cg, got[cg], want)
				}
			}
		})
	}
}
