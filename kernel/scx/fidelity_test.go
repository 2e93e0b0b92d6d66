package scx_test

import (
	"fmt"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/topo"
)

// ops.cpu_release() tells the scheduler a higher class took the CPU; a CPU
// that goes idle because the scheduler had nothing to run is not released
// (switch_class() returns early when the next class is below ext), so no
// ops.cpu_acquire() follows either.
func TestCPUReleaseOnlyForHigherClass(t *testing.T) {
	cases := []struct {
		name             string
		ext              schedtest.Behavior
		fair             bool
		release, acquire int
	}{
		{"ext task sleeps, cpu idles", schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000}, false, 0, 0},
		{"fair task preempts", schedtest.Behavior{}, true, 1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "1x1x1x1", topo.Linear)
			x := e.x
			rel, acq := 0, 0
			e.register(&scx.Ops{Name: "rel", Flags: scx.OpsSwitchPartial,
				Enqueue:    func(p *sched.Task, f uint64) { x.DsqInsert(p, scx.DSQGlobal, 0, 0) },
				CPURelease: func(cpu int32, a scx.CPUReleaseArgs) { rel++ },
				CPUAcquire: func(cpu int32) { acq++ },
			})
			e.spawn("ext", c.ext, sched.TaskSpec{Policy: sched.PolicyExt})
			e.d.Run(10_000_000)
			if c.fair {
				e.spawn("fair", schedtest.Behavior{Run: 500_000, Exit: true}, sched.TaskSpec{})
			}
			e.d.Run(20_000_000)
			if rel != c.release || acq != c.acquire {
				t.Fatalf("cpu_release %d cpu_acquire %d, want %d and %d", rel, acq, c.release, c.acquire)
			}
		})
	}
}

var _ = fmt.Sprint
