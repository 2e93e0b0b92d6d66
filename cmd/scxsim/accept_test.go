package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/scxsim/scxsim/sim/metrics"
	"github.com/scxsim/scxsim/sim/trace"
	"github.com/scxsim/scxsim/sim/workload"
)

// checkReport asserts the invariants every report must keep, whatever ran:
// task run time sums to CPU busy time and to the utilization; per group,
// per cgroup, per task and per CPU figures add up to the summary; every
// switch-in waited and ended in a switch-out, an exit or the end of the
// run; no task lost; the timeline agrees with each CPU's busy time;
// instructions per op are the ratio they claim. everyRan also demands that
// every task ran.
func checkReport(t testing.TB, what string, r *metrics.Results, everyRan bool) {
	t.Helper()
	errf := func(format string, args ...any) { t.Helper(); t.Errorf(what+": "+format, args...) }
	s := r.Summary
	if r.Schema != metrics.Schema {
		errf("schema %q", r.Schema)
	}
	if s.DurationNS != r.Run.DurationNS || s.CPUs != r.Run.CPUs || len(r.CPUs) != s.CPUs || s.DurationNS == 0 {
		errf("duration %d/%d, cpus %d/%d/%d", s.DurationNS, r.Run.DurationNS, s.CPUs, r.Run.CPUs, len(r.CPUs))
	}
	if s.RuntimeNS != s.BusyNS || s.RuntimeNS == 0 {
		errf("task run time %d, CPU busy time %d", s.RuntimeNS, s.BusyNS)
	}
	// CPUs: busy time, utilization, timeline, switches.
	var busy, switches uint64
	for _, c := range r.CPUs {
		busy += c.BusyNS
		switches += c.Switches
		if c.BusyNS > s.DurationNS {
			errf("cpu %d busy %d, longer than the run", c.CPU, c.BusyNS)
		}
		if u := float64(c.BusyNS) / float64(s.DurationNS); math.Abs(u-c.Utilization) > 0.0005 {
			errf("cpu %d utilization %.3f, busy time says %.4f", c.CPU, c.Utilization, u)
		}
		// The timeline's bins, weighted by their widths, give the busy time.
		var tl float64
		for i, v := range c.Timeline {
			if v < 0 || v > 1 {
				errf("cpu %d timeline bin %d = %g", c.CPU, i, v)
			}
			span := float64(min(r.TimelineBinNS, s.DurationNS-uint64(i)*r.TimelineBinNS))
			tl += v * span
		}
		if want := uint64(len(c.Timeline)) * r.TimelineBinNS; want < s.DurationNS || want-s.DurationNS >= r.TimelineBinNS {
			errf("cpu %d: %d bins of %d ns for a run of %d ns", c.CPU, len(c.Timeline), r.TimelineBinNS, s.DurationNS)
		}
		if math.Abs(tl-float64(c.BusyNS)) > 0.0005*float64(s.DurationNS) {
			errf("cpu %d timeline sums to %.0f ns busy, busy %d", c.CPU, tl, c.BusyNS)
		}
	}
	if busy != s.BusyNS || switches != s.ContextSwitches {
		errf("CPUs sum to %d busy and %d switches; summary %d and %d", busy, switches, s.BusyNS, s.ContextSwitches)
	}
	if u := float64(busy) / float64(s.DurationNS) / float64(s.CPUs); math.Abs(u-s.Utilization) > 0.0005 {
		errf("utilization %.3f, busy time says %.4f", s.Utilization, u)
	}
	// Every switch-in waited first, and ended by blocking, preemption,
	// exit or the end of the run (at most one running task per CPU).
	if s.Wait.Count != int64(s.ContextSwitches) || s.Wakeup.Count > s.Wait.Count {
		errf("%d waits and %d wakeups for %d switch-ins", s.Wait.Count, s.Wakeup.Count, s.ContextSwitches)
	}
	if open := int64(s.ContextSwitches) - int64(s.Voluntary+s.Involuntary) - int64(s.Exited); open < 0 || open > int64(s.CPUs) {
		errf("%d switch-ins, %d voluntary + %d involuntary switch-outs, %d exits: %d left running on %d CPUs",
			s.ContextSwitches, s.Voluntary, s.Involuntary, s.Exited, open, s.CPUs)
	}
	// Groups add up to the summary.
	var g metrics.GroupResult
	var wait, wake int64
	for _, gr := range r.Groups {
		g.Tasks += gr.Tasks
		g.Exited += gr.Exited
		g.NeverRan += gr.NeverRan
		g.RuntimeNS += gr.RuntimeNS
		g.Voluntary += gr.Voluntary
		g.Involuntary += gr.Involuntary
		g.Iterations += gr.Iterations
		g.Requests += gr.Requests
		g.Migrations.SMT += gr.Migrations.SMT
		g.Migrations.LLC += gr.Migrations.LLC
		g.Migrations.Node += gr.Migrations.Node
		g.Migrations.XNode += gr.Migrations.XNode
		wait += gr.Wait.Count
		wake += gr.Wakeup.Count
		if gr.Fairness < 0 || gr.Fairness > 1 {
			errf("group %s fairness %g", gr.Name, gr.Fairness)
		}
	}
	if g.Tasks != s.Tasks || g.Exited != s.Exited || g.NeverRan != s.NeverRan || g.RuntimeNS != s.RuntimeNS ||
		g.Voluntary != s.Voluntary || g.Involuntary != s.Involuntary || g.Iterations != s.Iterations ||
		g.Requests != s.Requests || g.Migrations != s.Migrations || wait != s.Wait.Count || wake != s.Wakeup.Count {
		errf("groups sum to %+v (waits %d, wakeups %d); summary %+v", g, wait, wake, s)
	}
	// Cgroups hold every task and all the run time.
	var cgTasks int
	var cgRun uint64
	for _, c := range r.Cgroups {
		cgTasks += c.Tasks
		cgRun += c.RuntimeNS
	}
	if cgTasks != s.Tasks || cgRun != s.RuntimeNS {
		errf("cgroups hold %d tasks and %d run time; summary %d and %d", cgTasks, cgRun, s.Tasks, s.RuntimeNS)
	}
	// Tasks (when present): none lost, and they add up.
	if r.Tasks != nil {
		var tk metrics.TaskResult
		var exited, never int
		pids := map[int32]bool{}
		for _, x := range r.Tasks {
			if pids[x.PID] {
				errf("pid %d twice", x.PID)
			}
			pids[x.PID] = true
			tk.RuntimeNS += x.RuntimeNS
			tk.Voluntary += x.Voluntary
			tk.Involuntary += x.Involuntary
			tk.Iterations += x.Iterations
			tk.Requests += x.Requests
			if x.EndNS != nil {
				exited++
				if *x.EndNS < x.StartNS || *x.EndNS > s.DurationNS {
					errf("task %s lived from %d to %d", x.Comm, x.StartNS, *x.EndNS)
				}
			}
			if x.RuntimeNS == 0 {
				never++
			}
		}
		if len(r.Tasks) != s.Tasks || exited != s.Exited || never != s.NeverRan || tk.RuntimeNS != s.RuntimeNS ||
			tk.Voluntary != s.Voluntary || tk.Involuntary != s.Involuntary || tk.Iterations != s.Iterations || tk.Requests != s.Requests {
			errf("%d task records (%d exited, %d never ran) sum to %+v; summary %+v", len(r.Tasks), exited, never, tk, s)
		}
	}
	if everyRan && (s.NeverRan != 0 || s.Tasks == 0) {
		errf("%d of %d tasks never ran", s.NeverRan, s.Tasks)
	}
	// Op counts.
	if (r.Scheduler.Kind == "fair") != (len(r.Scheduler.Ops) == 0) {
		errf("%s scheduler with ops %v", r.Scheduler.Kind, r.Scheduler.Ops)
	}
	for _, o := range r.Scheduler.Ops {
		if o.Calls == 0 || (r.Scheduler.Kind == "bpf") != (o.Insns > 0) {
			errf("op %+v of a %s scheduler", o, r.Scheduler.Kind)
		}
		if o.Insns > 0 && math.Abs(o.InsnsPerCall-float64(o.Insns)/float64(o.Calls)) > 0.05 {
			errf("op %s: %d insns in %d calls, %g per call", o.Op, o.Insns, o.Calls, o.InsnsPerCall)
		}
	}
}

