package scxsim_test

import (
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
