package scx_test

import (
	"fmt"
	"strings"
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

// A re-enqueued task carries the reason in p->scx.flags
// (SCX_TASK_REENQ_REASON_MASK) while ops.enqueue() sees it with
// SCX_ENQ_REENQ: KFUNC for scx_bpf_dsq_reenq(), IMMED for an SCX_ENQ_IMMED
// task that could not run at once, PREEMPTED for a running IMMED task a
// higher class took the CPU from. A fresh enqueue has no reason.
func TestReenqReason(t *testing.T) {
	cases := []struct {
		name string
		want uint32
	}{
		{"kfunc", scx.TaskReenqKfunc},
		{"immed", scx.TaskReenqImmed},
		{"preempted", scx.TaskReenqPreempted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "1x1x2x1", topo.Linear)
			x := e.x
			var reasons []uint32
			var fresh []uint32
			o := &scx.Ops{Name: "reason",
				SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 { return 0 },
				Enqueue: func(p *sched.Task, f uint64) {
					r := scx.EntityOf(p).Flags() & scx.TaskReenqReasonMask
					if f&scx.EnqReenq == 0 {
						fresh = append(fresh, r)
					} else {
						reasons = append(reasons, r)
						x.DsqInsert(p, scx.DSQGlobal, 0, 0)
						return
					}
					switch {
					case c.name == "kfunc":
						x.DsqInsert(p, scx.DSQLocalOn|0, scx.SliceInf, 0)
					case p.Comm == "hog":
						x.DsqInsert(p, scx.DSQLocalOn|0, scx.SliceInf, scx.EnqImmed)
					default:
						x.DsqInsert(p, scx.DSQLocalOn|0, 0, scx.EnqImmed)
					}
				},
			}
			if c.name == "kfunc" {
				o.Tick = func(p *sched.Task) { x.DsqReenq(scx.DSQLocal, 0) }
			}
			if c.name == "preempted" {
				o.Flags = scx.OpsSwitchPartial
			}
			e.register(o)
			e.spawn("hog", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(2, 0), Policy: sched.PolicyExt})
			e.d.Run(1_000_000)
			switch c.name {
			case "preempted":
				e.spawn("fair", schedtest.Behavior{Run: 1_000_000, Exit: true}, sched.TaskSpec{CPUs: mask(2, 0)})
			default:
				e.spawn("waiter", schedtest.Behavior{}, sched.TaskSpec{CPU: 0, Policy: sched.PolicyExt})
			}
			e.d.Run(10_000_000)
			if len(reasons) == 0 || reasons[0] != c.want {
				t.Fatalf("reenqueue reasons %#x, want %#x first", reasons, c.want)
			}
			for _, r := range fresh {
				if r != 0 {
					t.Fatalf("fresh enqueue with reason %#x", r)
				}
			}
		})
	}
}

// A higher class waking on a CPU tells the class the CPU was about to run
// that it is preempted (wakeup_preempt() calls rq->next_class's hook):
// SCX_ENQ_IMMED tasks waiting in that CPU's local DSQ go back to
// ops.enqueue() instead of waiting behind the higher-class task.
// scx_qmap relies on this with SCX_OPS_ALWAYS_ENQ_IMMED.
func TestImmedReenqOnHigherClassWakeup(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	x := e.x
	var reasons []uint32
	e.register(&scx.Ops{Name: "immed", Flags: scx.OpsSwitchPartial | scx.OpsAlwaysEnqImmed,
		SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 { return 0 },
		Enqueue: func(p *sched.Task, f uint64) {
			if f&scx.EnqReenq != 0 {
				reasons = append(reasons, scx.EntityOf(p).Flags()&scx.TaskReenqReasonMask)
				x.DsqInsert(p, scx.DSQLocalOn|1, 0, 0)
				return
			}
			x.DsqInsert(p, scx.DSQLocalOn|0, 0, 0)
		},
	})
	e.d.Run(1_000_000)
	// Both wake before CPU 0 gets to schedule.
	w := e.spawn("immed", schedtest.Behavior{}, sched.TaskSpec{CPU: 0, Policy: sched.PolicyExt})
	e.spawn("fairhog", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(2, 0)})
	e.d.Run(20_000_000)
	if len(reasons) == 0 || reasons[0] != scx.TaskReenqImmed {
		t.Fatalf("reenqueue reasons %#x, want IMMED", reasons)
	}
	if w.CPU() != 1 || e.d.Runtime(w) < 15_000_000 {
		t.Fatalf("IMMED task on cpu %d ran %d ns", w.CPU(), e.d.Runtime(w))
	}
}

