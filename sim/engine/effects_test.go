package engine

import (
	"math"
	"testing"

	"github.com/scxsim/scxsim/sim/workload"
)

// Two hogs on one CPU share it half and half, and their run time adds up
// to the CPU's busy time.
func TestTwoHogsShareOneCPU(t *testing.T) {
	w, err := workload.Builtin("hogs:tasks=2", 1)
	if err != nil {
		t.Fatal(err)
	}
	r := simulate(t, machine(t, "1x1x1x1"), w, 2_000*ms, DefaultEffects())
	checkConsistent(t, r)
	a, b := r.res.Tasks[0].RuntimeNS, r.res.Tasks[1].RuntimeNS
	total := float64(a + b)
	for _, v := range []uint64{a, b} {
		if share := float64(v) / total; math.Abs(share-0.5) > 0.01 {
			t.Errorf("share %.4f, want 0.5±0.01 (runtimes %d, %d)", share, a, b)
		}
	}
	if u := r.res.CPUs[0].Utilization; u < 0.999 {
		t.Errorf("utilization %.4f, want ~1", u)
	}
	if f := r.res.Groups[0].Fairness; f < 0.999 {
		t.Errorf("fairness %.4f, want ~1", f)
	}
}

// On an idle machine a sleeper's wakeups cost exactly the modelled wakeup
// latency: its timer fires on its own idle CPU, so each wakeup waits the
// idle-exit latency; its first (fork) wakeup also pays the IPI.
func TestSleeperWakeupLatencyIdleMachine(t *testing.T) {
	fx := DefaultEffects()
	r := simYAML(t, machine(t, "2x1x2x2"), `
groups:
  - name: sleeper
    program:
      - sleep: 1ms
      - run: 100us
`, 200*ms, fx)
	checkConsistent(t, r)
	g := r.group(t, "sleeper")
	if g.Wakeup.Count < 150 {
		t.Fatalf("only %d wakeups", g.Wakeup.Count)
	}
	// Percentiles are within the histogram's 0.1%.
	if g.Wakeup.Min != int64(fx.IdleExitNS) || !near(g.Wakeup.P99, fx.IdleExitNS) {
		t.Errorf("wakeup latency min %d p99 %d, want the idle-exit latency %d", g.Wakeup.Min, g.Wakeup.P99, fx.IdleExitNS)
	}
	if g.Wakeup.Max != int64(fx.IdleExitNS+fx.IPILatencyNS) {
		t.Errorf("first wakeup %d, want IPI + idle exit %d", g.Wakeup.Max, fx.IdleExitNS+fx.IPILatencyNS)
	}
	// Each iteration: sleep, wakeup latency, context switch, run.
	want := 1*ms + fx.IdleExitNS + fx.ContextSwitchNS + 100*us
	if it := g.IterLatency; !near(it.P50, want) {
		t.Errorf("iteration p50 %d, want %d", it.P50, want)
	}
}

// Two tasks on the two SMT threads of one core each run at SMTFactor
// speed; on two cores they run at full speed.
func TestSMTSlowdown(t *testing.T) {
	src := `
groups:
  - name: w
    count: 2
    loop: 1
    program:
      - run: 10ms
`
	fx := Effects{SMTFactor: 0.5}
	smt := simYAML(t, machine(t, "1x1x1x2"), src, 100*ms, fx)
	cores := simYAML(t, machine(t, "1x1x2x1"), src, 100*ms, fx)
	for _, c := range []string{"w-0", "w-1"} {
		if e := endOf(t, smt.task(t, c)); e != 20*ms {
			t.Errorf("SMT siblings: %s ended at %d, want 20ms", c, e)
		}
		if e := endOf(t, cores.task(t, c)); e != 10*ms {
			t.Errorf("two cores: %s ended at %d, want 10ms", c, e)
		}
		if w := smt.task(t, c).WorkNS; w != 10*ms {
			t.Errorf("%s did %d of work, want 10ms", c, w)
		}
	}
	// Once the sibling is done the survivor speeds up: 10ms alone on
	// the core takes 10ms, the 6ms it shares takes 12ms.
	mixed := simYAML(t, machine(t, "1x1x1x2"), `
groups:
  - {name: short, loop: 1, program: [{run: 6ms}]}
  - {name: long, loop: 1, program: [{run: 10ms}]}
`, 100*ms, fx)
	if e := endOf(t, mixed.task(t, "short-0")); e != 12*ms {
		t.Errorf("short ended at %d, want 12ms", e)
	}
	if e := endOf(t, mixed.task(t, "long-0")); e != 16*ms {
		t.Errorf("long ended at %d, want 16ms (6ms of work at half speed, 4ms alone)", e)
	}
}

