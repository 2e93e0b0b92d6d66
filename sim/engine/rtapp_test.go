package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/sim/workload"
)

func simRTApp(t *testing.T, mach, src string, dur uint64) *run {
	t.Helper()
	w, err := workload.ParseRTApp("test.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var m = machineFile(t, "cpus: [{cpus: \"0\", capacity: 512}]")
	if !strings.HasPrefix(mach, "cap:") {
		m = machine(t, mach)
	}
	return simulate(t, m, w, dur, noFx)
}

// Each supported rt-app key, checked by its effect on the timeline.
func TestRTAppKeys(t *testing.T) {
	cases := []struct {
		name, mach, src string
		dur             uint64
		check           func(t *testing.T, r *run)
	}{
		{"run", "1x1x1x1", `{"tasks": {"a": {"loop": 1, "run": 3000}}}`, 10 * ms, func(t *testing.T, r *run) {
			if e := endOf(t, r.task(t, "a-0")); e != 3*ms {
				t.Errorf("ended at %d, want 3ms", e)
			}
		}},
		{"run scales with capacity, runtime does not", "cap:", `{"tasks": {
			"a": {"loop": 1, "run": 1000},
			"b": {"loop": 1, "delay": 10000, "runtime": 1000}}}`, 20 * ms, func(t *testing.T, r *run) {
			if e := endOf(t, r.task(t, "a-0")); e != 2*ms {
				t.Errorf("run ended at %d, want 2ms on a half-capacity CPU", e)
			}
			if e := endOf(t, r.task(t, "b-0")); e != 11*ms {
				t.Errorf("runtime ended at %d, want 11ms", e)
			}
		}},
		{"sleep, repeated keys", "1x1x1x1", `{"tasks": {"a": {"loop": 1, "run": 1000, "sleep": 2000, "run": 1000}}}`, 10 * ms, func(t *testing.T, r *run) {
			if got := starts(r.segs("a-0")); !eqU64(got, []uint64{0, 3 * ms}) {
				t.Errorf("switch-ins %v, want 0 3ms", got)
			}
		}},
		{"timer", "1x1x1x1", `{"tasks": {"a": {"loop": 3, "run0": 1000, "timer0": {"ref": "unique", "period": 5000}}}}`, 100 * ms, func(t *testing.T, r *run) {
			// rt-app starts the timer with the thread: 5, 10, 15.
			if got := starts(r.segs("a-0")); !eqU64(got, []uint64{0, 5 * ms, 10 * ms, 15 * ms}) {
				t.Errorf("switch-ins %v, want 0 5ms 10ms 15ms", got)
			}
		}},
		{"timer mode absolute", "1x1x1x1", `{"tasks": {"a": {"loop": 1,
			"timer0": {"ref": "t", "period": 5000, "mode": "absolute"}, "run0": 7000,
			"timer1": {"ref": "t", "period": 5000, "mode": "absolute"}, "run1": 1000,
			"timer2": {"ref": "t", "period": 5000, "mode": "absolute"}}}}`, 100 * ms, func(t *testing.T, r *run) {
			if e := endOf(t, r.task(t, "a-0")); e != 15*ms {
				t.Errorf("ended at %d, want 15ms (the missed period does not move the base)", e)
			}
		}},
		{"instance and thread loop", "1x1x2x1", `{"tasks": {"a": {"instance": 3, "loop": 4, "run": 100, "sleep": 100}}}`, 100 * ms, func(t *testing.T, r *run) {
			g := r.group(t, "a")
			if g.Tasks != 3 || g.Iterations != 12 || g.Exited != 3 {
				t.Errorf("tasks %d iterations %d exited %d, want 3 12 3", g.Tasks, g.Iterations, g.Exited)
			}
		}},
		{"phases and phase loop", "1x1x1x1", `{"tasks": {"a": {"loop": 1, "phases": {
			"p1": {"loop": 2, "run": 1000, "sleep": 1000},
			"p2": {"run": 3000}}}}}`, 100 * ms, func(t *testing.T, r *run) {
			if got := starts(r.segs("a-0")); !eqU64(got, []uint64{0, 2 * ms, 4 * ms}) {
				t.Errorf("switch-ins %v, want 0 2ms 4ms", got)
			}
			if e := endOf(t, r.task(t, "a-0")); e != 7*ms {
				t.Errorf("ended at %d, want 7ms", e)
			}
		}},
		{"delay", "1x1x1x1", `{"tasks": {"a": {"loop": 1, "delay": 5000, "run": 1000}}}`, 100 * ms, func(t *testing.T, r *run) {
			if tk := r.task(t, "a-0"); tk.StartNS != 5*ms || endOf(t, tk) != 6*ms {
				t.Errorf("start %d end %v, want 5ms 6ms", tk.StartNS, tk.EndNS)
			}
		}},
		{"policy and priority", "1x1x1x1", `{"tasks": {
			"idle": {"policy": "SCHED_IDLE", "run": 10000},
			"nice": {"priority": 5, "run": 10000},
			"fifo": {"policy": "SCHED_FIFO", "priority": 50, "run": 10000}}}`, 10 * ms, func(t *testing.T, r *run) {
			for comm, w := range map[string]uint32{"idle-0": 3, "nice-0": 335, "fifo-0": 1024} {
				if got := r.task(t, comm).Weight; got != w {
					t.Errorf("%s weight %d, want %d", comm, got, w)
				}
			}
			// SCHED_FIFO 50 runs its 10 ms first, whatever the fair
			// tasks do.
			if rt := r.task(t, "fifo-0"); rt.RuntimeNS != 10*ms {
				t.Errorf("fifo task ran %d ns of the first 10 ms", rt.RuntimeNS)
			}
			if len(r.res.Warnings) != 0 {
				t.Errorf("warnings %q", r.res.Warnings)
			}
		}},
		{"SCHED_FIFO priorities", "1x1x1x1", `{"tasks": {
			"hi": {"policy": "SCHED_FIFO", "priority": 60, "run": 10000, "timer": {"ref": "t", "period": 20000}},
			"lo": {"policy": "SCHED_FIFO", "priority": 30, "run": 1000000},
			"fair": {"run": 1000000}}}`, 1000 * ms, func(t *testing.T, r *run) {
			// hi takes half the CPU at once every period; lo the rest;
			// the fair hog only what the fair server gives (50 ms at
			// 950 ms).
			hi, lo, fair := r.task(t, "hi-0").RuntimeNS, r.task(t, "lo-0").RuntimeNS, r.task(t, "fair-0").RuntimeNS
			if hi < 480*ms || hi > 520*ms || lo < 420*ms || fair > 55*ms || fair < 45*ms {
				t.Errorf("hi %d lo %d fair %d ns", hi, lo, fair)
			}
		}},
		{"priority per phase", "1x1x1x1", `{"tasks": {
			"a": {"phases": {"p0": {"priority": 5, "run": 100000}}},
			"b": {"run": 100000}}}`, 2000 * ms, func(t *testing.T, r *run) {
			if a, b := r.task(t, "a-0").RuntimeNS, r.task(t, "b-0").RuntimeNS; b < 2*a {
				t.Errorf("nice 5 got %d against %d", a, b)
			}
		}},
		{"cpus", "1x1x4x1", `{"tasks": {"a": {"loop": 1, "cpus": [2], "run": 1000}}}`, 10 * ms, func(t *testing.T, r *run) {
			if ss := r.segs("a-0"); len(ss) != 1 || ss[0].cpu != 2 {
				t.Errorf("segments %+v, want one on cpu 2", ss)
			}
		}},
		{"taskgroup", "1x1x1x1", `{"tasks": {"a": {"loop": 1, "taskgroup": "/g/h", "run": 1000}}}`, 10 * ms, func(t *testing.T, r *run) {
			if c := r.task(t, "a-0").Cgroup; c != "/g/h" {
				t.Errorf("cgroup %s, want /g/h", c)
			}
		}},
		{"barrier", "1x1x2x1", `{"tasks": {
			"a": {"loop": 1, "run": 1000, "barrier": "x", "run": 1000},
			"b": {"loop": 1, "run": 3000, "barrier": "x", "run": 1000}}}`, 10 * ms, func(t *testing.T, r *run) {
			if ss := r.segs("a-0"); len(ss) != 2 || ss[1].start != 3*ms {
				t.Errorf("a segments %+v, want it to resume at 3ms", ss)
			}
		}},
		{"suspend and resume", "1x1x2x1", `{"tasks": {
			"a": {"loop": 1, "sleep": 1000, "resume": "b"},
			"b": {"loop": 1, "suspend": "b", "run": 1000}}}`, 10 * ms, func(t *testing.T, r *run) {
			if e := endOf(t, r.task(t, "b-0")); e != 2*ms {
				t.Errorf("b ended at %d, want 2ms", e)
			}
		}},
		{"yield", "1x1x1x1", `{"tasks": {
			"a": {"loop": 3, "run": 1000, "yield": ""},
			"b": {"loop": 3, "run": 1000, "yield": ""}}}`, 100 * ms, func(t *testing.T, r *run) {
			if len(r.segs("a-0")) < 3 {
				t.Errorf("a ran %d times, want it to alternate with b", len(r.segs("a-0")))
			}
		}},
		{"fork", "1x1x2x1", `{"tasks": {
			"p": {"loop": 2, "fork": "c", "sleep": 5000},
			"c": {"instance": 0, "loop": 1, "run": 1000}}}`, 100 * ms, func(t *testing.T, r *run) {
			if g := r.group(t, "c"); g.Tasks != 2 || g.Exited != 2 {
				t.Errorf("children %d exited %d, want 2 2", g.Tasks, g.Exited)
			}
		}},
		{"lock and unlock", "1x1x2x1", `{"tasks": {"a": {"instance": 2, "loop": 1, "lock": "m", "run": 2000, "unlock": "m"}}}`, 10 * ms, func(t *testing.T, r *run) {
			e0, e1 := endOf(t, r.task(t, "a-0")), endOf(t, r.task(t, "a-1"))
			if min(e0, e1) != 2*ms || max(e0, e1) != 4*ms {
				t.Errorf("ended at %d and %d, want 2ms and 4ms", e0, e1)
			}
		}},
		{"wait, signal, broad", "1x1x4x1", `{"tasks": {
			"w": {"instance": 2, "loop": 1, "lock": "m", "wait": {"ref": "c", "mutex": "m"}, "unlock": "m", "run": 1000},
			"s": {"loop": 1, "sleep": 2000, "lock": "m", "signal": "c", "unlock": "m", "sleep": 2000, "broad": "c"}}}`, 20 * ms, func(t *testing.T, r *run) {
			e0, e1 := endOf(t, r.task(t, "w-0")), endOf(t, r.task(t, "w-1"))
			if min(e0, e1) != 3*ms || max(e0, e1) != 5*ms {
				t.Errorf("ended at %d and %d, want 3ms and 5ms", e0, e1)
			}
		}},
		{"sync", "1x1x2x1", `{"tasks": {
			"w": {"loop": 1, "lock": "m", "wait": {"ref": "c", "mutex": "m"}, "unlock": "m", "run": 1000},
			"s": {"loop": 1, "sleep": 1000, "sync": {"ref": "c", "mutex": "m"}}}}`, 20 * ms, func(t *testing.T, r *run) {
			if e := endOf(t, r.task(t, "w-0")); e != 2*ms {
				t.Errorf("w ended at %d, want 2ms", e)
			}
			if r.task(t, "s-0").EndNS != nil {
				t.Error("s exited, want it waiting on c after its sync")
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := simRTApp(t, c.mach, c.src, c.dur)
			checkConsistent(t, r)
			c.check(t, r)
		})
	}
}

// The sample rt-app files run unchanged under the fair class and a Go
// sched_ext scheduler, every task running.
func TestRTAppSamples(t *testing.T) {
	files, err := filepath.Glob("../workload/testdata/rtapp/*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("samples: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			w, err := workload.ParseRTApp(f, data)
			if err != nil {
				t.Fatal(err)
			}
			dur := w.Duration
			if dur == 0 {
				dur = 2000 * ms
			}
			r := simulate(t, machine(t, "1x1x2x2"), w, dur, DefaultEffects())
			checkConsistent(t, r)
			for _, g := range r.res.Groups {
				if g.NeverRan > 0 {
					t.Errorf("group %s: %d tasks never ran", g.Name, g.NeverRan)
				}
				if g.Tasks > 0 && g.RuntimeNS == 0 {
					t.Errorf("group %s did not run", g.Name)
				}
			}
		})
	}
}