// scx_bpf_task_cgroup() accepts only the task the current op operates on
// (current->scx.kf_tasks[]), which only the ops the kernel calls through
// SCX_CALL_OP_TASK*() record: not ops.init_task(), ops.dispatch()'s prev,
// ops.cgroup_prep_move() or ops.dump_task().
func TestTaskCgroupArgTask(t *testing.T) {
	cases := []struct {
		op      string
		wantErr bool
	}{
		{"enqueue", false},
		{"running", false},
		{"init_task", true},
		{"dispatch", true},
	}
	for _, c := range cases {
		t.Run(c.op, func(t *testing.T) {
			e := newEnv(t, "1x1x1x1", topo.Linear)
			x := e.x
			var got *sched.Cgroup
			use := func(p *sched.Task) {
				if p != nil && p.Comm == "t" {
					got = x.TaskCgroup(p)
				}
			}
			o := &scx.Ops{Name: "cg",
				Enqueue: func(p *sched.Task, f uint64) {
					if c.op == "enqueue" {
						use(p)
					}
					x.DsqInsert(p, userDSQ, 1_000_000, 0)
				},
				Running: func(p *sched.Task) {
					if c.op == "running" {
						use(p)
					}
				},
				Dispatch: func(cpu int32, prev *sched.Task) {
					if c.op == "dispatch" {
						use(prev)
					}
					x.DsqMoveToLocal(userDSQ, 0)
				},
				Init: func() int32 { return x.CreateDSQ(userDSQ, -1) },
				InitTask: func(p *sched.Task, a scx.InitTaskArgs) int32 {
					if c.op == "init_task" {
						use(p)
					}
					return 0
				},
			}
			sch := e.register(o)
			cg, err := e.c.NewCgroup(nil, "g")
			if err != nil {
				t.Fatal(err)
			}
			e.spawn("t", schedtest.Behavior{}, sched.TaskSpec{Cgroup: cg})
			e.spawn("u", schedtest.Behavior{}, sched.TaskSpec{})
			e.d.Run(20_000_000)
			msg := sch.ExitInfo().Msg
			if c.wantErr {
				if msg != "called on a task not being operated on" {
					t.Fatalf("exit %q, want the kf_tasks error", msg)
				}
				return
			}
			if sch.ExitKind() != scx.ExitNone || got != cg {
				t.Fatalf("exit %q, cgroup %v", msg, got)
			}
		})
	}
}

// The idle kfuncs check the idle-tracking mode as the kernel does, with its
// words and return values: the global pickers refuse per-node tracking, the
// _node variants need it (validate_node()), NUMA_NO_NODE is -ENOENT and an
// invalid node -EINVAL.
func TestIdleKfuncModeChecks(t *testing.T) {
	all := mask(4, 0, 1, 2, 3)
	cases := []struct {
		name    string
		perNode bool
		call    func(x *scx.Ext) int32
		ret     int32
		msg     string
	}{
		{"pick_any_cpu_node without per-node", false, func(x *scx.Ext) int32 { return x.PickAnyCPUNode(all, 0, 0) },
			-95, "per-node idle tracking is disabled"},
		{"pick_idle_cpu_node without per-node", false, func(x *scx.Ext) int32 { return x.PickIdleCPUNode(all, 0, 0) },
			-95, "per-node idle tracking is disabled"},
		{"pick_idle_cpu with per-node", true, func(x *scx.Ext) int32 { return x.PickIdleCPU(all, 0) },
			-16, "per-node idle tracking is enabled"},
		{"pick_any_cpu with per-node", true, func(x *scx.Ext) int32 { return x.PickAnyCPU(all, 0) },
			-16, "per-node idle tracking is enabled"},
		{"pick_idle_cpu_node invalid node", true, func(x *scx.Ext) int32 { return x.PickIdleCPUNode(all, 5, 0) },
			-22, "invalid node 5"},
		{"pick_any_cpu_node invalid node", true, func(x *scx.Ext) int32 { return x.PickAnyCPUNode(all, 7, 0) },
			-22, "invalid node 7"},
		{"pick_any_cpu_node NUMA_NO_NODE", true, func(x *scx.Ext) int32 { return x.PickAnyCPUNode(all, -1, 0) },
			-2, ""},
		{"pick_idle_cpu_node in node", true, func(x *scx.Ext) int32 { return x.PickIdleCPUNode(mask(4, 3), 1, scx.PickIdleInNode) },
			3, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "2x1x2x1", topo.Linear)
			x := e.x
			var flags uint64
			if c.perNode {
				flags = scx.OpsBuiltinIdlePerNode
			}
			sch := e.register(&scx.Ops{Name: "idle", Flags: flags})
			e.d.Run(1_000_000)
			if got := c.call(x); got != c.ret {
				t.Fatalf("returned %d, want %d", got, c.ret)
			}
			e.d.Drain()
			if got := sch.ExitInfo().Msg; got != c.msg {
				t.Fatalf("exit %q, want %q", got, c.msg)
			}
		})
	}
}

