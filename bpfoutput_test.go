package scxsim_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scxsim/scxsim"
)

// A BPF scheduler's stream and printk output is in the Go API's results.
func TestBPFOutputInResults(t *testing.T) {
	raw, err := os.ReadFile("sim/scheds/testdata/printer.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	m, err := scxsim.NewMachine("1x1x2x2")
	if err != nil {
		t.Fatal(err)
	}
	w, err := scxsim.BuiltinWorkload("schbench:workers=4", m.NumPossible())
	if err != nil {
		t.Fatal(err)
	}
	res := scxsim.Simulate(t, scxsim.Config{Machine: m, Scheduler: scxsim.BPFObject("printer", raw), Workload: w, Duration: 100 * time.Millisecond})
	sc := res.Scheduler
	if len(sc.Printk) != 1 || sc.Printk[0] != "printer: init on 4 cpus" {
		t.Errorf("printk %q", sc.Printk)
	}
	var progs []string
	for _, so := range sc.Streams {
		progs = append(progs, so.Prog)
	}
	if strings.Join(progs, ",") != "printer_enqueue,printer_init" || !strings.HasPrefix(sc.Streams[0].Stdout, "printer: enqueue 0\nprinter: enqueue 1\n") {
		t.Errorf("streams %+v", sc.Streams)
	}
}

// Config.HZ reaches a BPF scheduler as CONFIG_HZ and Config.Seed seeds its
// bpf_get_prandom_u32(), for an object given by bytes or by path.
func TestBPFSeesHZAndSeed(t *testing.T) {
	raw, err := os.ReadFile("sim/scheds/testdata/knobs.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	m, err := scxsim.NewMachine("1x1x2x1")
	if err != nil {
		t.Fatal(err)
	}
	w, err := scxsim.BuiltinWorkload("hogs", m.NumPossible())
	if err != nil {
		t.Fatal(err)
	}
	line := func(hz int, seed uint64, byPath bool) string {
		t.Helper()
		sc := scxsim.BPFObject("knobs", raw)
		if byPath {
			if sc, err = scxsim.SchedulerSpec("sim/scheds/testdata/knobs.bpf.o"); err != nil {
				t.Fatal(err)
			}
		}
		res := scxsim.Simulate(t, scxsim.Config{Machine: m, Scheduler: sc, Workload: w, Duration: 10 * time.Millisecond, HZ: hz, Seed: seed})
		if len(res.Scheduler.Printk) != 1 {
			t.Fatalf("printk %q", res.Scheduler.Printk)
		}
		return res.Scheduler.Printk[0]
	}
	a, b, c, d := line(250, 3, false), line(250, 3, true), line(0, 4, false), line(100, 3, false)
	if !strings.HasPrefix(a, "knobs: hz 250 rand ") || a != b {
		t.Errorf("HZ 250, seed 3: %q and by path %q", a, b)
	}
	if !strings.HasPrefix(c, "knobs: hz 1000 rand ") || c[len("knobs: hz 1000"):] == a[len("knobs: hz 250"):] {
		t.Errorf("default HZ, seed 4: %q (seed 3: %q)", c, a)
	}
	if d != "knobs: hz 100"+a[len("knobs: hz 250"):] {
		t.Errorf("HZ 100, seed 3: %q, want the seed-3 number of %q", d, a)
	}
}

// One Scheduler value run twice, and the same Config run twice, give the
// same results: nothing of one run leaks into the next.
func TestRunsRepeat(t *testing.T) {
	m, err := scxsim.NewMachine("1x2x2x2")
	if err != nil {
		t.Fatal(err)
	}
	w, err := scxsim.BuiltinWorkload("mixed", m.NumPossible())
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"builtin:cidq", "builtin:fifo", "builtin:go-cidfifo", "fair"} {
		sc, err := scxsim.SchedulerSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i := 0; i < 2; i++ {
			res := scxsim.Simulate(t, scxsim.Config{Machine: m, Scheduler: sc, Workload: w, Duration: 200 * time.Millisecond, Seed: 9, Tasks: true})
			b, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
		if out[0] != out[1] {
			t.Errorf("%s: a second run of the same Scheduler value differs", spec)
		}
	}
}
