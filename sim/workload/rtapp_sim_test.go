package workload_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/engine"
	"github.com/scxsim/scxsim/sim/metrics"
	"github.com/scxsim/scxsim/sim/trace"
	"github.com/scxsim/scxsim/sim/workload"
)

const (
	us = uint64(1_000)
	ms = uint64(1_000_000)
)

// rtRun is one simulated run of an rt-app file with its decoded trace.
type rtRun struct {
	res *metrics.Results
	evs []trace.Event
}

// simRTAppFile runs file on four full-capacity CPUs under the fair class
// with every machine effect off, so the timeline is exact.
func simRTAppFile(t *testing.T, file string) *rtRun {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return simRTApp(t, file, data)
}

func simRTApp(t *testing.T, file string, data []byte) *rtRun {
	t.Helper()
	w, err := workload.ParseRTApp(file, data)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := topo.ParseSpec("1x1x4x1")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sp.Machine(topo.Numbering("linear"))
	if err != nil {
		t.Fatal(err)
	}
	dur := w.Duration
	if dur == 0 || dur > 2000*ms {
		dur = 2000 * ms
	}
	var buf bytes.Buffer
	tw := trace.NewWriter(&buf)
	res, err := engine.Run(engine.Config{Machine: m, Workload: w, Duration: dur, Seed: 1,
		Effects: engine.Effects{SMTFactor: 1}, TaskDetail: true, Trace: tw})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	evs, err := trace.Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return &rtRun{res, evs}
}

// span is a stretch a task spent on a CPU.
type span struct {
	cpu        int
	start, end uint64
}

// spans returns comm's on-CPU stretches that lasted some time, in order.
func (r *rtRun) spans(comm string) []span {
	var out []span
	open := map[int]int{}
	for _, e := range r.evs {
		if e.Kind != "sched_switch" {
			continue
		}
		if i, ok := open[e.CPU]; ok && e.Prev.Comm == comm {
			out[i].end = e.TS
			delete(open, e.CPU)
		}
		if e.Next.Comm == comm {
			open[e.CPU] = len(out)
			out = append(out, span{cpu: e.CPU, start: e.TS})
		}
	}
	for _, i := range open {
		out[i].end = r.res.Run.DurationNS
	}
	var kept []span
	for _, s := range out {
		if s.end > s.start {
			kept = append(kept, s)
		}
	}
	return kept
}

func (r *rtRun) starts(comm string) []uint64 {
	var out []uint64
	for _, s := range r.spans(comm) {
		out = append(out, s.start)
	}
	return out
}

func (r *rtRun) task(t *testing.T, comm string) metrics.TaskResult {
	t.Helper()
	for _, tr := range r.res.Tasks {
		if tr.Comm == comm {
			return tr
		}
	}
	t.Fatalf("no task %s", comm)
	return metrics.TaskResult{}
}

