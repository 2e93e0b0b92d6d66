package scx_test

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/goscheds"
	"github.com/scxsim/scxsim/kernel/topo"
)

// The idle masks track which CPUs idle, whole idle cores feed the SMT
// mask, and picking an idle CPU claims it.
func TestIdleTracking(t *testing.T) {
	e := newEnv(t, "1x1x2x2", topo.Linear) // cores {0,1} {2,3}
	x := e.x
	e.register(&scx.Ops{Name: "idle",
		SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 { return 0 },
		Enqueue:   func(p *sched.Task, f uint64) { x.DsqInsert(p, scx.DSQLocalOn|0, scx.SliceInf, 0) },
	})
	e.d.Run(1_000_000)
	if got := x.GetIdleCPUMask().String(); got != "0-3" {
		t.Fatalf("idle %s, want 0-3", got)
	}
	e.spawn("hog", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(4, 0)})
	e.d.Run(2_000_000)
	if got, smt := x.GetIdleCPUMask().String(), x.GetIdleSMTMask().String(); got != "1-3" || smt != "2-3" {
		t.Fatalf("idle %s smt %s, want 1-3 and 2-3", got, smt)
	}
	all := mask(4, 0, 1, 2, 3)
	c := x.PickIdleCPU(all, scx.PickIdleCore)
	if c != 2 && c != 3 {
		t.Fatalf("pick idle core: %d", c)
	}
	if got, smt := x.GetIdleCPUMask(), x.GetIdleSMTMask(); got.Test(int(c)) || !smt.Empty() {
		t.Fatalf("after pick: idle %s smt %s", got, smt)
	}
	if x.PickIdleCPU(all, scx.PickIdleCore) != -16 {
		t.Fatal("second whole core found")
	}
	if !x.TestAndClearCPUIdle(1) || x.TestAndClearCPUIdle(1) {
		t.Fatal("test_and_clear_cpu_idle(1) not true then false")
	}
	if got := x.PickAnyCPU(mask(4, 0), 0); got != 0 {
		t.Fatalf("pick_any on a busy single CPU: %d", got)
	}
}

// ops.update_idle() replaces the built-in tracking unless
// SCX_OPS_KEEP_BUILTIN_IDLE.
func TestUpdateIdleOp(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprint(keep), func(t *testing.T) {
			e := newEnv(t, "1x1x2x1", topo.Linear)
			x := e.x
			var flags uint64
			if keep {
				flags = scx.OpsKeepBuiltinIdle
			}
			var calls []string
			sch := e.register(&scx.Ops{Name: "ui", Flags: flags,
				SelectCPU:  func(p *sched.Task, prev int32, wf uint64) int32 { return prev },
				UpdateIdle: func(cpu int32, idle bool) { calls = append(calls, fmt.Sprintf("%d:%v", cpu, idle)) },
			})
			e.spawn("w", schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000}, sched.TaskSpec{CPUs: mask(2, 1)})
			e.d.Run(5_000_000)
			if !slices.Contains(calls, "1:false") || !slices.Contains(calls, "1:true") || !slices.Contains(calls, "0:true") {
				t.Fatalf("update_idle calls %v", calls)
			}
			m := x.GetIdleCPUMask()
			if keep && !m.Test(0) {
				t.Fatalf("builtin idle mask %s", m)
			}
			if !keep && sch.ExitInfo().Msg != "built-in idle tracking is disabled" {
				t.Fatalf("exit %q", sch.ExitInfo().Msg)
			}
		})
	}
}