// runJSON runs `scxsim CMD ARGS... --json -` in process and decodes the
// report(s).
func runJSON(t *testing.T, command string, args ...string) []metrics.Results {
	t.Helper()
	cmd := newRunCmd()
	if command == "compare" {
		cmd = newCompareCmd()
	}
	var out, errOut bytes.Buffer
	cmd.SetArgs(append([]string{"--no-progress", "--json", "-"}, args...))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%s %v: %v", command, args, err)
	}
	if command == "compare" {
		var rs []metrics.Results
		if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
			t.Fatalf("%v\n%.300s", err, out.String())
		}
		return rs
	}
	var r metrics.Results
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%.300s", err, out.String())
	}
	return []metrics.Results{r}
}

// Every built-in scenario, compared under fair, the two example BPF
// schedulers and a Go scheduler, gives consistent reports in which every
// task ran; `run` gives the same report as `compare` for one scheduler.
func TestBuiltinScenariosConsistent(t *testing.T) {
	scheds := []string{"fair", "builtin:fifo", "builtin:cidq", "builtin:go-fifo"}
	for _, name := range workload.BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			args := []string{"--topo", "1x2x2x2", "--workload", name, "--duration", "1s", "--tasks"}
			rs := runJSON(t, "compare", append(args, scheds...)...)
			if len(rs) != len(scheds) {
				t.Fatalf("%d reports for %d schedulers", len(rs), len(scheds))
			}
			for i := range rs {
				r := &rs[i]
				checkReport(t, name+" under "+scheds[i], r, true)
				if r.Run.Scheduler != scheds[i] || r.Run.Workload != name || r.Run.Seed != 1 || r.Run.CPUs != 8 || r.Run.Topology != "1x2x2x2" {
					t.Errorf("%s: run %+v", scheds[i], r.Run)
				}
				if rs[0].Summary.Tasks != r.Summary.Tasks && r.Run.StopReason != "duration" {
					t.Errorf("%s: %d tasks, fair had %d", scheds[i], r.Summary.Tasks, rs[0].Summary.Tasks)
				}
			}
			// No task lost: each group the workload starts (rather than
			// forks) has its count of tasks under every scheduler.
			w, err := workload.Builtin(name, 8)
			if err != nil {
				t.Fatal(err)
			}
			forked := map[string]bool{}
			var walk func(ops []workload.Op)
			walk = func(ops []workload.Op) {
				for _, op := range ops {
					if op.Kind == workload.OpFork {
						forked[op.Target.Group] = true
					}
					walk(op.Body)
				}
			}
			for _, g := range w.Groups {
				walk(g.Program)
			}
			for gi, g := range w.Groups {
				if forked[g.Name] || g.Count == 0 {
					continue
				}
				for i := range rs {
					if got := rs[i].Groups[gi]; got.Name != g.Name || got.Tasks != g.Count {
						t.Errorf("%s: group %s has %d tasks, the workload starts %d of %s", scheds[i], got.Name, got.Tasks, g.Count, g.Name)
					}
				}
			}
			one := runJSON(t, "run", append(args, "--sched", "builtin:cidq")...)
			a, _ := json.Marshal(one[0])
			b, _ := json.Marshal(rs[2])
			if !bytes.Equal(a, b) {
				t.Error("scxsim run and scxsim compare report builtin:cidq differently")
			}
		})
	}
}