func (r *rtRun) group(t *testing.T, name string) metrics.GroupResult {
	t.Helper()
	for _, g := range r.res.Groups {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no group %s", name)
	return metrics.GroupResult{}
}

func (r *rtRun) end(t *testing.T, comm string) uint64 {
	t.Helper()
	tr := r.task(t, comm)
	if tr.EndNS == nil {
		t.Fatalf("task %s did not exit", comm)
	}
	return *tr.EndNS
}

func (r *rtRun) warned(t *testing.T, parts ...string) {
	t.Helper()
	for _, p := range parts {
		found := false
		for _, w := range r.res.Warnings {
			found = found || strings.Contains(w, p)
		}
		if !found {
			t.Errorf("no warning mentions %q in %q", p, r.res.Warnings)
		}
	}
}

// everyGap checks that consecutive values of xs, from index from on, are
// gap apart. Timers start with their thread (as rt-app's), so from 0
// checks the first period too.
func everyGap(t *testing.T, what string, xs []uint64, from int, gap uint64) {
	t.Helper()
	if len(xs) < from+3 {
		t.Fatalf("%s: only %d values: %v", what, len(xs), xs)
	}
	for i := from + 1; i < len(xs); i++ {
		if xs[i]-xs[i-1] != gap {
			t.Fatalf("%s: %v: gap %d at %d, want %d", what, xs, xs[i]-xs[i-1], i, gap)
		}
	}
}

func eq(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func has(xs []uint64, x uint64) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// The sample rt-app files (testdata/rtapp, written in the shapes of
// rt-app's doc/examples) run to the end, and each key they use shows on
// the simulated timeline. Every sample must have a check here.
func TestRTAppSampleTimelines(t *testing.T) {
	checks := map[string]func(t *testing.T, r *rtRun){
		// Timer, resume/suspend chain, mutex and condition hand-off,
		// priority, cpus.
		"audio-chain.json": func(t *testing.T, r *rtRun) {
			if w := r.task(t, "tick-0").Weight; w != 9548 {
				t.Errorf("tick weight %d, want 9548 (priority -10 is nice -10)", w)
			}
			for _, s := range r.spans("tick-0") {
				if s.cpu != 0 {
					t.Fatalf("tick ran on cpu %d, want only cpu 0", s.cpu)
				}
			}
			// One kick every fifth 4ms tick.
			outs := r.starts("out-0")
			everyGap(t, "out runs", outs, 0, 20*ms)
			track, dec, play := r.starts("track-0"), r.starts("decoder-0"), r.starts("player-0")
			for _, s := range outs[:len(outs)-1] {
				// out resumes track after 300us, track the decoder after
				// 400us; the decoder signals the player after 2ms and
				// runs again once the player signals back 300us later.
				if !has(track, s+300*us) || !has(dec, s+700*us) || !has(play, s+2700*us) || !has(dec, s+3000*us) {
					t.Fatalf("chain from out at %d: track %v decoder %v player %v", s, track, dec, play)
				}
			}
		},
		// Phases and phase loops, resume of a name shared by two
		// threads (a broadcast), bare suspend, lost resume.
		"browser-phases.json": func(t *testing.T, r *rtRun) {
			// Per loop: 10+3+2ms, 5 renders of 1ms, 3 scrolls of the
			// display's 1.5ms plus 0.5ms: 26ms. Had the display's first
			// "next" (sent while nobody waits) been kept, the first
			// scroll would not wait and main would end earlier.
			if e := r.end(t, "main-0"); e != 52*ms {
				t.Errorf("main ended at %d, want 52ms", e)
			}
			for _, h := range []string{"helper1", "helper2"} {
				if g := r.group(t, h); g.Iterations != 10 {
					t.Errorf("%s woke %d times, want 10 (every resume of \"sub\" wakes both)", h, g.Iterations)
				}
			}
			if g := r.group(t, "display"); g.Iterations != 8 {
				t.Errorf("display ran %d times, want 8", g.Iterations)
			}
		},
		// Barriers align the two threads; runtimeN/sleepN/barrierN
		// prefixes; thread loop count.
		"barrier-turns.json": func(t *testing.T, r *rtRun) {
			want := []uint64{0, 4 * ms, 8 * ms, 12 * ms, 16 * ms, 20 * ms}
			for _, c := range []string{"left-0", "right-0"} {
				if got := r.starts(c); !eq(got, want) {
					t.Errorf("%s runs at %v, want %v", c, got, want)
				}
				if e := r.end(t, c); e != 24*ms {
					t.Errorf("%s ended at %d, want 24ms", c, e)
				}
			}
		},
		// Instances, each with its own unique timer; SCHED_DEADLINE and
		// dl-* accepted with warnings.
		"deadline-set.json": func(t *testing.T, r *rtRun) {
			if g := r.group(t, "video"); g.Tasks != 3 {
				t.Errorf("video has %d tasks, want 3", g.Tasks)
			}
			for _, c := range []string{"video-0", "video-1", "video-2"} {
				everyGap(t, c, r.starts(c), 0, 10*ms)
				if w := r.task(t, c).Weight; w != 1024 {
					t.Errorf("%s weight %d, want 1024 (SCHED_NORMAL)", c, w)
				}
			}
			everyGap(t, "audio-0", r.starts("audio-0"), 0, 15*ms)
			r.warned(t, "SCHED_DEADLINE is not modelled", "dl-runtime", "dl-period", "dl-deadline", "dl-reclaim")
		},
		// Eight instances of an eas-style periodic thread.
		"eight-periodic.json": func(t *testing.T, r *rtRun) {
			if g := r.group(t, "thread0"); g.Tasks != 8 || g.Iterations < 8*248 {
				t.Errorf("thread0: %d tasks, %d periods, want 8 and about 8x250", g.Tasks, g.Iterations)
			}
			for i := range 8 {
				c := "thread0-" + string(rune('0'+i))
				everyGap(t, c, r.starts(c), 0, 4*ms)
			}
		},
		// Per-phase cpus with fallback to the thread's, taskgroups per
		// thread and per phase, SCHED_IDLE.
		"phase-placement.json": func(t *testing.T, r *rtRun) {
			var cpus []uint64
			for _, s := range r.spans("placer-0") {
				cpus = append(cpus, uint64(s.cpu))
			}
			if want := []uint64{0, 1, 3, 3, 0, 1, 3, 3}; !eq(cpus, want) {
				t.Errorf("placer ran on cpus %v, want %v", cpus, want)
			}
			if e := r.end(t, "placer-0"); e != 12*ms {
				t.Errorf("placer ended at %d, want 12ms", e)
			}
			for comm, want := range map[string]string{"placer-0": "/", "mover-0": "/fg/inner"} {
				if cg := r.task(t, comm).Cgroup; cg != want {
					t.Errorf("%s ended in %q, want %q", comm, cg, want)
				}
			}
			g := r.task(t, "grouped-0")
			if g.Cgroup != "/fg" || g.Weight != 3 {
				t.Errorf("grouped in %q weight %d, want /fg and 3 (SCHED_IDLE)", g.Cgroup, g.Weight)
			}
		},
		// Relative and absolute timers after an overrun.
		"timer-modes.json": func(t *testing.T, r *rtRun) {
			rel, abs := r.starts("rel-0"), r.starts("abs-0")
			if len(rel) != 5 || len(abs) != 5 {
				t.Fatalf("runs: rel %v abs %v", rel, abs)
			}
			for _, s := range [][]uint64{rel, abs} {
				if s[2]-s[1] != 5*ms || s[3]-s[2] != 5*ms {
					t.Errorf("steady phase runs %v, want 5ms apart", s)
				}
			}
			// The absolute timer's last run sits on the original grid,
			// the relative one's does not.
			if (abs[4]-abs[1])%(5*ms) != 0 || (rel[4]-rel[1])%(5*ms) == 0 {
				t.Errorf("last runs: rel %v abs %v", rel, abs)
			}
			if d := r.end(t, "rel-0") - r.end(t, "abs-0"); d != 2*ms {
				t.Errorf("relative ends %d after absolute, want 2ms", d)
			}
		},
		// The template shape: 10ms of work every 100ms.
		"periodic.json": func(t *testing.T, r *rtRun) {
			everyGap(t, "thread0-0", r.starts("thread0-0"), 0, 100*ms)
			for _, s := range r.spans("thread0-0") {
				if s.end-s.start != 10*ms {
					t.Fatalf("run %+v, want 10ms", s)
				}
			}
		},
		// Thread cpus, thread loop over phases, a phase priority, delay.
		"phases.json": func(t *testing.T, r *rtRun) {
			// Both instances share the comm (15 characters).
			for _, s := range r.spans("light_then_heav") {
				if s.cpu > 1 {
					t.Fatalf("light_then_heavy ran on cpu %d, want 0 or 1", s.cpu)
				}
			}
			n := 0
			for _, tr := range r.res.Tasks {
				if tr.Group != "light_then_heavy" {
					continue
				}
				n++
				if tr.EndNS == nil || tr.Iterations != 2 || tr.Weight != 335 {
					t.Errorf("%s: end %v iterations %d weight %d, want an exit after 2 loops at nice 5 (335)", tr.Comm, tr.EndNS, tr.Iterations, tr.Weight)
				}
			}
			if n != 2 {
				t.Errorf("%d light_then_heavy tasks, want 2", n)
			}
			if s := r.task(t, "background-0").StartNS; s != 50*ms {
				t.Errorf("background started at %d, want its 50ms delay", s)
			}
		},
		// Mutex, condition, fork, yield, barrier, suspend/resume.
		"sync.json": func(t *testing.T, r *rtRun) {
			for name, iters := range map[string]uint64{"producer": 20, "consumer": 20, "waiter": 5, "spawner": 3} {
				if g := r.group(t, name); g.Exited != 1 || g.Iterations != iters {
					t.Errorf("%s: exited %d iterations %d, want 1 and %d", name, g.Exited, g.Iterations, iters)
				}
			}
			if g := r.group(t, "child"); g.Tasks != 3 || g.Exited != 3 {
				t.Errorf("child: %d forked, %d exited, want 3 and 3", g.Tasks, g.Exited)
			}
		},
		// Taskgroups, policies.
		"taskgroups.json": func(t *testing.T, r *rtRun) {
			for comm, want := range map[string]struct {
				cg     string
				weight uint32
			}{"ui-0": {"/fg", 1024}, "ui-1": {"/fg", 1024}, "batch-3": {"/bg/low", 1024}, "rt-0": {"/", 1024}, "idle-0": {"/", 3}} {
				tr := r.task(t, comm)
				cg := tr.Cgroup
				if cg == "" {
					cg = "/"
				}
				if cg != want.cg || tr.Weight != want.weight {
					t.Errorf("%s in %q weight %d, want %q %d", comm, cg, tr.Weight, want.cg, want.weight)
				}
			}
			r.warned(t, "util_max")
			// The SCHED_FIFO 50 thread runs at prio 49.
			for _, e := range r.evs {
				if e.Kind == "sched_switch" && e.Next.Comm == "rt-0" && e.Next.Prio != 49 {
					t.Fatalf("rt-0 switched in at prio %d, want 49", e.Next.Prio)
				}
			}
		},
	}
	files, err := filepath.Glob("testdata/rtapp/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(checks) {
		t.Errorf("%d sample files, %d checks: every sample needs one", len(files), len(checks))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			check := checks[filepath.Base(f)]
			if check == nil {
				t.Fatal("no timeline check for this sample")
			}
			check(t, simRTAppFile(t, f))
		})
	}
}