// The task state callbacks come in the kernel's order.
func TestTaskStateCallbacks(t *testing.T) {
	e := newEnv(t, "1x1x1x1", topo.Linear)
	x := e.x
	var log []string
	rec := func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)) }
	e.register(&scx.Ops{Name: "states",
		Runnable:  func(p *sched.Task, f uint64) { rec("runnable wakeup=%v", f&scx.EnqWakeup != 0) },
		Enqueue:   func(p *sched.Task, f uint64) { rec("enqueue"); x.DsqInsert(p, scx.DSQGlobal, 0, 0) },
		Running:   func(p *sched.Task) { rec("running") },
		Stopping:  func(p *sched.Task, r bool) { rec("stopping %v", r) },
		Quiescent: func(p *sched.Task, f uint64) { rec("quiescent sleep=%v", f&scx.DeqSleep != 0) },
	})
	e.spawn("w", schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000}, sched.TaskSpec{})
	e.d.Run(3_500_000)
	want := []string{"runnable wakeup=false", "enqueue", "running", "stopping false", "quiescent sleep=true",
		"runnable wakeup=true", "enqueue", "running"}
	if len(log) < len(want) || !slices.Equal(log[:len(want)], want) {
		t.Fatalf("calls %v\nwant prefix %v", log, want)
	}
}

// set_weight follows nice on the cgroup weight scale.
func TestSetWeight(t *testing.T) {
	e := newEnv(t, "1x1x1x1", topo.Linear)
	var ws []uint32
	e.register(&scx.Ops{Name: "w", SetWeight: func(p *sched.Task, w uint32) { ws = append(ws, w) }})
	p := e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{})
	e.d.Run(1_000_000)
	for _, n := range []int{5, -5, 19} {
		if err := e.c.SetNice(p, n); err != nil {
			t.Fatal(err)
		}
	}
	if want := []uint32{100, 33, 305, 1}; !slices.Equal(ws, want) {
		t.Fatalf("weights %v, want %v", ws, want)
	}
}

// A property change of a task in the scheduler's custody calls
// ops.dequeue() with SCX_DEQ_SCHED_CHANGE; the task is enqueued again.
func TestDequeueSchedChange(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	x := e.x
	var deq []uint64
	enq := 0
	e.register(&scx.Ops{Name: "deq",
		SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 { return prev },
		Enqueue:   func(p *sched.Task, f uint64) { enq++; x.DsqInsert(p, userDSQ, 0, 0) },
		Dequeue:   func(p *sched.Task, f uint64) { deq = append(deq, f) },
		Init:      func() int32 { return x.CreateDSQ(userDSQ, -1) },
	})
	p := e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{})
	e.d.Run(1_000_000)
	if enq != 1 || len(deq) != 0 || scx.EntityOf(p).DSQID() != userDSQ {
		t.Fatalf("enq %d deq %v dsq %#x", enq, deq, scx.EntityOf(p).DSQID())
	}
	if err := e.c.SetNice(p, 3); err != nil {
		t.Fatal(err)
	}
	if len(deq) != 1 || deq[0]&scx.DeqSchedChange == 0 || enq != 2 {
		t.Fatalf("deq %x enq %d", deq, enq)
	}
	if x.DsqNrQueued(userDSQ) != 1 {
		t.Fatal("task not back on its DSQ")
	}
}

// CPU hotplug reaches ops.cpu_online/offline; a scheduler without them is
// unloaded with a restart request.
func TestHotplug(t *testing.T) {
	for _, hasOps := range []bool{true, false} {
		t.Run(fmt.Sprint(hasOps), func(t *testing.T) {
			e := newEnv(t, "1x1x2x1", topo.Linear)
			var calls []string
			o := &scx.Ops{Name: "hp"}
			if hasOps {
				o.CPUOnline = func(c int32) { calls = append(calls, fmt.Sprint("on", c)) }
				o.CPUOffline = func(c int32) { calls = append(calls, fmt.Sprint("off", c)) }
			}
			sch := e.register(o)
			e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{})
			e.d.Run(1_000_000)
			if err := e.c.SetOnline(1, false); err != nil {
				t.Fatal(err)
			}
			e.d.Run(2_000_000)
			if err := e.c.SetOnline(1, true); err != nil {
				t.Fatal(err)
			}
			e.d.Run(3_000_000)
			if hasOps {
				if !slices.Equal(calls, []string{"off1", "on1"}) || sch.ExitKind() != scx.ExitNone {
					t.Fatalf("calls %v exit %q", calls, sch.ExitInfo().Msg)
				}
				return
			}
			ei := sch.ExitInfo()
			if ei.Kind != scx.ExitUnregKern || ei.Msg != "cpu 1 going offline, exiting scheduler" ||
				uint64(ei.ExitCode) != scx.ECodeActRestart|scx.ECodeRsnHotplug || !ei.RestartRequested() {
				t.Fatalf("exit %+v", ei)
			}
			if r := ei.Report(); r != "EXIT: unregistered from the main kernel (cpu 1 going offline, exiting scheduler)\n" {
				t.Fatalf("report %q", r)
			}
		})
	}
}

