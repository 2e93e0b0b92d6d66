package scx_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/goscheds"
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

// A FIFO scheduler under random RT pressure: RT tasks take CPUs from ext
// tasks, cpu_release() (reason RT) re-enqueues the local DSQ at random,
// cpu_acquire() follows, ext tasks starved by the RT hog pinned to CPU 3
// get the ext server's time; the scheduler never errs, every ext task
// runs, and after it is unregistered every task still runs; RT tasks stay
// RT throughout.
func TestExtUnderRTStress(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			e := newEnv(t, "1x1x2x2", topo.Linear)
			rng := rand.New(rand.NewPCG(seed, seed*13))
			var tasks, rts []*sched.Task
			for i := 0; i < 8; i++ {
				b := schedtest.Behavior{}
				if i%2 == 1 {
					b = schedtest.Behavior{Run: uint64(1+rng.IntN(5)) * 700_000, Sleep: uint64(1+rng.IntN(5)) * 300_000}
				}
				spec := sched.TaskSpec{CPU: i % 4}
				if i == 7 {
					spec.CPUs = mask(4, 3)
				}
				tasks = append(tasks, e.spawn(fmt.Sprint("t", i), b, spec))
			}
			for i := 0; i < 3; i++ {
				b := schedtest.Behavior{Run: uint64(1+rng.IntN(30)) * 1_000_000, Sleep: uint64(1+rng.IntN(10)) * 1_000_000}
				rts = append(rts, e.spawn(fmt.Sprint("rt", i), b, sched.TaskSpec{CPU: i, Policy: sched.PolicyRR, RTPriority: 1 + i}))
			}
			rts = append(rts, e.spawn("rthog", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(4, 3), Policy: sched.PolicyFIFO, RTPriority: 50}))
			f := &goscheds.FIFO{X: e.x}
			o := f.Ops("fifo", 0)
			rel, acq := 0, 0
			o.CPURelease = func(cpu int32, a scx.CPUReleaseArgs) {
				if a.Reason != scx.CPUPreemptRT || a.Task.Class() != e.c.RTClass() {
					t.Errorf("cpu_release reason %d for %s", a.Reason, a.Task)
				}
				rel++
				if rng.IntN(2) == 0 {
					e.x.ReenqueueLocal()
				}
			}
			o.CPUAcquire = func(cpu int32) { acq++ }
			sch := e.register(o)
			e.d.Run(2_500_000_000)
			if sch.ExitKind() != scx.ExitNone {
				t.Fatalf("scheduler exited: %s", sch.ExitInfo().Msg)
			}
			if rel == 0 || acq == 0 || acq > rel {
				t.Fatalf("%d releases, %d acquires", rel, acq)
			}
			for _, p := range tasks {
				if e.d.Runtime(p) == 0 {
					t.Fatalf("%s never ran", p)
				}
			}
			e.x.Unregister(sch)
			before := make([]uint64, len(tasks))
			for i, p := range tasks {
				before[i] = e.d.Runtime(p)
			}
			e.d.Run(e.d.Now() + 2_000_000_000)
			for i, p := range tasks {
				if p.Class() != e.c.FairClass() {
					t.Fatalf("%s left in %s", p, p.Class().Name())
				}
				if e.d.Runtime(p)-before[i] == 0 {
					t.Fatalf("%s lost after the scheduler went away", p)
				}
			}
			for _, p := range rts {
				if p.Class() != e.c.RTClass() || e.d.Runtime(p) == 0 {
					t.Fatalf("%s in %s ran %d", p, p.Class().Name(), e.d.Runtime(p))
				}
			}
		})
	}
}
