package scx_test

import (
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/topo"
)

// A scheduler's scx_bpf_cpuperf_set() steers a CPU's performance level
// only while it is loaded: once it is ejected the CPU goes back to the
// level it had before (scx_cpuperf_target() reads 0 with sched_ext off).
func TestCPUPerfRestoredOnDisable(t *testing.T) {
	for _, c := range []struct {
		name string
		boot uint32 // CPU 0's level before the scheduler loads
		set  uint32 // what the scheduler sets
	}{
		{"lowered", 1024, 256},
		{"raised to one", 512, 1024},
		{"unchanged", 768, 768},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "1x1x2x1", topo.Linear)
			m := e.c.Machine()
			if err := m.SetPerf(0, c.boot); err != nil {
				t.Fatal(err)
			}
			x := e.x
			n := 0
			e.register(&scx.Ops{Name: "perf",
				Running: func(p *sched.Task) {
					n++
					switch n {
					case 1:
						x.CPUPerfSet(0, c.set)
					case 10:
						x.Error("done")
					}
				},
			})
			e.spawn("t", schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000}, sched.TaskSpec{CPU: 0})
			perf := func() uint32 { cpu, _ := m.CPU(0); return cpu.Perf }
			for n < 1 {
				e.d.Run(1_000_000)
			}
			if got := perf(); got != c.set {
				t.Fatalf("while loaded: perf %d, want %d", got, c.set)
			}
			e.d.Run(100_000_000)
			if !e.logHas("done") {
				t.Fatalf("scheduler not ejected: %q", x.Log())
			}
			if got := perf(); got != c.boot {
				t.Fatalf("after ejection: perf %d, want %d", got, c.boot)
			}
		})
	}
}