// TestHelperProcess is not a test: run as a subprocess with
// SCXSIM_HELPER_ARGS set, it runs the scxsim command those arguments
// (separated by newlines) give, as main would.
func TestHelperProcess(t *testing.T) {
	args := os.Getenv("SCXSIM_HELPER_ARGS")
	if args == "" {
		t.Skip("helper process for TestDeterministicAcrossProcesses")
	}
	rootCmd.SetArgs(strings.Split(args, "\n"))
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "scxsim:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// The same command in separate processes, with GOMAXPROCS=1 and 2 (the
// latter twice), writes byte-identical JSON reports, traces and HTML, for run and
// for compare.
func TestDeterministicAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	type outputs struct{ json, trace, html []byte }
	runProc := func(procs, i int, args ...string) outputs {
		t.Helper()
		tag := fmt.Sprintf("%d-%d", procs, i)
		js, tr, html := filepath.Join(dir, tag+".json"), filepath.Join(dir, tag+".pftrace"), filepath.Join(dir, tag+".html")
		args = append(args, "--no-progress", "--json", js, "--html", html)
		if args[0] == "run" {
			args = append(args, "--trace", tr)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SCXSIM_HELPER_ARGS="+strings.Join(args, "\n"), fmt.Sprintf("GOMAXPROCS=%d", procs))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		var o outputs
		o.json, _ = os.ReadFile(js)
		o.trace, _ = os.ReadFile(tr)
		o.html, _ = os.ReadFile(html)
		return o
	}
	for _, args := range [][]string{
		{"run", "--workload", "schbench", "--duration", "500ms", "--tasks"},
		{"run", "--sched", "builtin:fifo", "--workload", "server", "--duration", "300ms", "--tasks", "--seed", "7"},
		{"compare", "--topo", "1x2x2x2", "--workload", "mixed", "--duration", "300ms", "fair", "builtin:cidq"},
	} {
		var first outputs
		for i, procs := range []int{1, 2, 2} {
			o := runProc(procs, i, args...)
			if i == 0 {
				first = o
				if len(o.json) < 1000 || len(o.html) < 1000 || (args[0] == "run" && len(o.trace) < 1000) {
					t.Fatalf("%v: outputs of %d, %d and %d bytes", args, len(o.json), len(o.trace), len(o.html))
				}
				if args[0] == "run" {
					if _, err := trace.Read(o.trace); err != nil {
						t.Fatalf("%v: trace: %v", args, err)
					}
				}
				continue
			}
			if !bytes.Equal(first.json, o.json) || !bytes.Equal(first.trace, o.trace) || !bytes.Equal(first.html, o.html) {
				t.Errorf("%v: process %d (GOMAXPROCS=%d) wrote different bytes (json %v, trace %v, html %v)", args, i, procs,
					bytes.Equal(first.json, o.json), bytes.Equal(first.trace, o.trace), bytes.Equal(first.html, o.html))
			}
		}
	}
}

// failTB counts the failures checkReport reports.
type failTB struct {
	testing.TB
	n int
}

func (f *failTB) Helper()                        {}
func (f *failTB) Errorf(string, ...any)          { f.n++ }
func (f *failTB) Fatalf(format string, a ...any) { f.n++ }

// checkReport is not vacuous: a report with one figure off fails it.
func TestCheckReportCatches(t *testing.T) {
	good := runJSON(t, "run", "--sched", "builtin:cidq", "--topo", "1x1x2x2", "--workload", "mixed", "--duration", "200ms", "--tasks")[0]
	checkReport(t, "good", &good, true)
	for name, spoil := range map[string]func(r *metrics.Results){
		"runtime":     func(r *metrics.Results) { r.Summary.RuntimeNS++ },
		"cpu busy":    func(r *metrics.Results) { r.CPUs[1].BusyNS += 1000 },
		"utilization": func(r *metrics.Results) { r.Summary.Utilization -= 0.01 },
		"timeline":    func(r *metrics.Results) { r.CPUs[0].Timeline[3] /= 2 },
		"lost task":   func(r *metrics.Results) { r.Tasks = r.Tasks[1:] },
		"never ran":   func(r *metrics.Results) { r.Summary.NeverRan, r.Groups[0].NeverRan = 1, 1; r.Tasks[0].RuntimeNS = 0 },
		"switch":      func(r *metrics.Results) { r.Summary.Voluntary += 10 },
		"group":       func(r *metrics.Results) { r.Groups[1].Migrations.LLC++ },
		"cgroup":      func(r *metrics.Results) { r.Cgroups[0].Tasks-- },
		"insns":       func(r *metrics.Results) { r.Scheduler.Ops[0].InsnsPerCall++ },
		"wait":        func(r *metrics.Results) { r.Summary.Wait.Count-- },
	} {
		b, _ := json.Marshal(good)
		var r metrics.Results
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		spoil(&r)
		f := &failTB{TB: t}
		checkReport(f, name, &r, true)
		if f.n == 0 {
			t.Errorf("checkReport accepted a report with a wrong %s", name)
		}
	}
}

// runErr runs `scxsim CMD ARGS...` in process and returns its error and
// the exit status main would give it.
func runErr(t *testing.T, command string, args ...string) (error, int) {
	t.Helper()
	cmd := newRunCmd()
	if command == "compare" {
		cmd = newCompareCmd()
	}
	var out bytes.Buffer
	cmd.SetArgs(append([]string{"--no-progress"}, args...))
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	if err == nil {
		return nil, 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err, ee.code
	}
	return err, 1
}

// Bad input of every kind is refused with a message naming the flag, the
// file and line or the expected form, and a usage exit status (2).
func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badYAML := write("bad.yaml", "groups:\n  - name: a\n    program:\n      - run: 3xs\n")
	badIndent := write("indent.yaml", "groups:\n  - name: a\n   program: [\n")
	badKey := write("key.yaml", "groups:\n  - name: a\n    progam: [{run: 1ms}]\n")
	badRT := write("bad.json", "{\"tasks\": {\"t\": {\n  \"run\": \"x\"}}}\n")
	badTopo := write("topo.yaml", "cpus:\n  - {cpus: \"0\", capacity: lots}\n")
	short := []string{"--topo", "1x1x2x1", "--workload", "hogs", "--duration", "10ms"}
	for _, tc := range []struct {
		cmd  string
		args []string
		code int
		want []string
	}{
		{"run", []string{"--workload", badYAML}, 2, []string{"--workload", "bad.yaml:4:", "3xs"}},
		{"run", []string{"--workload", badIndent}, 2, []string{"--workload", "indent.yaml:3"}},
		{"run", []string{"--workload", badKey}, 2, []string{"--workload", "key.yaml:3", "progam"}},
		{"run", []string{"--workload", badRT}, 2, []string{"--workload", "bad.json:2", "run"}},
		{"run", []string{"--workload", filepath.Join(dir, "none.yaml")}, 2, []string{"--workload", "no such file"}},
		{"run", []string{"--workload", "hogs:bogus=1"}, 2, []string{"--workload", "bogus"}},
		{"run", []string{"--topo", "2x2"}, 2, []string{"--topo", "NODESxLLCSxCORESxTHREADS"}},
		{"run", []string{"--topo", badTopo}, 2, []string{"--topo", "topo.yaml", "line 2"}},
		{"run", append([]string{"--set", "nosuch=1"}, short...), 2, []string{"--set", "nosuch", "slice_ns"}},
		{"run", append([]string{"--set", "slice_ns=lots"}, short...), 2, []string{"--set", "slice_ns", "lots"}},
		{"run", append([]string{"--sched", "builtin:fifo", "--set", "vtime_mode=7"}, short...), 2, []string{"--set", "vtime_mode"}},
		{"run", append([]string{"--set", "slice_ns"}, short...), 2, []string{"--set", "NAME=VALUE"}},
		{"run", append([]string{"--sched", "fair", "--set", "a=1"}, short...), 2, []string{"--set", "fair"}},
		{"run", []string{"--sched", "builtin:nosuch"}, 2, []string{"--sched", "nosuch", "cidq"}},
		{"run", []string{"--sched", filepath.Join(dir, "none.bpf.o")}, 2, []string{"--sched", "no such file"}},
		{"run", []string{"--duration", "5"}, 2, []string{"--duration", "unit"}},
		{"run", []string{"--duration", "0s"}, 2, []string{"--duration", "positive"}},
		{"run", []string{"--hz", "0"}, 2, []string{"--hz", "1 to 10000"}},
		{"run", []string{"--bins", "0"}, 2, []string{"--bins"}},
		{"run", []string{"--numbering", "zigzag"}, 2, []string{"zigzag"}},
		{"run", []string{"--effect", "smt=0"}, 2, []string{"--effect", "smt"}},
		{"run", []string{"--effect", "warp=1us"}, 2, []string{"--effect", "warp", "unknown"}},
		{"run", append([]string{"--trace", filepath.Join(dir, "no", "t.pftrace")}, short...), 1, []string{"--trace"}},
		{"run", append([]string{"--trace", filepath.Join(dir, "left.pftrace"), "--set", "nosuch=1"}, short...), 2, []string{"--set"}},
		{"compare", append([]string{"fair", "builtin:nosuch"}, short...), 2, []string{"builtin:nosuch", "unknown builtin"}},
		{"compare", append([]string{"--set", "nosuch=1", "builtin:cidq"}, short...), 2, []string{"--set", "nosuch"}},
	} {
		err, code := runErr(t, tc.cmd, tc.args...)
		if err == nil {
			t.Errorf("%s %v: no error", tc.cmd, tc.args)
			continue
		}
		if code != tc.code {
			t.Errorf("%s %v: exit status %d, want %d (%v)", tc.cmd, tc.args, code, tc.code, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %v: error %q lacks %q", tc.cmd, tc.args, err, w)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "left.pftrace")); err == nil {
		t.Error("a failed run left its trace file behind")
	}
}

// A scheduler ejected mid-run (scx_bpf_error on its 300th enqueue) hands
// every task back to the fair class: the run goes on to the end, no task
// is lost, every task runs again after the ejection, the scheduler's ops
// stop, and the report (text, JSON) carries the exit info; the command
// exits with status 3 after writing every output.
func TestRunEjectedMidRunFallsBackToFair(t *testing.T) {
	dir := t.TempDir()
	js, tr := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.pftrace")
	cmd := newRunCmd()
	var out bytes.Buffer
	cmd.SetArgs([]string{"--no-progress", "--sched", "../../schedulers/broken/error.bpf.o", "--set", "error_after=300",
		"--topo", "1x1x2x2", "--workload", "mixed", "--duration", "1s", "--tasks", "--json", js, "--trace", tr})
	cmd.SetOut(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 3 || !strings.Contains(err.Error(), "giving up after 300 enqueues") {
		t.Fatalf("error %v, want exit status 3 naming the scheduler's message", err)
	}
	raw, rerr := os.ReadFile(js)
	if rerr != nil {
		t.Fatal(rerr)
	}
	var r metrics.Results
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	checkReport(t, "ejected run", &r, true)
	x := r.Scheduler.Exit
	if x == nil || x.Kind != "error" || x.Reason != "scx_bpf_error" || !strings.Contains(x.Msg, "error.bpf.c:") ||
		!strings.Contains(x.Msg, "giving up after 300 enqueues") || x.AtNS == 0 || x.AtNS > r.Run.DurationNS*9/10 {
		t.Fatalf("exit info %+v, want an scx_bpf_error well before the end", x)
	}
	if r.Run.DurationNS != 1e9 || r.Run.StopReason != "duration" {
		t.Errorf("run ended at %d (%s), want the full second", r.Run.DurationNS, r.Run.StopReason)
	}
	for _, o := range r.Scheduler.Ops {
		if o.Op == "enqueue" && o.Calls != 300 {
			t.Errorf("enqueue called %d times, want 300: no op after the ejection", o.Calls)
		}
	}
	for _, want := range []string{"exit at", "scx_bpf_error", "giving up after 300 enqueues"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text report lacks %q", want)
		}
	}
	// After the ejection every task runs again, and the CPUs stay busy.
	b, err := os.ReadFile(tr)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := trace.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	ranAfter := map[int32]bool{}
	for _, e := range evs {
		if e.Kind == "sched_switch" && e.TS > x.AtNS && e.Next.PID != 0 {
			ranAfter[e.Next.PID] = true
		}
	}
	for _, tk := range r.Tasks {
		if tk.EndNS == nil && !ranAfter[tk.PID] {
			t.Errorf("task %s did not run after the ejection at %d", tk.Comm, x.AtNS)
		}
	}
	if len(r.Tasks) != r.Summary.Tasks || r.Summary.Tasks < 8 {
		t.Errorf("%d task records for %d tasks", len(r.Tasks), r.Summary.Tasks)
	}
	if r.Summary.Utilization < 0.99 {
		t.Errorf("utilization %.3f after falling back to fair, want the hogs to keep the CPUs busy", r.Summary.Utilization)
	}
}

// Each flag of scxsim run changes the run the way it says, with known
// answers: two hogs on one CPU switch at every slice end, so the switch
// count follows --hz (under fair, whose slice is shorter than a 10ms
// tick) and a BPF scheduler's --set slice_ns (checked at each tick).
func TestRunFlagsTakeEffect(t *testing.T) {
	hogs := []string{"--topo", "1x1x1x1", "--workload", "hogs:tasks=2", "--duration", "1s", "--effect", "ctxsw=0", "--effect", "ipi=0", "--effect", "idle-exit=0"}
	for _, tc := range []struct {
		args     []string
		switches uint64
	}{
		{[]string{"--sched", "fair", "--hz", "100"}, 100},
		{[]string{"--sched", "builtin:fifo"}, 50}, // SCX_SLICE_DFL, 20ms
		{[]string{"--sched", "builtin:fifo", "--set", "slice_ns=5000000"}, 200},
		{[]string{"--sched", "builtin:fifo", "--set", "slice_ns=5000000", "--hz", "100"}, 100},
		{[]string{"--sched", "../../schedulers/fifo/fifo.bpf.o", "--set", "slice_ns=10000000"}, 100},
	} {
		r := runJSON(t, "run", append(tc.args, hogs...)...)[0]
		checkReport(t, strings.Join(tc.args, " "), &r, true)
		if s := r.Summary; s.ContextSwitches != tc.switches || s.Involuntary != tc.switches-1 {
			t.Errorf("%v: %d switches (%d involuntary), want %d", tc.args, s.ContextSwitches, s.Involuntary, tc.switches)
		}
		if a, b := r.Groups[0].RuntimeNS, r.Summary.BusyNS; b != 1e9 || a != b {
			t.Errorf("%v: hogs ran %d of %d busy ns, want the whole second", tc.args, a, b)
		}
		hz := 1000
		for i, a := range tc.args {
			if a == "--hz" {
				fmt.Sscan(tc.args[i+1], &hz)
			}
		}
		if r.Run.HZ != hz || r.Run.CPUs != 1 || r.Run.DurationNS != 1e9 || r.Run.Workload != "hogs:tasks=2" || r.Run.Scheduler != tc.args[1] {
			t.Errorf("%v: run %+v", tc.args, r.Run)
		}
	}
	// --hz is the BPF scheduler's CONFIG_HZ, and --seed seeds its
	// bpf_get_prandom_u32(), as through the Go API (testdata/knobs.bpf.o
	// prints both from ops.init).
	knobs := func(hz, seed string) string {
		r := runJSON(t, "run", "--sched", "../../sim/scheds/testdata/knobs.bpf.o", "--hz", hz, "--seed", seed, "--topo", "1x1x2x1", "--workload", "hogs", "--duration", "10ms")[0]
		if len(r.Scheduler.Printk) != 1 {
			t.Fatalf("printk %q", r.Scheduler.Printk)
		}
		return r.Scheduler.Printk[0]
	}
	k1, k2, k3 := knobs("250", "3"), knobs("250", "4"), knobs("100", "3")
	if !strings.HasPrefix(k1, "knobs: hz 250 rand ") || !strings.HasPrefix(k3, "knobs: hz 100 rand ") ||
		k1[len("knobs: hz 250"):] != k3[len("knobs: hz 100"):] || k1 == k2 {
		t.Errorf("knobs printed %q (hz 250, seed 3), %q (seed 4), %q (hz 100, seed 3)", k1, k2, k3)
	}
	// --seed drives the random arrivals: the same seed gives the same
	// report, another seed another one.
	server := []string{"--topo", "1x1x2x2", "--workload", "server", "--duration", "300ms", "--sched", "fair"}
	a := runJSON(t, "run", append(server, "--seed", "5")...)[0]
	b := runJSON(t, "run", append(server, "--seed", "5")...)[0]
	c := runJSON(t, "run", append(server, "--seed", "6")...)[0]
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	jc, _ := json.Marshal(c)
	if a.Run.Seed != 5 || c.Run.Seed != 6 || !bytes.Equal(ja, jb) {
		t.Errorf("seed 5 twice: seeds %d, equal %v", a.Run.Seed, bytes.Equal(ja, jb))
	}
	if a.Summary.Requests == 0 || bytes.Equal(ja, bytes.Replace(jc, []byte(`"seed":6`), []byte(`"seed":5`), 1)) {
		t.Errorf("seeds 5 and 6 gave the same report (%d requests)", a.Summary.Requests)
	}
}

// The progress bar draws on a terminal only, once a run has taken more
// than a moment, and never with --no-progress.
func TestProgressBarTerminalOnly(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if prog, _ := progressBar(file, "x", false); prog != nil {
		t.Error("a progress bar on a regular file")
	}
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	defer tty.Close()
	if prog, _ := progressBar(tty, "x", true); prog != nil {
		t.Error("a progress bar with --no-progress")
	}
	prog, done := progressBar(tty, "scxsim run", false)
	if prog == nil {
		t.Fatal("no progress bar on a terminal")
	}
	prog(1e9, 4e9) // too early: nothing drawn
	time.Sleep(550 * time.Millisecond)
	prog(2e9, 4e9)
	done()
	tty.Close()
	buf := make([]byte, 4096)
	master.SetReadDeadline(time.Now().Add(2 * time.Second))
	k, _ := master.Read(buf)
	got := string(buf[:k])
	if !strings.Contains(got, "scxsim run [====================                    ]  50.0% 2.00s simulated") || strings.Contains(got, "25.0%") {
		t.Errorf("terminal got %q", got)
	}
}

// The text report of a run prints the figures its JSON report holds.
func TestTextMatchesJSON(t *testing.T) {
	args := []string{"--topo", "1x2x2x2", "--workload", "mixed", "--duration", "1s"}
	r := runJSON(t, "run", args...)[0]
	text, err := runSim(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summary
	fields := func(line string) string { return strings.Join(strings.Fields(line), " ") }
	lines := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		lines[fields(l)] = true
	}
	for _, want := range []string{
		fmt.Sprintf("utilization %.1f%% busy", s.Utilization*100),
		fmt.Sprintf("tasks %d %d exited, %d never ran", s.Tasks, s.Exited, s.NeverRan),
		fmt.Sprintf("switches %d %d voluntary, %d involuntary", s.ContextSwitches, s.Voluntary, s.Involuntary),
		fmt.Sprintf("migrations %d smt %d, llc %d, node %d, cross-node %d", s.Migrations.Total(), s.Migrations.SMT, s.Migrations.LLC, s.Migrations.Node, s.Migrations.XNode),
		fmt.Sprintf("wakeup latency %d p50/p90/p99/p99.9/max", s.Wakeup.Count),
		fmt.Sprintf("runqueue wait %d p50/p90/p99/p99.9/max", s.Wait.Count),
	} {
		found := false
		for l := range lines {
			if strings.HasPrefix(l, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("text report has no line starting %q:\n%s", want, text)
		}
	}
	for _, g := range r.Groups {
		if !strings.Contains(text, fmt.Sprintf("  %s ", g.Name)) {
			t.Errorf("text report lacks group %s", g.Name)
		}
	}
	for _, o := range r.Scheduler.Ops {
		if !lines[fields(fmt.Sprintf("%s %d %d %.1f", o.Op, o.Calls, o.Insns, o.InsnsPerCall))] {
			t.Errorf("text report lacks op line %s %d %d %.1f", o.Op, o.Calls, o.Insns, o.InsnsPerCall)
		}
	}
}

// compare reports every scheduler, an ejected one with its exit info, and
// then exits with status 3 as run does.
func TestCompareEjected(t *testing.T) {
	cmd := newCompareCmd()
	var out bytes.Buffer
	cmd.SetArgs([]string{"--no-progress", "--topo", "1x1x2x1", "--workload", "hogs", "--duration", "3s", "--json", "-",
		"fair", "../../schedulers/broken/never_dispatch.bpf.o", "builtin:cidq"})
	cmd.SetOut(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 3 || !strings.Contains(err.Error(), "never_dispatch.bpf.o was ejected") || strings.Contains(err.Error(), "cidq") {
		t.Fatalf("error %v, want exit status 3 naming never_dispatch alone", err)
	}
	var rs []metrics.Results
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil || len(rs) != 3 {
		t.Fatalf("%v: %d reports", err, len(rs))
	}
	for i := range rs {
		checkReport(t, rs[i].Run.Scheduler, &rs[i], true)
		if ejected := rs[i].Scheduler.Exit != nil; ejected != (i == 1) {
			t.Errorf("%s: exit %+v", rs[i].Run.Scheduler, rs[i].Scheduler.Exit)
		}
	}
}
