package scheds

import (
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/engine"
	"github.com/scxsim/scxsim/sim/workload"
)

func TestResolve(t *testing.T) {
	for spec, kind := range map[string]string{"": "fair", "fair": "fair", "builtin:fifo": "bpf", "builtin:cidq": "bpf",
		"builtin:go-fifo": "go", "builtin:go-cidfifo": "go", "../../schedulers/fifo/fifo.bpf.o": "bpf"} {
		s, err := Resolve(spec, Options{})
		if err != nil {
			t.Fatalf("%q: %v", spec, err)
		}
		if s.Kind() != kind {
			t.Errorf("%q: kind %s, want %s", spec, s.Kind(), kind)
		}
	}
	for _, n := range BuiltinNames() {
		if BuiltinDoc(n) == "" {
			t.Errorf("%s: no doc", n)
		}
	}
	for spec, want := range map[string]string{"builtin:nope": "unknown builtin scheduler", "/no/such.bpf.o": "no such file"} {
		if _, err := Resolve(spec, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", spec, err, want)
		}
	}
	if got := AllBuiltinNames(); len(got) < 3 || got[0] != "cidq" {
		t.Errorf("builtin names %v", got)
	}
}

// Op counts and instruction counts reach the results, in kernel op names.
func TestOpCounts(t *testing.T) {
	sp, _ := topo.ParseSpec("1x1x2x2")
	m, _ := sp.Machine(topo.Numbering("linear"))
	w, err := workload.Builtin("schbench:workers=4", 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"builtin:cidq", "builtin:fifo", "fair"} {
		s, err := Resolve(spec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if spec == "builtin:fifo" {
			// The Go FIFO, to cover Go schedulers too.
			s = NewGo("go-fifo", goBuiltins["go-fifo"].make)
		}
		res, err := engine.Run(engine.Config{Machine: m, Workload: w, Scheduler: s, Duration: 200_000_000, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		ops := map[string]uint64{}
		var insns uint64
		for _, o := range res.Scheduler.Ops {
			ops[o.Op] = o.Calls
			insns += o.Insns
		}
		switch spec {
		case "fair":
			if len(ops) != 0 {
				t.Errorf("fair has ops %v", ops)
			}
		case "builtin:cidq":
			if ops["select_cid"] == 0 || ops["enqueue"] == 0 || ops["init"] != 1 || insns == 0 {
				t.Errorf("cidq ops %v insns %d", ops, insns)
			}
		default:
			if ops["select_cpu"] == 0 || ops["dispatch"] == 0 || ops["init"] != 1 || insns != 0 {
				t.Errorf("go fifo ops %v insns %d", ops, insns)
			}
		}
	}
}