// Run speed scales with capacity and perf; runtime (CPU time) does not.
func TestCapacityAndPerfScaling(t *testing.T) {
	m := machineFile(t, `
cpus:
  - {cpus: "0", capacity: 512}
  - {cpus: "1", perf: 256}
`)
	r := simYAML(t, m, `
groups:
  - {name: a, loop: 1, cpus: "0", program: [{run: 10ms}]}
  - {name: b, loop: 1, cpus: "1", program: [{run: 10ms}]}
  - {name: c, loop: 1, cpus: "0", start: 100ms, program: [{runtime: 10ms}]}
`, 200*ms, noFx)
	if e := endOf(t, r.task(t, "a-0")); e != 20*ms {
		t.Errorf("capacity 512: ended at %d, want 20ms", e)
	}
	if e := endOf(t, r.task(t, "b-0")); e != 40*ms {
		t.Errorf("perf 256: ended at %d, want 40ms", e)
	}
	if e := endOf(t, r.task(t, "c-0")); e != 110*ms {
		t.Errorf("runtime on capacity 512: ended at %d, want 110ms", e)
	}
}

// A task that moves to another node pays the cross-node warm-up, counted
// as a cross-node migration; context switches cost ContextSwitchNS.
func TestMigrationWarmupAndContextSwitch(t *testing.T) {
	fx := Effects{SMTFactor: 1, WarmupXNodeNS: 100 * us, WarmupLLCNS: 7 * us}
	r := simYAML(t, machine(t, "2x1x1x1"), `
groups:
  - name: mover
    loop: 1
    cpus: "0"
    program:
      - run: 1ms
      - affinity: "1"
      - run: 1ms
`, 100*ms, fx)
	tk := r.task(t, "mover-0")
	if e := endOf(t, tk); e != 2*ms+100*us {
		t.Errorf("ended at %d, want 2.1ms", e)
	}
	if tk.Migrations.XNode != 1 || tk.Migrations.Total() != 1 {
		t.Errorf("migrations %+v, want one cross-node", tk.Migrations)
	}
	ss := r.segs("mover-0")
	if len(ss) != 2 || ss[0].cpu != 0 || ss[1].cpu != 1 {
		t.Errorf("segments %+v, want cpu 0 then cpu 1", ss)
	}
	fx = Effects{SMTFactor: 1, ContextSwitchNS: 50 * us}
	r = simYAML(t, machine(t, "1x1x1x1"), `
groups:
  - {name: s, loop: 3, program: [{run: 1ms}, {sleep: 1ms}]}
`, 100*ms, fx)
	// Four switch-ins (three before a 1ms run, one after the last
	// sleep to exit), each 50us.
	if e, want := endOf(t, r.task(t, "s-0")), 3*(1*ms+50*us)+3*ms+50*us; e != want {
		t.Errorf("ended at %d, want %d", e, want)
	}
}

// The same configuration gives the same results, byte for byte.
func TestDeterministic(t *testing.T) {
	m := machine(t, "2x2x2x2")
	var out [][]byte
	for i := 0; i < 2; i++ {
		w, err := workload.Builtin("mixed", m.NumPossible())
		if err != nil {
			t.Fatal(err)
		}
		var buf []byte
		r := simulate(t, m, w, 300*ms, DefaultEffects())
		for _, e := range r.evs {
			buf = append(buf, []byte(e.Kind+e.Next.Comm)...)
			buf = append(buf, byte(e.TS), byte(e.TS>>8), byte(e.TS>>16), byte(e.CPU))
		}
		out = append(out, buf)
		if i == 1 && r.res.Summary.ContextSwitches == 0 {
			t.Fatal("nothing ran")
		}
	}
	if string(out[0]) != string(out[1]) {
		t.Error("two identical runs produced different traces")
	}
}

// near reports v within the HDR histogram's 0.1% of want.
func near(v int64, want uint64) bool {
	d := math.Abs(float64(v) - float64(want))
	return d <= float64(want)/1000+1
}