// yield_to() only offers a queued task that is not running to the class:
// ops.yield() is not called for a target running on another CPU.
func TestYieldToRunningTarget(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	x := e.x
	var yields []string
	e.register(&scx.Ops{Name: "yt",
		Enqueue: func(p *sched.Task, f uint64) { x.DsqInsert(p, scx.DSQGlobal, scx.SliceInf, 0) },
		Yield: func(from, to *sched.Task) bool {
			if to != nil {
				yields = append(yields, from.Comm+"->"+to.Comm)
			}
			return true
		},
	})
	a := e.spawn("a", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(2, 0)})
	b := e.spawn("b", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(2, 1)})
	c := e.spawn("c", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(2, 0)})
	e.d.Run(5_000_000)
	if e.c.RQ(0).Curr() != a || e.c.RQ(1).Curr() != b {
		t.Fatalf("cpu0 runs %s, cpu1 runs %s", e.c.RQ(0).Curr(), e.c.RQ(1).Curr())
	}
	if ok, err := e.c.YieldTo(a, b); ok || err != nil {
		t.Fatalf("yield_to a running task: %v %v", ok, err)
	}
	if ok, err := e.c.YieldTo(a, c); !ok || err != nil {
		t.Fatalf("yield_to a queued task: %v %v", ok, err)
	}
	if want := []string{"a->c"}; fmt.Sprint(yields) != fmt.Sprint(want) {
		t.Fatalf("ops.yield calls %v, want %v", yields, want)
	}
}

// With SCX_OPS_ENQ_LAST the last task is handed to ops.enqueue() from
// put_prev_task_scx(), while the CPU is already switching to idle: an insert
// into the local DSQ there does not reschedule the CPU (rq->next_class is
// still ext), so a scheduler that does not kick stalls the task until the
// watchdog fires, as in the kernel.
func TestEnqLastNeedsKick(t *testing.T) {
	for _, kick := range []bool{false, true} {
		t.Run(fmt.Sprintf("kick=%v", kick), func(t *testing.T) {
			e := newEnv(t, "1x1x1x1", topo.Linear)
			x := e.x
			sch := e.register(&scx.Ops{Name: "last", Flags: scx.OpsEnqLast, TimeoutMS: 100,
				Enqueue: func(p *sched.Task, f uint64) {
					x.DsqInsert(p, scx.DSQLocal, 1_000_000, 0)
					if f&scx.EnqLast != 0 && kick {
						x.KickCPU(x.ThisCPU(), 0)
					}
				},
			})
			p := e.spawn("lone", schedtest.Behavior{}, sched.TaskSpec{})
			e.d.Run(300_000_000)
			ei := sch.ExitInfo()
			if kick {
				if sch.ExitKind() != scx.ExitNone || e.d.Runtime(p) < 250_000_000 {
					t.Fatalf("exit %q, ran %d", ei.Msg, e.d.Runtime(p))
				}
				return
			}
			if ei.Kind != scx.ExitErrorStall || !strings.HasPrefix(ei.Msg, "lone[") {
				t.Fatalf("exit %+v, want a stall of the un-kicked last task", ei)
			}
		})
	}
}

// ExitInfo.Report() prints what UEI_REPORT() prints: a blank line before
// the DEBUG DUMP banner, the dump between rules, then the EXIT line.
func TestReportFormat(t *testing.T) {
	cases := []struct {
		ei   scx.ExitInfo
		want string
	}{
		{scx.ExitInfo{Reason: "unregistered from user space"}, "EXIT: unregistered from user space\n"},
		{scx.ExitInfo{Reason: "runtime error", Msg: "boom", Dump: "d1\nd2"},
			"\nDEBUG DUMP\n" + strings.Repeat("=", 80) + "\n\nd1\nd2\n" + strings.Repeat("=", 80) + "\n\nEXIT: runtime error (boom)\n"},
	}
	for _, c := range cases {
		if got := c.ei.Report(); got != c.want {
			t.Errorf("Report() = %q, want %q", got, c.want)
		}
	}
}

