package engine

import (
	"fmt"
	"math"
	"testing"
)

// Under the fair class, cpu.weight and cpu.max of a workload's cgroups
// act as the kernel's group scheduling and bandwidth control do: CPU time
// splits by weight at each level, a cpu.max quota caps a group (and its
// children), and every task still runs.
func TestFairGroupWorkloads(t *testing.T) {
	cases := []struct {
		name string
		mach string
		src  string
		dur  uint64
		want map[string]float64 // per cgroup: CPUs used over the run
	}{
		{"weights 100:100, 1 vs 3 hogs", "1x1x1x1", `
cgroups: [{path: /a}, {path: /b}]
groups:
  - {name: a, cgroup: /a, program: [{run: 10s}]}
  - {name: b, count: 3, cgroup: /b, program: [{run: 10s}]}`, 1000 * ms,
			map[string]float64{"/a": 0.5, "/b": 0.5}},
		{"weights 100:300", "1x1x1x1", `
cgroups: [{path: /a}, {path: /b, weight: 300}]
groups:
  - {name: a, cgroup: /a, program: [{run: 10s}]}
  - {name: b, count: 3, cgroup: /b, program: [{run: 10s}]}`, 1000 * ms,
			map[string]float64{"/a": 0.25, "/b": 0.75}},
		{"nested weights", "1x1x1x1", `
cgroups: [{path: /p}, {path: /p/x}, {path: /p/y, weight: 300}, {path: /q}]
groups:
  - {name: x, count: 2, cgroup: /p/x, program: [{run: 10s}]}
  - {name: y, cgroup: /p/y, program: [{run: 10s}]}
  - {name: q, count: 4, cgroup: /q, program: [{run: 10s}]}`, 1000 * ms,
			map[string]float64{"/p/x": 0.125, "/p/y": 0.375, "/q": 0.5}},
		{"cpu.max 20ms 100ms, 2 hogs on 2 CPUs", "1x1x2x1", `
cgroups: [{path: /a, max: "20ms 100ms"}]
groups:
  - {name: a, count: 2, cgroup: /a, program: [{run: 10s}]}`, 1000 * ms,
			map[string]float64{"/a": 0.2}},
		{"cpu.max beside an unlimited group", "1x1x2x1", `
cgroups: [{path: /a, max: "50ms 100ms"}, {path: /b}]
groups:
  - {name: a, count: 2, cgroup: /a, program: [{run: 10s}]}
  - {name: b, count: 2, cgroup: /b, program: [{run: 10s}]}`, 1000 * ms,
			map[string]float64{"/a": 0.5, "/b": 1.5}},
		{"parent cpu.max bounds children", "1x1x2x1", `
cgroups: [{path: /p, max: "30ms 100ms"}, {path: /p/x}, {path: /p/y, max: "10ms 100ms"}]
groups:
  - {name: x, count: 2, cgroup: /p/x, program: [{run: 10s}]}
  - {name: y, count: 2, cgroup: /p/y, program: [{run: 10s}]}`, 1000 * ms,
			map[string]float64{"/p/x": 0.2, "/p/y": 0.1}},
		{"move to a heavier group mid-run", "1x1x1x1", `
cgroups: [{path: /a}, {path: /b, weight: 300}]
groups:
  - {name: a, cgroup: /a, program: [{run: 10s}]}
  - {name: m, cgroup: /a, program: [{sleep: 500ms}, {cgroup: /b}, {run: 10s}]}`, 1000 * ms,
			// 0-0.5 s: a alone; then 1:3.
			map[string]float64{"/a": 0.5 + 0.5*0.25, "/b": 0.5 * 0.75}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := simYAML(t, machine(t, c.mach), c.src, c.dur, noFx)
			checkConsistent(t, r)
			got := map[string]float64{}
			for _, tk := range r.res.Tasks {
				got[tk.Cgroup] += float64(tk.RuntimeNS) / float64(c.dur)
				if tk.RuntimeNS == 0 {
					t.Errorf("task %s never ran", tk.Comm)
				}
			}
			for cg, want := range c.want {
				if math.Abs(got[cg]-want) > 0.02 {
					t.Errorf("%s used %.4f CPUs, want %.4f ± 0.02", cg, got[cg], want)
				}
			}
		})
	}
}

// A run with cgroups is deterministic, and bandwidth timers stop with
// the work: once every task of a limited group has exited, the run ends.
func TestFairGroupDeterministicAndQuiet(t *testing.T) {
	src := `
cgroups: [{path: /a, max: "10ms 100ms"}, {path: /b, weight: 50}]
groups:
  - {name: a, count: 3, loop: 5, cgroup: /a, program: [{run: 3ms}, {sleep: 7ms}]}
  - {name: b, count: 3, loop: 20, cgroup: /b, program: [{run: 2ms}, {sleep: 1ms}]}`
	m := machine(t, "1x1x2x1")
	var prev string
	for i := 0; i < 2; i++ {
		r := simYAML(t, m, src, 60_000*ms, noFx)
		checkConsistent(t, r)
		if r.res.Run.StopReason != "all tasks exited" {
			t.Errorf("run stopped on %q at %d ns, want all tasks exited", r.res.Run.StopReason, r.res.Run.DurationNS)
		}
		var s string
		for _, tk := range r.res.Tasks {
			s += fmt.Sprintf("%s %d %d %d;", tk.Comm, tk.RuntimeNS, tk.WaitMax, *tk.EndNS)
		}
		if i > 0 && s != prev {
			t.Errorf("runs differ:\n%s\n%s", prev, s)
		}
		prev = s
	}
}

// A bandwidth-limited group's period timer stops once the group stops
// using runtime: a long mostly idle run costs about the same number of
// events with and without the limit (an endless 100 ms timer would add
// 600 over the minute).
func TestFairGroupTimerStops(t *testing.T) {
	const src = `
cgroups: [{path: /a%s}]
groups:
  - {name: a, loop: 1, cgroup: /a, program: [{run: 50ms}]}
  - {name: r, loop: 60, program: [{sleep: 1s}, {run: 1ms}]}`
	m := machine(t, "1x1x1x1")
	var events [2]uint64
	for i, max := range []string{"", `, max: "10ms 100ms"`} {
		r := simYAML(t, m, fmt.Sprintf(src, max), 70_000*ms, noFx)
		checkConsistent(t, r)
		events[i] = r.res.Run.EventsTotal
	}
	if events[1] < events[0] || events[1]-events[0] > 50 {
		t.Errorf("%d events with cpu.max, %d without: want a few more at most", events[1], events[0])
	}
}