// Events the samples do not pin down, each checked by its effect.
func TestRTAppEventEffects(t *testing.T) {
	cases := []struct {
		name, src string
		check     func(t *testing.T, r *rtRun)
	}{
		{"resume before suspend is lost", `{"tasks": {
			"a": {"loop": 1, "resume": "b", "sleep": 3000, "resume": "b"},
			"b": {"loop": 1, "sleep": 1000, "suspend": "b", "run": 1000}}}`, func(t *testing.T, r *rtRun) {
			if e := r.end(t, "b-0"); e != 4*ms {
				t.Errorf("b ended at %d, want 4ms (the resume at 0 came before its suspend)", e)
			}
		}},
		{"resume wakes every instance suspended on the name", `{"tasks": {
			"a": {"loop": 1, "sleep": 1000, "resume": "w"},
			"b": {"instance": 3, "loop": 1, "suspend": "w", "run": 1000}}}`, func(t *testing.T, r *rtRun) {
			for _, c := range []string{"b-0", "b-1", "b-2"} {
				if e := r.end(t, c); e != 2*ms {
					t.Errorf("%s ended at %d, want 2ms", c, e)
				}
			}
		}},
		{"signal wakes one waiter, broad the rest", `{"tasks": {
			"w": {"instance": 3, "loop": 1, "lock": "m", "wait": {"ref": "c", "mutex": "m"}, "unlock": "m", "run": 1000},
			"s": {"loop": 1, "sleep": 1000, "lock": "m", "signal": "c", "unlock": "m", "sleep": 2000, "broad": "c"}}}`, func(t *testing.T, r *rtRun) {
			var ends []uint64
			for _, c := range []string{"w-0", "w-1", "w-2"} {
				ends = append(ends, r.end(t, c))
			}
			n2, n4 := 0, 0
			for _, e := range ends {
				if e == 2*ms {
					n2++
				}
				if e == 4*ms {
					n4++
				}
			}
			if n2 != 1 || n4 != 2 {
				t.Errorf("waiters ended at %v, want one at 2ms and two at 4ms", ends)
			}
		}},
		{"sync signals then waits", `{"tasks": {
			"w": {"loop": 1, "lock": "m", "wait": {"ref": "c", "mutex": "m"}, "unlock": "m", "run": 1000},
			"s": {"loop": 1, "sleep": 1000, "sync": {"ref": "c", "mutex": "m"}, "run": 1000}}}`, func(t *testing.T, r *rtRun) {
			if e := r.end(t, "w-0"); e != 2*ms {
				t.Errorf("w ended at %d, want 2ms", e)
			}
			if r.task(t, "s-0").EndNS != nil {
				t.Error("s exited; after its sync it should wait on c for good")
			}
		}},
		{"yield lets a peer on the same CPU run", `{"tasks": {
			"a": {"loop": 4, "cpus": [0], "run": 1000, "yield": ""},
			"b": {"loop": 4, "cpus": [0], "run": 1000, "yield": ""}}}`, func(t *testing.T, r *rtRun) {
			if n := len(r.spans("a-0")); n < 4 {
				t.Errorf("a ran in %d stretches, want at least 4 (alternating with b)", n)
			}
			if e := max(r.end(t, "a-0"), r.end(t, "b-0")); e != 8*ms {
				t.Errorf("last exit at %d, want 8ms", e)
			}
		}},
		{"fork starts a thread of an instance-0 task", `{"tasks": {
			"p": {"loop": 3, "fork": "c", "sleep": 2000},
			"c": {"instance": 0, "loop": 1, "run": 500}}}`, func(t *testing.T, r *rtRun) {
			if g := r.group(t, "c"); g.Tasks != 3 || g.Exited != 3 || g.RuntimeNS != 1500*us {
				t.Errorf("c: %d forked, %d exited, ran %d; want 3, 3, 1.5ms", g.Tasks, g.Exited, g.RuntimeNS)
			}
		}},
		{"delay and loop", `{"tasks": {"a": {"delay": 5000, "loop": 3, "run": 1000, "sleep": 1000}}}`, func(t *testing.T, r *rtRun) {
			if got := r.starts("a-0"); !eq(got, []uint64{5 * ms, 7 * ms, 9 * ms}) {
				t.Errorf("runs at %v, want 5ms 7ms 9ms", got)
			}
		}},
		{"run then runtime, policy and nice 0 at thread level", `{"tasks": {
			"a": {"loop": 1, "cpus": [0], "policy": "SCHED_OTHER", "priority": 0, "run": 1000, "runtime": 1000}}}`, func(t *testing.T, r *rtRun) {
			// On these full-capacity CPUs both take their nominal time.
			if e := r.end(t, "a-0"); e != 2*ms {
				t.Errorf("ended at %d, want 2ms", e)
			}
		}},
		{"a phase's SCHED_OTHER without priority resets nice to 0", `{"tasks": {
			"a": {"loop": 1, "priority": 10, "phases": {"p": {"run": 1000}, "q": {"policy": "SCHED_OTHER", "run": 1000}}},
			"b": {"loop": 1, "priority": 10, "phases": {"p": {"run": 1000}, "q": {"run": 1000}}}}}`, func(t *testing.T, r *rtRun) {
			if a, b := r.task(t, "a-0").Weight, r.task(t, "b-0").Weight; a != 1024 || b != 110 {
				t.Errorf("weights %d and %d, want 1024 (reset) and 110 (nice 10 kept)", a, b)
			}
		}},
		{"real-time priority: the thread's default 10, then a phase's 80", `{"tasks": {
			"a": {"loop": 1, "policy": "SCHED_FIFO", "phases": {"p": {"run": 1000}, "q": {"priority": 80, "run": 1000}}}}}`, func(t *testing.T, r *rtRun) {
			var prios []int32
			for _, e := range r.evs {
				switch {
				case e.Kind == "sched_switch" && e.Next.Comm == "a-0":
					prios = append(prios, e.Next.Prio)
				case e.Kind == "sched_switch" && e.Prev.Comm == "a-0":
					prios = append(prios, e.Prev.Prio)
				}
			}
			if len(prios) == 0 || prios[0] != 89 || prios[len(prios)-1] != 19 {
				t.Errorf("a-0 switched in at prios %v, want 89 (rt 10) when it starts, 19 (rt 80) when it exits", prios)
			}
		}},
		{"SCHED_RR threads of one priority share a CPU by 100 ms slices", `{"tasks": {
			"rr": {"instance": 2, "loop": 1, "policy": "SCHED_RR", "priority": 20, "cpus": [0], "run": 300000}}}`, func(t *testing.T, r *rtRun) {
			a, b := r.spans("rr-0"), r.spans("rr-1")
			if len(a) != 3 || len(b) != 3 {
				t.Fatalf("spans %v and %v, want three 100 ms slices each", a, b)
			}
			for _, s := range append(a, b...) {
				if d := s.end - s.start; d < 99*ms || d > 101*ms {
					t.Errorf("slice of %d ns", d)
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.check(t, simRTApp(t, "e.json", []byte(c.src)))
		})
	}
}