// Cgroup ops follow cgroup creation, moves, knobs and removal.
func TestCgroupOps(t *testing.T) {
	e := newEnv(t, "1x1x1x1", topo.Linear)
	var log []string
	rec := func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)) }
	pre, _ := e.c.NewCgroup(nil, "pre")
	e.register(&scx.Ops{Name: "cg",
		CgroupInit: func(cg *sched.Cgroup, a scx.CgroupInitArgs) int32 {
			rec("init %s %d", cg.Path, a.Weight)
			if cg.Path == "/bad" {
				return -int32(syscall.ENOSPC)
			}
			return 0
		},
		CgroupExit:      func(cg *sched.Cgroup) { rec("exit %s", cg.Path) },
		CgroupPrepMove:  func(p *sched.Task, f, to *sched.Cgroup) int32 { rec("prep %s>%s", f.Path, to.Path); return 0 },
		CgroupMove:      func(p *sched.Task, f, to *sched.Cgroup) { rec("move %s>%s", f.Path, to.Path) },
		CgroupSetWeight: func(cg *sched.Cgroup, w uint32) { rec("weight %s %d", cg.Path, w) },
	})
	a, err := e.c.NewCgroup(nil, "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.NewCgroup(nil, "bad"); err != syscall.ENOSPC {
		t.Fatalf("bad cgroup: %v", err)
	}
	p := e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{})
	e.d.Run(1_000_000)
	if err := e.c.MoveCgroup(p, a); err != nil {
		t.Fatal(err)
	}
	_ = e.c.SetCgroupWeight(a, 200)
	_ = e.c.SetCgroupWeight(a, 200) // unchanged: no call
	_ = e.c.MoveCgroup(p, pre)
	_ = e.c.RemoveCgroup(a)
	want := []string{"init / 100", "init /pre 100", "init /a 100", "init /bad 100", "prep />/a", "move />/a",
		"weight /a 200", "prep /a>/pre", "move /a>/pre", "exit /a"}
	if !slices.Equal(log, want) {
		t.Fatalf("calls\n%v\nwant\n%v", log, want)
	}
}

// A failing ops.init_task() fails the fork.
func TestInitTaskFailsFork(t *testing.T) {
	e := newEnv(t, "1x1x1x1", topo.Linear)
	e.register(&scx.Ops{Name: "it", InitTask: func(p *sched.Task, a scx.InitTaskArgs) int32 {
		if p.Comm == "nope" && a.Fork {
			return -int32(syscall.EAGAIN)
		}
		return 0
	}})
	if _, err := e.c.NewTask(sched.TaskSpec{Comm: "nope"}); err == nil || !strings.Contains(err.Error(), "resource temporarily unavailable") {
		t.Fatalf("fork error %v", err)
	}
	if len(e.c.Tasks()) != 0 {
		t.Fatal("failed fork left a task")
	}
}

// Yield: with ops.yield the scheduler decides; without, the slice ends.
func TestYield(t *testing.T) {
	e := newEnv(t, "1x1x1x1", topo.Linear)
	x := e.x
	e.register(&scx.Ops{Name: "y",
		Enqueue: func(p *sched.Task, f uint64) { x.DsqInsert(p, scx.DSQGlobal, scx.SliceInf, 0) }})
	a := e.spawn("a", schedtest.Behavior{}, sched.TaskSpec{})
	b := e.spawn("b", schedtest.Behavior{}, sched.TaskSpec{})
	e.d.Run(1_000_000)
	cur := e.c.RQ(0).Curr()
	if cur != a && cur != b {
		t.Fatalf("running %s", cur)
	}
	if err := e.c.Yield(cur); err != nil {
		t.Fatal(err)
	}
	if e.c.RQ(0).Curr() == cur {
		t.Fatal("yield did not switch with an infinite slice")
	}
}

