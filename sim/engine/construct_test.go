package engine

import (
	"math"
	"testing"
)

// Each YAML workload construct, checked by its effect on the simulated
// timeline. Effects are off (noFx) so times are exact.
func TestYAMLConstructs(t *testing.T) {
	cases := []struct {
		name  string
		mach  string
		src   string
		dur   uint64
		check func(t *testing.T, r *run)
	}{
		{"run", "1x1x1x1", `
groups: [{name: a, loop: 1, program: [{run: 3ms}]}]`, 10 * ms, func(t *testing.T, r *run) {
			if ss := r.segs("a-0"); len(ss) != 1 || ss[0].start != 0 || ss[0].end != 3*ms || ss[0].state != 0x10 {
				t.Errorf("segments %+v, want one of [0, 3ms) ending in exit", ss)
			}
		}},
		{"sleep", "1x1x1x1", `
groups: [{name: a, loop: 1, program: [{run: 1ms}, {sleep: 2ms}, {run: 1ms}]}]`, 10 * ms, func(t *testing.T, r *run) {
			ss := r.segs("a-0")
			if len(ss) != 2 || ss[0].end != 1*ms || ss[0].state != 1 || ss[1].start != 3*ms || ss[1].end != 4*ms {
				t.Errorf("segments %+v, want [0,1ms) asleep, [3ms,4ms)", ss)
			}
			if tk := r.task(t, "a-0"); tk.Voluntary != 1 || tk.RuntimeNS != 2*ms {
				t.Errorf("voluntary %d runtime %d, want 1 and 2ms", tk.Voluntary, tk.RuntimeNS)
			}
		}},
		{"timer relative", "1x1x1x1", `
groups: [{name: a, loop: 3, program: [{run: 1ms}, {timer: 5ms}]}]`, 100 * ms, func(t *testing.T, r *run) {
			// The timer starts with the task (0): fires at 5, 10, 15.
			if got := starts(r.segs("a-0")); !eqU64(got, []uint64{0, 5 * ms, 10 * ms, 15 * ms}) {
				t.Errorf("switch-ins %v, want 0 5ms 10ms 15ms", got)
			}
		}},
		{"timer missed: relative restarts, absolute keeps its base", "1x1x1x1", `
groups:
  - name: rel
    loop: 1
    program: [{timer: {period: 5ms, name: t}}, {run: 7ms}, {timer: {period: 5ms, name: t}}, {run: 1ms}, {timer: {period: 5ms, name: t}}]
  - name: abs
    loop: 1
    start: 100ms
    program: [{timer: {period: 5ms, name: t, absolute: true}}, {run: 7ms}, {timer: {period: 5ms, name: t, absolute: true}}, {run: 1ms}, {timer: {period: 5ms, name: t, absolute: true}}]
`, 200 * ms, func(t *testing.T, r *run) {
			if e := endOf(t, r.task(t, "rel-0")); e != 17*ms {
				t.Errorf("relative ended at %d, want 17ms", e)
			}
			if e := endOf(t, r.task(t, "abs-0")); e != 115*ms {
				t.Errorf("absolute ended at %d, want 115ms", e)
			}
		}},
		{"wake and wait", "1x1x2x1", `
groups:
  - {name: a, loop: 1, program: [{sleep: 1ms}, {wake: b}]}
  - {name: b, loop: 1, program: [wait, {run: 1ms}]}`, 10 * ms, func(t *testing.T, r *run) {
			ss := r.segs("b-0")
			if len(ss) != 2 || ss[1].start != 1*ms || ss[1].end != 2*ms {
				t.Errorf("b segments %+v, want a run at [1ms, 2ms)", ss)
			}
		}},
		{"wait count", "1x1x2x1", `
groups:
  - {name: a, loop: 1, program: [{wake: b}, {sleep: 1ms}, {wake: b}]}
  - {name: b, loop: 1, program: [{wait: 2}, {run: 1ms}]}`, 10 * ms, func(t *testing.T, r *run) {
			if ss := r.segs("b-0"); len(ss) != 2 || ss[1].start != 1*ms {
				t.Errorf("b segments %+v, want it to run from 1ms, after the second wake", ss)
			}
		}},
		{"which: peer, peers, all, next", "1x1x4x1", `
groups:
  - {name: m, count: 2, loop: 1, program: [{wake: {group: peer, which: peer}}, {wake: {group: peers, which: peers}}, {wake: {group: all, which: all}}, {wake: {group: next, which: next}}, {wake: {group: next, which: next}}]}
  - {name: peer, count: 4, loop: 1, program: [wait, {run: 1ms}]}
  - {name: peers, count: 4, loop: 1, program: [wait, {run: 1ms}]}
  - {name: all, count: 4, loop: 1, program: [{wait: 2}, {run: 1ms}]}
  - {name: next, count: 4, loop: 1, program: [{wait: 2}, {run: 1ms}]}`, 100 * ms, func(t *testing.T, r *run) {
			want := map[string][]bool{
				"peer":  {true, false, true, false}, // m0 -> 0, m1 -> 2
				"peers": {true, true, true, true},   // m0 -> 0,1; m1 -> 2,3
				"all":   {true, true, true, true},   // two tokens each
				"next":  {true, true, false, false}, // each messenger: 0 then 1
			}
			for g, ran := range want {
				for i, w := range ran {
					tk := r.task(t, g+"-"+string(rune('0'+i)))
					if (tk.EndNS != nil) != w {
						t.Errorf("%s-%d finished=%v, want %v", g, i, tk.EndNS != nil, w)
					}
				}
			}
		}},
		{"barrier", "1x1x2x1", `
groups:
  - {name: a, loop: 1, program: [{run: 1ms}, {barrier: x}, {run: 1ms}]}
  - {name: b, loop: 1, program: [{run: 3ms}, {barrier: x}, {run: 1ms}]}`, 10 * ms, func(t *testing.T, r *run) {
			if ss := r.segs("a-0"); len(ss) != 2 || ss[1].start != 3*ms {
				t.Errorf("a segments %+v, want it to resume at 3ms when b arrives", ss)
			}
		}},
		{"fork with wait", "1x1x4x1", `
groups:
  - {name: p, loop: 1, program: [{fork: {group: c, count: 2, wait: true}}, {run: 1ms}]}
  - {name: c, count: 0, loop: 1, program: [{run: 2ms}]}`, 10 * ms, func(t *testing.T, r *run) {
			if r.res.Summary.Tasks != 3 {
				t.Errorf("%d tasks, want 3", r.res.Summary.Tasks)
			}
			if e := endOf(t, r.task(t, "p-0")); e != 3*ms {
				t.Errorf("parent ended at %d, want 3ms (children run 2ms, then its 1ms)", e)
			}
		}},
		{"exit", "1x1x1x1", `
groups: [{name: a, program: [{run: 1ms}, exit, {run: 5ms}]}]`, 10 * ms, func(t *testing.T, r *run) {
			if e := endOf(t, r.task(t, "a-0")); e != 1*ms {
				t.Errorf("ended at %d, want 1ms", e)
			}
		}},
		{"affinity", "1x1x2x1", `
groups: [{name: a, loop: 1, program: [{affinity: "1"}, {run: 1ms}, {affinity: [0]}, {run: 1ms}]}]`, 10 * ms, func(t *testing.T, r *run) {
			var cpus []int
			for _, s := range r.segs("a-0") {
				if s.end > s.start {
					cpus = append(cpus, s.cpu)
				}
			}
			if len(cpus) < 2 || cpus[len(cpus)-2] != 1 || cpus[len(cpus)-1] != 0 {
				t.Errorf("ran on cpus %v, want ... 1, 0", cpus)
			}
		}},
		{"nice", "1x1x1x1", `
groups:
  - {name: a, program: [{nice: 5}, {run: 100ms}]}
  - {name: b, program: [{run: 100ms}]}`, 2000 * ms, func(t *testing.T, r *run) {
			a, b := float64(r.task(t, "a-0").RuntimeNS), float64(r.task(t, "b-0").RuntimeNS)
			if ratio := b / a; math.Abs(ratio-1024.0/335) > 0.1 {
				t.Errorf("run time ratio %.3f, want %.3f (weights 1024:335)", ratio, 1024.0/335)
			}
		}},
		{"policy", "1x1x1x1", `
groups:
  - {name: a, program: [{policy: idle}, {run: 100ms}]}
  - {name: b, program: [{run: 100ms}]}`, 2000 * ms, func(t *testing.T, r *run) {
			if a, b := r.task(t, "a-0").RuntimeNS, r.task(t, "b-0").RuntimeNS; a*50 > b {
				t.Errorf("SCHED_IDLE task got %d against %d", a, b)
			}
			if w := r.task(t, "a-0").Weight; w != 3 {
				t.Errorf("weight %d, want 3", w)
			}
		}},
		{"cgroup", "1x1x1x1", `
cgroups: [{path: /x, weight: 300}]
groups: [{name: a, loop: 1, program: [{run: 1ms}, {cgroup: /x}, {run: 2ms}]}]`, 10 * ms, func(t *testing.T, r *run) {
			if tk := r.task(t, "a-0"); tk.Cgroup != "/x" {
				t.Errorf("cgroup %s, want /x", tk.Cgroup)
			}
			for _, c := range r.res.Cgroups {
				if c.Path == "/x" && c.Weight != 300 {
					t.Errorf("/x weight %d, want 300", c.Weight)
				}
			}
		}},
		{"yield", "1x1x1x1", `
groups:
  - {name: a, loop: 3, program: [{run: 1ms}, yield]}
  - {name: b, loop: 3, program: [{run: 1ms}, yield]}`, 100 * ms, func(t *testing.T, r *run) {
			if got := starts(r.segs("a-0")); len(got) < 3 {
				t.Errorf("a ran %d times, want it to alternate with b", len(got))
			}
			if e := endOf(t, r.task(t, "b-0")); e > 6*ms {
				t.Errorf("b ended at %d, want both done by 6ms", e)
			}
		}},
		{"loop", "1x1x1x1", `
groups: [{name: a, loop: 1, program: [{loop: {count: 3, do: [{run: 1ms}, {sleep: 1ms}]}}]}]`, 100 * ms, func(t *testing.T, r *run) {
			if got := starts(r.segs("a-0")); !eqU64(got, []uint64{0, 2 * ms, 4 * ms, 6 * ms}) {
				t.Errorf("switch-ins %v, want 0 2ms 4ms 6ms", got)
			}
		}},
		{"serve and arrivals", "1x1x1x1", `
arrivals: [{pool: q, interval: 1ms, service: 100us, start: 1ms, max: 5}]
groups: [{name: w, program: [{serve: q}]}]`, 100 * ms, func(t *testing.T, r *run) {
			g := r.group(t, "w")
			if g.Requests != 5 || g.ReqLatency.Max != int64(100*us) || g.ReqLatency.Min != int64(100*us) {
				t.Errorf("requests %d latency %+v, want 5 of 100us", g.Requests, g.ReqLatency)
			}
			if got := starts(r.segs("w-0")); len(got) < 6 || got[1] != 2*ms {
				t.Errorf("switch-ins %v, want the first request served at 2ms", got)
			}
		}},
		{"arrival rate", "1x1x2x1", `
arrivals: [{pool: q, rate: 1000/s, service: 10us}]
groups: [{name: w, count: 2, program: [{serve: q}]}]`, 1000 * ms, func(t *testing.T, r *run) {
			if n := r.group(t, "w").Requests; n < 900 || n > 1100 {
				t.Errorf("%d requests in 1s at 1000/s", n)
			}
		}},
		{"lock", "1x1x2x1", `
groups: [{name: a, count: 2, loop: 1, program: [{lock: m}, {run: 2ms}, {unlock: m}]}]`, 10 * ms, func(t *testing.T, r *run) {
			e0, e1 := endOf(t, r.task(t, "a-0")), endOf(t, r.task(t, "a-1"))
			if min(e0, e1) != 2*ms || max(e0, e1) != 4*ms {
				t.Errorf("ended at %d and %d, want 2ms and 4ms (serialized)", e0, e1)
			}
		}},
		{"condwait, signal, broadcast", "1x1x4x1", `
groups:
  - {name: a, count: 2, loop: 1, program: [{lock: m}, {condwait: {cond: c, mutex: m}}, {unlock: m}, {run: 1ms}]}
  - {name: s, loop: 1, program: [{sleep: 2ms}, {lock: m}, {signal: c}, {unlock: m}, {sleep: 2ms}, {broadcast: c}]}`, 20 * ms, func(t *testing.T, r *run) {
			e0, e1 := endOf(t, r.task(t, "a-0")), endOf(t, r.task(t, "a-1"))
			if min(e0, e1) != 3*ms || max(e0, e1) != 5*ms {
				t.Errorf("ended at %d and %d, want 3ms (signal) and 5ms (broadcast)", e0, e1)
			}
		}},
		{"group count, start, cpus, nice, policy, cgroup, loop", "1x1x4x1", `
cgroups: [{path: /g, weight: 50, max: "20ms 100ms"}]
groups:
  - {name: a, count: 3, start: 5ms, cpus: "2-3", nice: 3, policy: batch, cgroup: /g, loop: 2, program: [{run: 1ms}]}`, 100 * ms, func(t *testing.T, r *run) {
			g := r.group(t, "a")
			if g.Tasks != 3 || g.Iterations != 6 || g.Exited != 3 {
				t.Errorf("tasks %d iterations %d exited %d, want 3 6 3", g.Tasks, g.Iterations, g.Exited)
			}
			for _, c := range []string{"a-0", "a-1", "a-2"} {
				tk := r.task(t, c)
				if tk.StartNS != 5*ms || tk.Cgroup != "/g" || tk.Weight != 526 {
					t.Errorf("%s start %d cgroup %s weight %d, want 5ms /g 526", c, tk.StartNS, tk.Cgroup, tk.Weight)
				}
				for _, s := range r.segs(c) {
					if s.cpu != 2 && s.cpu != 3 {
						t.Errorf("%s ran on cpu %d", c, s.cpu)
					}
				}
			}
			for _, c := range r.res.Cgroups {
				if c.Path == "/g" && (c.QuotaUS != 20000 || c.PeriodUS != 100000 || c.Weight != 50) {
					t.Errorf("/g %+v, want weight 50 cpu.max 20000 100000", c)
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := simYAML(t, machine(t, c.mach), c.src, c.dur, noFx)
			checkConsistent(t, r)
			c.check(t, r)
		})
	}
}