// sched_setscheduler() reweights the task in its current class
// (set_load_weight(p, true) in __setscheduler_params()): an ext task turned
// SCHED_IDLE gets ops.set_weight() with the idle weight, and one leaving
// ext in partial mode gets ops.set_weight() before ops.disable().
func TestSetPolicyReweights(t *testing.T) {
	cases := []struct {
		name  string
		flags uint64
		from  sched.Policy
		to    sched.Policy
		want  []string
	}{
		{"normal to idle", 0, sched.PolicyNormal, sched.PolicyIdle, []string{"set_weight 1"}},
		{"idle to batch", 0, sched.PolicyIdle, sched.PolicyBatch, []string{"set_weight 100"}},
		{"ext to normal, partial", scx.OpsSwitchPartial, sched.PolicyExt, sched.PolicyNormal,
			[]string{"set_weight 100", "disable"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "1x1x1x1", topo.Linear)
			x := e.x
			var log []string
			rec := false
			e.register(&scx.Ops{Name: "rw", Flags: c.flags,
				Enqueue: func(p *sched.Task, f uint64) { x.DsqInsert(p, scx.DSQGlobal, 0, 0) },
				SetWeight: func(p *sched.Task, w uint32) {
					if rec {
						log = append(log, fmt.Sprintf("set_weight %d", w))
					}
				},
				Disable: func(p *sched.Task) {
					if rec {
						log = append(log, "disable")
					}
				},
			})
			p := e.spawn("p", schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000}, sched.TaskSpec{Policy: c.from})
			e.d.Run(2_500_000)
			rec = true
			if err := e.c.SetPolicy(p, c.to); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(log) != fmt.Sprint(c.want) {
				t.Fatalf("ops %v, want %v", log, c.want)
			}
			if c.to != sched.PolicyNormal && scx.EntityOf(p).Weight != weightOf(c.want[0]) {
				t.Fatalf("p->scx.weight %d", scx.EntityOf(p).Weight)
			}
		})
	}
}

func weightOf(s string) uint32 {
	var w uint32
	fmt.Sscanf(s, "set_weight %d", &w)
	return w
}

// scx_bpf_dsq_reenq() vets its flags and resolves the DSQ before
// schedule_dsq_reenq() drops the request while bypassing: bad arguments
// from ops.init_task() (run in bypass mode while enabling) still fail the
// scheduler.
func TestDsqReenqChecksWhileBypassing(t *testing.T) {
	cases := []struct {
		name  string
		dsq   uint64
		flags uint64
		msg   string
	}{
		{"bad flags", userDSQ, 2, "invalid SCX_REENQ flags 0x2"},
		{"unknown dsq", 99, 0, "non-existent DSQ 0x63"},
		{"fine", userDSQ, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "1x1x1x1", topo.Linear)
			x := e.x
			e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{})
			e.d.Run(1_000_000)
			sch := e.register(&scx.Ops{Name: "reenq",
				Init:     func() int32 { return x.CreateDSQ(userDSQ, -1) },
				InitTask: func(p *sched.Task, a scx.InitTaskArgs) int32 { x.DsqReenq(c.dsq, c.flags); return 0 },
			})
			if got := sch.ExitInfo().Msg; got != c.msg {
				t.Fatalf("exit %q, want %q", got, c.msg)
			}
		})
	}
}

// exit_dump_len sizes a NUL-terminated buffer: a dump fits when it is
// shorter than it, and one that does not keeps exit_dump_len-1 characters
// ending with the truncation marker (none below the marker's size).
func TestDumpLenBoundary(t *testing.T) {
	dump := func(n uint32) string {
		e := newEnv(t, "1x1x2x1", topo.Linear)
		e.register(&scx.Ops{Name: "d", ExitDumpLen: n})
		return e.x.DebugDump("x")
	}
	full := dump(1 << 20)
	l := uint32(len(full))
	const marker = "\n\n~~~~ TRUNCATED ~~~~\n"
	cases := []struct {
		n    uint32
		want string
	}{
		{l + 1, full},
		{l, full[:l-1-uint32(len(marker))] + marker},
		{10, full[:9]},
	}
	for _, c := range cases {
		if got := dump(c.n); got != c.want {
			t.Errorf("exit_dump_len %d: %d bytes %q, want %d bytes", c.n, len(got), got[max(0, len(got)-30):], len(c.want))
		}
	}
}