// DsqReenq re-enqueues a local DSQ's tasks through ops.enqueue() with
// SCX_ENQ_REENQ.
func TestReenqLocal(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	x := e.x
	reenq := 0
	e.register(&scx.Ops{Name: "re",
		SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 { return prev },
		Enqueue: func(p *sched.Task, f uint64) {
			if f&scx.EnqReenq != 0 {
				reenq++
				x.DsqInsert(p, scx.DSQLocalOn|1, 0, 0)
				return
			}
			x.DsqInsert(p, scx.DSQLocalOn|0, scx.SliceInf, 0)
		},
		Tick: func(p *sched.Task) { x.DsqReenq(scx.DSQLocal, 0) },
	})
	a := e.spawn("a", schedtest.Behavior{}, sched.TaskSpec{})
	b := e.spawn("b", schedtest.Behavior{}, sched.TaskSpec{})
	e.d.Run(20_000_000)
	if reenq == 0 {
		t.Fatal("no SCX_ENQ_REENQ enqueue")
	}
	if a.CPU() == b.CPU() {
		t.Fatalf("both on cpu %d after reenqueue", a.CPU())
	}
}

// cpu_release() when a higher class takes the CPU, cpu_acquire() when the
// ext class dispatches there again.
func TestCPUReleaseAcquire(t *testing.T) {
	e := newEnv(t, "1x1x1x1", topo.Linear)
	x := e.x
	var log []string
	e.register(&scx.Ops{Name: "rel", Flags: scx.OpsSwitchPartial,
		Enqueue: func(p *sched.Task, f uint64) { x.DsqInsert(p, scx.DSQGlobal, 0, 0) },
		CPURelease: func(cpu int32, a scx.CPUReleaseArgs) {
			log = append(log, "release "+a.Task.Comm)
			x.ReenqueueLocal()
		},
		CPUAcquire: func(cpu int32) { log = append(log, "acquire") },
	})
	e.spawn("ext", schedtest.Behavior{}, sched.TaskSpec{Policy: sched.PolicyExt})
	e.d.Run(1_000_000)
	e.spawn("fair", schedtest.Behavior{Run: 2_000_000, Exit: true}, sched.TaskSpec{})
	e.d.Run(10_000_000)
	if !slices.Equal(log, []string{"release fair", "acquire"}) {
		t.Fatalf("calls %v", log)
	}
}

// SCX_ENQ_IMMED: a task inserted into a busy CPU's local DSQ is handed
// back to ops.enqueue() with SCX_ENQ_REENQ instead of waiting there.
func TestEnqImmed(t *testing.T) {
	for _, immed := range []bool{false, true} {
		t.Run(fmt.Sprint(immed), func(t *testing.T) {
			e := newEnv(t, "1x1x2x1", topo.Linear)
			x := e.x
			reenq := 0
			var fl uint64
			if immed {
				fl = scx.EnqImmed
			}
			sch := e.register(&scx.Ops{Name: "immed",
				SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 { return 0 },
				Enqueue: func(p *sched.Task, f uint64) {
					switch {
					case p.Comm == "hog":
						x.DsqInsert(p, scx.DSQLocalOn|0, scx.SliceInf, 0)
					case f&scx.EnqReenq != 0:
						reenq++
						x.DsqInsert(p, scx.DSQLocalOn|1, 0, 0)
					default:
						x.DsqInsert(p, scx.DSQLocalOn|0, 0, fl)
					}
				},
			})
			e.spawn("hog", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(2, 0)})
			e.d.Run(1_000_000)
			w := e.spawn("waiter", schedtest.Behavior{}, sched.TaskSpec{CPU: 0})
			e.d.Run(10_000_000)
			if immed {
				if reenq == 0 || w.CPU() != 1 || e.d.Runtime(w) == 0 || sch.Events().ReenqImmed == 0 {
					t.Fatalf("reenq %d cpu %d ran %d", reenq, w.CPU(), e.d.Runtime(w))
				}
			} else if reenq != 0 || e.d.Runtime(w) != 0 {
				t.Fatalf("non-IMMED task reenqueued %d / ran %d", reenq, e.d.Runtime(w))
			}
		})
	}
}

