package scheds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/engine"
	"github.com/scxsim/scxsim/sim/metrics"
	"github.com/scxsim/scxsim/sim/report"
	"github.com/scxsim/scxsim/sim/workload"
)

func runOutput(t *testing.T, s engine.Scheduler) *metrics.Results {
	t.Helper()
	sp, _ := topo.ParseSpec("1x1x2x2")
	m, _ := sp.Machine(topo.Numbering("linear"))
	w, err := workload.Builtin("schbench:workers=4", 4)
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Run(engine.Config{Machine: m, Workload: w, Scheduler: s, Duration: 200_000_000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// What a BPF scheduler prints to its streams and with bpf_printk reaches
// the results, the text report (bounded) and the JSON, deterministically.
func TestBPFOutput(t *testing.T) {
	raw, err := os.ReadFile("testdata/printer.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	res := runOutput(t, NewBPF(raw, "printer", Options{Seed: 1}))
	sc := res.Scheduler
	byProg := map[string]metrics.StreamOutput{}
	for i, so := range sc.Streams {
		byProg[so.Prog] = so
		if i > 0 && sc.Streams[i-1].Prog >= so.Prog {
			t.Errorf("streams not in name order: %q before %q", sc.Streams[i-1].Prog, so.Prog)
		}
	}
	var want strings.Builder
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&want, "printer: enqueue %d\n", i)
	}
	if got := byProg["printer_enqueue"]; got.Stdout != want.String() || got.Stderr != "" {
		t.Errorf("printer_enqueue streams %+v, want stdout of 60 enqueue lines", got)
	}
	if got := byProg["printer_init"]; got.Stderr != "printer: init done\n" || got.Stdout != "" {
		t.Errorf("printer_init streams %+v", got)
	}
	if len(sc.Printk) != 1 || sc.Printk[0] != "printer: init on 4 cpus" {
		t.Errorf("printk %q", sc.Printk)
	}

	var text bytes.Buffer
	if err := report.Text(&text, res); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, s := range []string{"\nBPF output\n", "  printer_enqueue stdout:\n    (10 earlier lines not shown)\n    printer: enqueue 10\n",
		"    printer: enqueue 59\n", "  printer_init stderr:\n    printer: init done\n", "  printk:\n    printer: init on 4 cpus\n"} {
		if !strings.Contains(out, s) {
			t.Errorf("text report lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "    printer: enqueue 9\n") {
		t.Errorf("text report shows more than %d lines of a stream", report.OutputKeep)
	}

	var js bytes.Buffer
	if err := report.JSON(&js, res); err != nil {
		t.Fatal(err)
	}
	var back metrics.Results
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Scheduler.Streams) != len(sc.Streams) || back.Scheduler.Streams[0] != sc.Streams[0] ||
		len(back.Scheduler.Printk) != 1 || !strings.Contains(js.String(), `"streams": [`) {
		t.Errorf("JSON streams/printk do not round-trip:\n%s", js.String())
	}

	// A second run prints the same JSON.
	var js2 bytes.Buffer
	if err := report.JSON(&js2, runOutput(t, NewBPF(raw, "printer", Options{Seed: 1}))); err != nil {
		t.Fatal(err)
	}
	if js.String() != js2.String() {
		t.Error("two runs of the printing scheduler differ")
	}
}

// Schedulers that print nothing carry no output fields or section.
func TestNoBPFOutput(t *testing.T) {
	for _, spec := range []string{"fair", "builtin:fifo", "builtin:go-fifo"} {
		s, err := Resolve(spec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := runOutput(t, s)
		var text, js bytes.Buffer
		if err := report.Text(&text, res); err != nil {
			t.Fatal(err)
		}
		if err := report.JSON(&js, res); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(text.String(), "BPF output") || strings.Contains(js.String(), `"streams"`) || strings.Contains(js.String(), `"printk"`) {
			t.Errorf("%s: output section or fields present", spec)
		}
	}
}
