package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/sim/metrics"
)

func sample() *metrics.Results {
	r := metrics.NewRecorder(2, 1e9, 4)
	g := r.AddGroup("web")
	a := r.NewTask(1, "web-0", g, "/svc", 1024, 0)
	r.Runnable(a, 0, true)
	r.SwitchIn(a, 1, 2000)
	r.Iteration(a, 3e6)
	r.Request(a, 250e3)
	r.SwitchOut(a, 5e8, false, false)
	res := r.Finish(1e9, []int{0, 1}, false)
	res.Run = metrics.RunInfo{Scheduler: "builtin:x", Topology: "1x1x2x1", CPUs: 2, Workload: "w<1>", DurationNS: 1e9, StopReason: "duration"}
	res.Scheduler = metrics.SchedulerResult{Name: "builtin:x", Kind: "bpf",
		Ops:  []metrics.OpCount{{Op: "enqueue", Calls: 4, Insns: 40, InsnsPerCall: 10}},
		Exit: &metrics.ExitInfo{Kind: "error", Reason: "runtime error", Msg: "boom", AtNS: 5e8}}
	return res
}

func TestDur(t *testing.T) {
	for ns, want := range map[float64]string{0: "0ns", 999: "999ns", 7000: "7.00us", 12_345: "12.3us", 1.5e6: "1.50ms", 250e6: "250ms", 2.5e9: "2.50s"} {
		if got := Dur(ns); got != want {
			t.Errorf("Dur(%g) = %s, want %s", ns, got, want)
		}
	}
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, sample()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"scheduler builtin:x", "utilization     25.0%", "web", "2.00us", "requests", "250us", "/svc",
		"enqueue", "10.0", "exit at 500ms: error (runtime error): boom"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	res := sample()
	if err := JSON(&b, res); err != nil {
		t.Fatal(err)
	}
	var back metrics.Results
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Schema != metrics.Schema || back.Summary.RuntimeNS != res.Summary.RuntimeNS || back.Groups[0].ReqLatency.Max != 250e3 || back.Scheduler.Exit.Msg != "boom" {
		t.Errorf("round trip lost data: %+v", back)
	}
	for _, key := range []string{`"wakeup_latency"`, `"p99_9_ns"`, `"timeline_bin_ns"`, `"insns_per_call"`} {
		if !bytes.Contains(b.Bytes(), []byte(key)) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

func TestHTML(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, sample()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "<!DOCTYPE html>") || strings.Contains(out, "<script") || strings.Count(out, "<svg") < 4 {
		t.Errorf("HTML: %.300s", out)
	}
	if !strings.Contains(out, "w&lt;1&gt;") || strings.Contains(out, "w<1>") {
		t.Error("workload name not escaped")
	}
	b.Reset()
	if err := CompareHTML(&b, []*metrics.Results{sample(), sample()}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "<polyline") < 2 {
		t.Error("compare page without CDF lines")
	}
}