// A panic in a Go op ejects the scheduler instead of crashing.
func TestOpPanic(t *testing.T) {
	e := newEnv(t, "1x1x1x1", topo.Linear)
	sch := e.register(&scx.Ops{Name: "panic", Enqueue: func(p *sched.Task, f uint64) { panic("oops") }})
	p := e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{})
	e.d.Run(10_000_000)
	if sch.ExitInfo().Msg != "ops.enqueue() panicked: oops" || e.d.Runtime(p) == 0 {
		t.Fatalf("exit %q, ran %d", sch.ExitInfo().Msg, e.d.Runtime(p))
	}
}

// ops.dispatch() that keeps dispatching elsewhere is cut after
// SCX_DSP_MAX_LOOPS rounds and the CPU kicked.
func TestDispatchLoopLimit(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	x := e.x
	var q []*sched.Task
	calls := 0
	var at []uint64
	e.register(&scx.Ops{Name: "loop",
		SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 { return prev },
		Enqueue:   func(p *sched.Task, f uint64) { q = append(q, p) },
		Dispatch: func(cpu int32, prev *sched.Task) {
			if cpu != 0 || len(q) == 0 {
				return
			}
			calls++
			at = append(at, e.d.Now())
			x.DsqInsert(q[0], scx.DSQLocalOn|1, 0, 0)
			q = q[1:]
		},
	})
	for i := 0; i < 40; i++ {
		e.spawn("t", schedtest.Behavior{}, sched.TaskSpec{CPU: 1})
	}
	e.d.Run(200_000)
	first := 0
	for _, a := range at {
		if a == at[0] {
			first++
		}
	}
	if first != scx.DspMaxLoops {
		t.Fatalf("%d dispatch rounds in the first pass, want %d", first, scx.DspMaxLoops)
	}
	if calls != 40 {
		t.Fatalf("the kick did not bring cpu 0 back: %d rounds", calls)
	}
}

// ops.init_task() setting p->scx.disallow keeps a task off sched_ext.
func TestDisallow(t *testing.T) {
	e := newEnv(t, "1x1x1x1", topo.Linear)
	p := e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{Policy: sched.PolicyExt})
	q := e.spawn("q", schedtest.Behavior{}, sched.TaskSpec{Policy: sched.PolicyExt})
	e.d.Run(1_000_000)
	e.register(&scx.Ops{Name: "dis", Flags: scx.OpsSwitchPartial,
		InitTask: func(t *sched.Task, a scx.InitTaskArgs) int32 {
			if t.Comm == "p" {
				scx.EntityOf(t).Disallow = true
			}
			return 0
		}})
	if p.Policy() != sched.PolicyNormal || p.Class() != e.c.FairClass() || q.Class() != sched.Class(e.x) {
		t.Fatalf("p %v in %s, q in %s", p.Policy(), p.Class().Name(), q.Class().Name())
	}
	if err := e.c.SetPolicy(p, sched.PolicyExt); err != syscall.EACCES {
		t.Fatalf("SetPolicy: %v, want EACCES", err)
	}
}

// A dispatch to an offline CPU's local DSQ falls back to the global DSQ
// without an error, counted as SCX_EV_DISPATCH_LOCAL_DSQ_OFFLINE.
func TestDispatchOfflineFallback(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	x := e.x
	var q []*sched.Task
	sch := e.register(&scx.Ops{Name: "off",
		SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 { return prev },
		Enqueue:   func(p *sched.Task, f uint64) { q = append(q, p) },
		Dispatch: func(cpu int32, prev *sched.Task) {
			for _, p := range q {
				x.DsqInsert(p, scx.DSQLocalOn|1, 0, 0)
			}
			q = q[:0]
		},
		CPUOnline:  func(int32) {},
		CPUOffline: func(int32) {},
	})
	if err := e.c.SetOnline(1, false); err != nil {
		t.Fatal(err)
	}
	p := e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{CPU: 0})
	e.d.Run(10_000_000)
	if sch.ExitKind() != scx.ExitNone || sch.Events().DispatchLocalDSQOffline == 0 {
		t.Fatalf("exit %q, offline events %d", sch.ExitInfo().Msg, sch.Events().DispatchLocalDSQOffline)
	}
	if e.d.Runtime(p) < 5_000_000 || p.CPU() != 0 {
		t.Fatalf("task ran %d on cpu %d", e.d.Runtime(p), p.CPU())
	}
}

