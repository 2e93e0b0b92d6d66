package scheds

import (
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/engine"
	"github.com/scxsim/scxsim/sim/metrics"
	"github.com/scxsim/scxsim/sim/workload"
)

// Op and instruction counts with known answers, from broken/error.bpf.o
// (llvm-objdump -d): dispatch and init are 4 straight-line instructions;
// enqueue is 15 on its usual path and 29 on the call that reports the
// error; the 300th enqueue ejects the scheduler, so there are exactly 300
// and no op runs afterwards but exit, once. The ejection is in the exit
// info.
func TestOpCountsKnown(t *testing.T) {
	sp, _ := topo.ParseSpec("1x1x2x1")
	m, _ := sp.Machine(topo.Numbering("linear"))
	w, err := workload.Builtin("mixed", m.NumPossible())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Resolve("../../schedulers/broken/error.bpf.o", Options{Globals: []string{"error_after=300"}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Run(engine.Config{Machine: m, Workload: w, Scheduler: s, Duration: 2e9, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]metrics.OpCount{}
	for _, o := range res.Scheduler.Ops {
		ops[o.Op] = o
	}
	if o := ops["enqueue"]; o.Calls != 300 || o.Insns != 299*15+29 {
		t.Errorf("enqueue %+v, want 300 calls and %d insns", o, 299*15+29)
	}
	if o := ops["dispatch"]; o.Calls == 0 || o.Insns != 4*o.Calls || o.InsnsPerCall != 4 {
		t.Errorf("dispatch %+v, want 4 insns per call", o)
	}
	if o := ops["init"]; o.Calls != 1 || o.Insns != 4 {
		t.Errorf("init %+v, want one call of 4 insns", o)
	}
	if o := ops["exit"]; o.Calls != 1 || o.Insns == 0 {
		t.Errorf("exit %+v, want one call", o)
	}
	if len(ops) != 4 {
		t.Errorf("ops %v, want enqueue, dispatch, init and exit", res.Scheduler.Ops)
	}
	x := res.Scheduler.Exit
	if x == nil || x.Kind != "error" || x.Reason != "scx_bpf_error" || x.AtNS == 0 || !strings.HasPrefix(x.Msg, "schedulers/broken/error.bpf.c:28: giving up after 300 enqueues") {
		t.Errorf("exit %+v", x)
	}
}