// Without a scheduler the kfuncs that resolve one return -ENODEV
// (scx_prog_sched() finds none); argument errors come first for
// scx_bpf_create_dsq().
func TestKfuncsWithoutScheduler(t *testing.T) {
	e := newEnv(t, "1x1x1x1", topo.Linear)
	x := e.x
	var it scx.DSQIter
	got := []int32{x.CreateDSQ(1, -1), x.CreateDSQ(scx.DSQGlobal, -1), x.CreateDSQ(1, 9),
		x.DsqNrQueued(1), x.IterNew(&it, 1, 0)}
	want := []int32{-19, -22, -22, -19, -19}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("returns %v, want %v", got, want)
	}
}

// A running task that must leave its CPU (its affinity no longer includes
// it, or the CPU goes offline) is preempted by the stopper first: the
// scheduler sees ops.stopping() with runnable=true, then the task is
// enqueued on another CPU without ops.quiescent()/ops.runnable() (a
// migration). The affinity change itself cycles the running task through
// dequeue/enqueue (stopping false, quiescent, runnable, running) first.
func TestRunningTaskMigrationStopping(t *testing.T) {
	cases := []struct {
		name string
		move func(e *env, p *sched.Task) error
		want []string
	}{
		{"affinity", func(e *env, p *sched.Task) error { return e.c.SetAffinity(p, mask(2, 1)) },
			[]string{"stopping false", "quiescent", "runnable", "running cpu0", "stopping true", "enqueue cpu1", "running cpu1"}},
		{"offline", func(e *env, p *sched.Task) error { return e.c.SetOnline(0, false) },
			[]string{"stopping true", "enqueue cpu1", "running cpu1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "1x1x2x1", topo.Linear)
			x := e.x
			var log []string
			rec := false
			r := func(f string, a ...any) {
				if rec {
					log = append(log, fmt.Sprintf(f, a...))
				}
			}
			sch := e.register(&scx.Ops{Name: "mig",
				SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 { return 0 },
				Enqueue: func(p *sched.Task, f uint64) {
					r("enqueue cpu%d", p.CPU())
					x.DsqInsert(p, scx.DSQGlobal, 0, 0)
				},
				Stopping:   func(p *sched.Task, runnable bool) { r("stopping %v", runnable) },
				Quiescent:  func(p *sched.Task, f uint64) { r("quiescent") },
				Runnable:   func(p *sched.Task, f uint64) { r("runnable") },
				Running:    func(p *sched.Task) { r("running cpu%d", p.CPU()) },
				CPUOnline:  func(cpu int32) {},
				CPUOffline: func(cpu int32) {},
			})
			p := e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{CPU: 0})
			e.d.Run(2_000_000)
			if e.c.RQ(0).Curr() != p {
				t.Fatalf("cpu0 runs %s", e.c.RQ(0).Curr())
			}
			rec = true
			if err := c.move(e, p); err != nil {
				t.Fatal(err)
			}
			e.d.Run(3_000_000)
			if fmt.Sprint(log) != fmt.Sprint(c.want) || sch.ExitKind() != scx.ExitNone {
				t.Fatalf("ops %v, want %v (exit %q)", log, c.want, sch.ExitInfo().Msg)
			}
		})
	}
}

// ops.cgroup_init() failing while the scheduler is enabled is reported
// with the value it returned (scx_cgroup_init() does not sanitize it).
func TestCgroupInitFailureMessage(t *testing.T) {
	for _, ret := range []int32{-12, 5} {
		t.Run(fmt.Sprint(ret), func(t *testing.T) {
			e := newEnv(t, "1x1x1x1", topo.Linear)
			sch := e.register(&scx.Ops{Name: "cg",
				CgroupInit: func(cg *sched.Cgroup, a scx.CgroupInitArgs) int32 { return ret },
			})
			if want := fmt.Sprintf("ops.cgroup_init() failed (%d)", ret); sch.ExitInfo().Msg != want {
				t.Fatalf("exit %q, want %q", sch.ExitInfo().Msg, want)
			}
		})
	}
}