// SCX_KICK_WAIT returns only after the target's ext task switched out.
func TestKickWait(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	x := e.x
	e.register(&scx.Ops{Name: "wait",
		SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 { return prev },
		Enqueue: func(p *sched.Task, f uint64) {
			x.DsqInsert(p, scx.DSQLocalOn|uint64(p.CPU()), scx.SliceInf, 0)
		},
	})
	a := e.spawn("a", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(2, 1), CPU: 1})
	e.spawn("b", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(2, 1), CPU: 1})
	e.d.Run(1_000_000)
	if e.c.RQ(1).Curr() != a {
		t.Fatalf("cpu1 runs %s", e.c.RQ(1).Curr())
	}
	n := e.c.RQ(1).NrSwitches
	x.KickCPU(1, scx.KickPreempt|scx.KickWait)
	e.d.Drain()
	if e.c.RQ(1).NrSwitches == n || e.c.RQ(1).Curr() == a {
		t.Fatalf("target did not switch before the kick returned (curr %s)", e.c.RQ(1).Curr())
	}
}

// A scheduler can be loaded again after it was unloaded.
func TestReRegister(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	p := e.spawn("p", schedtest.Behavior{Run: 1_000_000, Sleep: 500_000}, sched.TaskSpec{})
	for i := 0; i < 3; i++ {
		f, sch := newFIFO(e, 0)
		e.d.Run(e.d.Now() + 20_000_000)
		if p.Class() != sched.Class(e.x) || f.Enqueued+f.LocalInserts == 0 {
			t.Fatalf("round %d: class %s", i, p.Class().Name())
		}
		e.x.Unregister(sch)
		e.d.Run(e.d.Now() + 5_000_000)
		if p.Class() != e.c.FairClass() || e.x.State() != scx.Disabled {
			t.Fatalf("round %d: after unregister class %s state %v", i, p.Class().Name(), e.x.State())
		}
	}
}

// The default CPU selection pulls a WF_SYNC wakee to the waker's CPU when
// its previous CPU is busy; a plain wakeup takes an idle CPU.
func TestWakeSync(t *testing.T) {
	for _, sync := range []bool{false, true} {
		t.Run(fmt.Sprint(sync), func(t *testing.T) {
			e := newEnv(t, "1x1x3x1", topo.Linear)
			x := e.x
			e.register(&scx.Ops{Name: "dfl",
				Enqueue: func(p *sched.Task, f uint64) { x.DsqInsert(p, scx.DSQGlobal, 0, 0) }})
			w := e.spawn("wakee", schedtest.Behavior{Run: 1_000_000, Sleep: 10_000_000_000}, sched.TaskSpec{CPUs: mask(3, 0)})
			e.d.Run(2_000_000)
			if w.State() != sched.Sleeping || w.CPU() != 0 {
				t.Fatalf("wakee %v on %d", w.State(), w.CPU())
			}
			_ = e.c.SetAffinity(w, mask(3, 0, 1, 2))
			e.spawn("h0", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(3, 0)})
			e.spawn("h1", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(3, 1)})
			e.d.Run(4_000_000)
			wf := 0
			if sync {
				wf = sched.WFSync
			}
			e.c.WakeFrom(w, wf, 1)
			want := 2
			if sync {
				want = 1
			}
			if w.CPU() != want {
				t.Fatalf("wakee on cpu %d, want %d", w.CPU(), want)
			}
		})
	}
}

