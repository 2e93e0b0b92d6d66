package scx_test

import (
	"slices"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/topo"
)

// An RT task taking a CPU from the ext class: ops.cpu_release() with
// SCX_CPU_PREEMPT_RT and the RT task; the scheduler re-enqueues what waits
// on the local DSQ (scx_bpf_reenqueue_local()), and the other CPU runs it;
// ops.cpu_acquire() once the RT task is gone. SCHED_FIFO tasks stay RT
// with every task switched to ext.
func TestCPUReleaseRT(t *testing.T) {
	for _, partial := range []bool{false, true} {
		e := newEnv(t, "1x1x2x1", topo.Linear)
		x := e.x
		var log []string
		reenq := 0
		var flags uint64
		if partial {
			flags = scx.OpsSwitchPartial
		}
		e.register(&scx.Ops{Name: "rel", Flags: flags,
			SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 { return 0 },
			Enqueue: func(p *sched.Task, f uint64) {
				if f&scx.EnqReenq != 0 {
					reenq++
					x.DsqInsert(p, scx.DSQLocalOn|1, 0, 0)
					return
				}
				x.DsqInsert(p, scx.DSQLocalOn|0, 0, 0)
			},
			CPURelease: func(cpu int32, a scx.CPUReleaseArgs) {
				reason := map[scx.CPUPreemptReason]string{scx.CPUPreemptRT: "RT", scx.CPUPreemptUnknown: "UNKNOWN"}[a.Reason]
				log = append(log, "release "+reason+" "+a.Task.Comm)
				x.ReenqueueLocal()
			},
			CPUAcquire: func(cpu int32) { log = append(log, "acquire") },
		})
		a := e.spawn("a", schedtest.Behavior{}, sched.TaskSpec{Policy: sched.PolicyExt})
		b := e.spawn("b", schedtest.Behavior{}, sched.TaskSpec{Policy: sched.PolicyExt})
		e.d.Run(5_000_000)
		rt := e.spawn("rt", schedtest.Behavior{Run: 20_000_000, Exit: true},
			sched.TaskSpec{Policy: sched.PolicyFIFO, RTPriority: 50, CPUs: mask(2, 0)})
		if rt.Class() != e.c.RTClass() {
			t.Fatalf("partial %v: FIFO task in class %s", partial, rt.Class().Name())
		}
		e.d.Run(60_000_000)
		if !slices.Equal(log, []string{"release RT rt", "acquire"}) {
			t.Fatalf("partial %v: calls %v", partial, log)
		}
		if reenq == 0 || (a.CPU() != 1 && b.CPU() != 1) {
			t.Fatalf("partial %v: %d reenqueued, a on %d b on %d", partial, reenq, a.CPU(), b.CPU())
		}
	}
}

// The ext deadline server: an ext hog starved on one CPU by an RT hog, or
// (partial mode) by a fair hog, gets 50 ms per second, as fair does under
// RT.
func TestExtServer(t *testing.T) {
	for _, starver := range []string{"rt", "fair"} {
		e := newEnv(t, "1x1x1x1", topo.Linear)
		x := e.x
		e.register(&scx.Ops{Name: "q", Flags: scx.OpsSwitchPartial,
			Enqueue: func(p *sched.Task, f uint64) { x.DsqInsert(p, scx.DSQGlobal, 0, 0) }})
		p := e.spawn("ext", schedtest.Behavior{}, sched.TaskSpec{Policy: sched.PolicyExt})
		e.d.Run(1_000_000)
		spec := sched.TaskSpec{}
		if starver == "rt" {
			spec = sched.TaskSpec{Policy: sched.PolicyFIFO, RTPriority: 1}
		}
		e.spawn(starver, schedtest.Behavior{}, spec)
		e.d.Run(3_000_000)
		start := e.d.Runtime(p)
		e.d.Run(1_000_000 + 5_000_000_000 - 100_000_000)
		got := e.d.Runtime(p) - start
		want := uint64(250_000_000)
		if got < want || got > want+5*e.c.TickNS() {
			t.Errorf("under a %s hog: ext task ran %d ns in 4.9 s, want about %d", starver, got, want)
		}
	}
}
