package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/sim/metrics"
)

// runSim executes `scxsim run ARGS...` in process and returns stdout.
func runSim(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRunCmd()
	var out, errOut bytes.Buffer
	cmd.SetArgs(append([]string{"--no-progress"}, args...))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

// The default run (cid-form example scheduler, 32-CPU two-node machine,
// mixed workload, 10s) reports consistent figures: task run time sums to
// CPU busy time, no task lost, every task ran, the scheduler stayed.
func TestRunDefault(t *testing.T) {
	out, err := runSim(t, "--json", "-", "--tasks")
	if err != nil {
		t.Fatal(err)
	}
	var res metrics.Results
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%.300s", err, out)
	}
	checkReport(t, "default run", &res, true)
	s := res.Summary
	if res.Run.Scheduler != "builtin:cidq" || res.Run.CPUs != 32 || res.Run.DurationNS != 10e9 || res.Run.Workload != "mixed" {
		t.Errorf("run %+v", res.Run)
	}
	if s.RuntimeNS != s.BusyNS || s.RuntimeNS == 0 {
		t.Errorf("run time %d, busy %d", s.RuntimeNS, s.BusyNS)
	}
	var sum uint64
	for _, tk := range res.Tasks {
		sum += tk.RuntimeNS
		if tk.RuntimeNS == 0 {
			t.Errorf("task %s never ran", tk.Comm)
		}
	}
	if sum != s.RuntimeNS || len(res.Tasks) != s.Tasks || s.NeverRan != 0 {
		t.Errorf("tasks sum to %d of %d run time; %d task records for %d tasks; %d never ran", sum, s.RuntimeNS, len(res.Tasks), s.Tasks, s.NeverRan)
	}
	var util float64
	for _, c := range res.CPUs {
		util += float64(c.BusyNS)
	}
	if got := util / float64(s.DurationNS) / float64(s.CPUs); got-s.Utilization > 0.001 || s.Utilization-got > 0.001 {
		t.Errorf("utilization %.4f, CPUs say %.4f", s.Utilization, got)
	}
	if res.Scheduler.Exit != nil || len(res.Scheduler.Ops) == 0 {
		t.Errorf("scheduler %+v", res.Scheduler)
	}
	text, err := runSim(t, "--duration", "1s")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"scheduler builtin:cidq", "utilization", "wakeup latency", "interactive", "batch", "/batch", "select_cid", "CPU utilization"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
}

// Determinism across processes and GOMAXPROCS: TestDeterministicAcrossProcesses.

func TestRunOutputsAndErrors(t *testing.T) {
	dir := t.TempDir()
	html := filepath.Join(dir, "r.html")
	js := filepath.Join(dir, "r.json")
	if _, err := runSim(t, "--sched", "fair", "--topo", "1x1x2x2", "--workload", "server", "--duration", "500ms", "--html", html, "--json", js); err != nil {
		t.Fatal(err)
	}
	h, _ := os.ReadFile(html)
	if !bytes.HasPrefix(h, []byte("<!DOCTYPE html>")) || !bytes.Contains(h, []byte("<svg")) || bytes.Contains(h, []byte("<script")) {
		t.Errorf("HTML report: %.200s", h)
	}
	j, _ := os.ReadFile(js)
	var res metrics.Results
	if err := json.Unmarshal(j, &res); err != nil || res.Schema != metrics.Schema || res.Summary.Requests == 0 {
		t.Errorf("JSON report: %v %+v", err, res.Summary)
	}
	for _, args := range [][]string{
		{"--topo", "0x1"}, {"--workload", "nosuch.yaml"}, {"--duration", "0s"}, {"--sched", "builtin:nosuch"},
		{"--effect", "smt=2"}, {"--effect", "warp=1us"}, {"--hz", "0"}, {"--hz", "-250"}, {"--hz", "10001"}, {"--sched", "builtin:go-fifo", "--set", "x=1", "--workload", "hogs", "--duration", "10ms", "--set", "=="},
	} {
		_, err := runSim(t, args...)
		var ee *exitError
		if err == nil || !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("%v: error %v, want a usage error (exit 2)", args, err)
		}
	}
}

func TestCompare(t *testing.T) {
	cmd := newCompareCmd()
	var out bytes.Buffer
	cmd.SetArgs([]string{"--no-progress", "--topo", "1x1x4x1", "--workload", "hogs:tasks=6", "--duration", "300ms", "fair", "builtin:fifo", "builtin:cidq"})
	cmd.SetOut(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	head := strings.SplitN(out.String(), "\n", 4)[2]
	for _, s := range []string{"fair", "builtin:fifo", "builtin:cidq"} {
		if !strings.Contains(head, s) {
			t.Errorf("header %q lacks %s", head, s)
		}
	}
}

// A scheduler that never dispatches is ejected by the watchdog: the report
// carries the exit info and the command exits with status 3.
func TestRunEjected(t *testing.T) {
	out, err := runSim(t, "--sched", "../../schedulers/broken/never_dispatch.bpf.o", "--topo", "1x1x2x1", "--workload", "hogs", "--duration", "3s")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 3 {
		t.Fatalf("error %v, want exit status 3", err)
	}
	if !strings.Contains(out, "exit at 1.5") || !strings.Contains(out, "runnable task stall") {
		t.Errorf("report lacks the exit info:\n%s", out)
	}
}

// A workload's own duration applies unless --duration is given; rt-app's
// global.duration -1 (until the tasks exit) leaves the default in place.
func TestRunWorkloadDuration(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	group := "groups:\n  - name: w\n    program:\n      - run: 1ms\n      - sleep: 1ms\n"
	yml := write("d.yaml", "duration: 300ms\n"+group)
	noDur := write("n.yaml", group)
	rt := func(d string) string {
		return write("rt"+d+".json", `{"global": {"duration": `+d+`}, "tasks": {"t": {"loop": -1, "run": 1000, "sleep": 1000}}}`)
	}
	for _, tc := range []struct {
		name string
		args []string
		cmd  string
		want uint64
	}{
		{"yaml own", []string{"--workload", yml}, "run", 300e6},
		{"yaml flag wins", []string{"--workload", yml, "--duration", "200ms"}, "run", 200e6},
		{"yaml flag equal to default wins", []string{"--workload", yml, "--duration", defaultDuration}, "run", 10e9},
		{"yaml none", []string{"--workload", noDur}, "run", 10e9},
		{"rt-app own", []string{"--workload", rt("1")}, "run", 1e9},
		{"rt-app -1", []string{"--workload", rt("-1")}, "run", 10e9},
		{"compare yaml own", []string{"--workload", yml}, "compare", 300e6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, args := newRunCmd(), []string{"--sched", "fair"}
			if tc.cmd == "compare" {
				cmd, args = newCompareCmd(), []string{"fair"}
			}
			var out bytes.Buffer
			cmd.SetArgs(append(append(args, "--no-progress", "--topo", "1x1x1x1", "--hz", "100", "--json", "-"), tc.args...))
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			var got uint64
			if tc.cmd == "compare" {
				var rs []metrics.Results
				if err := json.Unmarshal(out.Bytes(), &rs); err != nil || len(rs) == 0 {
					t.Fatalf("%v\n%.300s", err, out.String())
				}
				got = rs[0].Run.DurationNS
			} else {
				var res metrics.Results
				if err := json.Unmarshal(out.Bytes(), &res); err != nil {
					t.Fatalf("%v\n%.300s", err, out.String())
				}
				got = res.Run.DurationNS
			}
			if got != tc.want {
				t.Errorf("simulated %d ns, want %d", got, tc.want)
			}
		})
	}
}
