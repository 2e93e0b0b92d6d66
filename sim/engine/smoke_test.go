package engine

import (
	"testing"

	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/workload"
)

func TestSmoke(t *testing.T) {
	sp, _ := topo.ParseSpec("1x1x4x2")
	m, _ := sp.Machine(topo.Numbering("linear"))
	for _, name := range workload.BuiltinNames() {
		w, err := workload.Builtin(name, m.NumPossible())
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(Config{Machine: m, Workload: w, Duration: 1e9, Seed: 1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: util %.3f tasks %d exited %d never %d stop %s events %d runtime %d busy %d switches %d",
			name, res.Summary.Utilization, res.Summary.Tasks, res.Summary.Exited, res.Summary.NeverRan, res.Run.StopReason,
			res.Run.EventsTotal, res.Summary.RuntimeNS, res.Summary.BusyNS, res.Summary.ContextSwitches)
		for _, g := range res.Groups {
			t.Logf("  %s: tasks %d runtime %d wake p50 %d p99 %d iters %d req %d fair %.3f", g.Name, g.Tasks, g.RuntimeNS, g.Wakeup.P50, g.Wakeup.P99, g.Iterations, g.Requests, g.Fairness)
		}
	}
}