// With TraceOps every op call is reported, with the form's op name.
func TestTraceOps(t *testing.T) {
	e := newEnv(t, "1x1x2x2", topo.X86)
	e.x.TraceOps = true
	c := &goscheds.CidFIFO{X: e.x, Arena: newArena(t)}
	e.register(c.Ops("cidfifo"))
	e.spawn("p", schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000}, sched.TaskSpec{})
	e.d.Run(5_000_000)
	seen := map[string]bool{}
	for _, ev := range e.d.Events {
		if ev.Kind == sched.EvExtOp {
			seen[ev.Msg] = true
		}
	}
	for _, op := range []string{"init", "select_cid", "enqueue", "dispatch", "update_idle"} {
		if !seen[op] {
			t.Errorf("no %s op event (saw %v)", op, seen)
		}
	}
}

// A SysRq-D style dump shows the CPUs, the runnable tasks and the dump ops'
// output; a small exit_dump_len truncates it with the kernel's marker.
func TestDebugDump(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	x := e.x
	e.register(&scx.Ops{Name: "dumper", ExitDumpLen: 4096,
		Enqueue:  func(p *sched.Task, f uint64) { x.DsqInsert(p, scx.DSQGlobal, 0, 0) },
		Dump:     func(ctx *scx.DumpCtx) { x.Dump("reason=" + ctx.Reason + "\n") },
		DumpTask: func(ctx *scx.DumpCtx, p *sched.Task) { x.Dump("task " + p.Comm) },
	})
	for i := 0; i < 3; i++ {
		e.spawn(fmt.Sprint("w", i), schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(2, 0)})
	}
	e.d.Run(10_000_000)
	d := x.DebugDump("test")
	for _, want := range []string{"dumper: root", "Debug dump triggered by test", "reason=test", "CPU states",
		"CPU 0   : nr_run=3", "curr=w", "    task w", "Event counters", "SCX_EV_REFILL_SLICE_DFL"} {
		if !strings.Contains(d, want) {
			t.Errorf("dump lacks %q:\n%s", want, d)
		}
	}
	e2 := newEnv(t, "1x1x2x1", topo.Linear)
	e2.register(&scx.Ops{Name: "small", ExitDumpLen: 200})
	// exit_dump_len counts the terminating NUL: 199 characters are left.
	if d := e2.x.DebugDump("x"); len(d) != 199 || !strings.HasSuffix(d, "~~~~ TRUNCATED ~~~~\n") {
		t.Fatalf("truncated dump (%d bytes): %q", len(d), d)
	}
}

// Per-node idle tracking and per-node global DSQs.
func TestPerNode(t *testing.T) {
	e := newEnv(t, "2x1x2x1", topo.Linear) // node 0: cpus 0-1, node 1: cpus 2-3
	x := e.x
	sch := e.register(&scx.Ops{Name: "node", Flags: scx.OpsBuiltinIdlePerNode,
		SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 { return prev },
		Enqueue:   func(p *sched.Task, f uint64) { x.DsqInsert(p, scx.DSQGlobal, 0, 0) },
	})
	e.d.Run(1_000_000)
	if n0, n1 := x.GetIdleCPUMaskNode(0).String(), x.GetIdleCPUMaskNode(1).String(); n0 != "0-1" || n1 != "2-3" {
		t.Fatalf("node masks %s / %s", n0, n1)
	}
	all := mask(4, 0, 1, 2, 3)
	if c := x.PickIdleCPUNode(all, 1, scx.PickIdleInNode); c != 2 && c != 3 {
		t.Fatalf("pick in node 1: %d", c)
	}
	if x.CPUNode(3) != 1 || x.NrNodeIDs() != 2 {
		t.Fatal("cpu_node / nr_node_ids")
	}
	// A task queued on node 1's global DSQ runs on a node-1 CPU.
	p := e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{CPU: 3})
	e.d.Run(5_000_000)
	if p.CPU() < 2 {
		t.Fatalf("task from node 1's global DSQ ran on cpu %d", p.CPU())
	}
	if sch.ExitKind() != scx.ExitNone {
		t.Fatal(sch.ExitInfo().Msg)
	}
	x.GetIdleCPUMask()
	e.d.Drain()
	if sch.ExitInfo().Msg != "SCX_OPS_BUILTIN_IDLE_PER_NODE enabled" {
		t.Fatalf("global idle mask with per-node tracking: %q", sch.ExitInfo().Msg)
	}
}
