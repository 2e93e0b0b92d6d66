package scx_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/topo"
)

const userDSQ = 7

// order runs tasks a..d pinned to one CPU under a scheduler built by mk and
// returns the order they first ran in.
func firstRunOrder(e *env, names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range e.switches(0) {
		if slices.Contains(names, n) && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Tasks queued on a vtime DSQ are dispatched in vtime order, FIFO ones in
// insertion order, HEAD inserts first.
func TestDSQOrdering(t *testing.T) {
	type insert func(x *scx.Ext, p *sched.Task, idx int)
	vt := map[string]uint64{"a": 30, "b": 10, "c": 20, "d": 10}
	cases := []struct {
		name string
		ins  insert
		want []string
	}{
		{"fifo", func(x *scx.Ext, p *sched.Task, i int) { x.DsqInsert(p, userDSQ, 0, 0) }, []string{"a", "b", "c", "d"}},
		{"vtime", func(x *scx.Ext, p *sched.Task, i int) { x.DsqInsertVtime(p, userDSQ, 0, vt[p.Comm], 0) },
			[]string{"b", "d", "c", "a"}},
		{"head", func(x *scx.Ext, p *sched.Task, i int) { x.DsqInsert(p, userDSQ, 0, scx.EnqHead) },
			[]string{"d", "c", "b", "a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "1x1x1x1", topo.Linear)
			x := e.x
			hold := true
			n := 0
			e.register(&scx.Ops{Name: "order",
				Enqueue: func(p *sched.Task, f uint64) { c.ins(x, p, n); n++ },
				Dispatch: func(cpu int32, prev *sched.Task) {
					if !hold {
						x.DsqMoveToLocal(userDSQ, 0)
					}
				},
				Init: func() int32 { return x.CreateDSQ(userDSQ, -1) },
			})
			names := []string{"a", "b", "c", "d"}
			for _, nm := range names {
				e.spawn(nm, schedtest.Behavior{Run: 1_000_000, Exit: true}, sched.TaskSpec{})
			}
			e.d.Run(1_000_000)
			hold = false
			e.c.Schedule(0)
			e.d.Run(50_000_000)
			if got := firstRunOrder(e, names); !slices.Equal(got, c.want) {
				t.Fatalf("run order %v, want %v", got, c.want)
			}
		})
	}
}

// Errors the kernel detects in dispatch verdicts eject the scheduler with
// its message, and every task goes on running under the fair class.
func TestDispatchErrors(t *testing.T) {
	cases := []struct {
		name string
		enq  func(x *scx.Ext, p *sched.Task)
		msg  string
	}{
		{"non-existent DSQ", func(x *scx.Ext, p *sched.Task) { x.DsqInsert(p, 12345, 0, 0) }, "non-existent DSQ 0x3039"},
		{"vtime on builtin", func(x *scx.Ext, p *sched.Task) { x.DsqInsertVtime(p, scx.DSQGlobal, 0, 1, 0) },
			"cannot use vtime ordering for built-in DSQs"},
		{"mixing fifo into vtime", func(x *scx.Ext, p *sched.Task) {
			if p.Comm == "t0" {
				x.DsqInsertVtime(p, userDSQ, 0, 5, 0)
			} else {
				x.DsqInsert(p, userDSQ, 0, 0)
			}
		}, "DSQ ID 0x0000000000000007 already had PRIQ-enqueued tasks"},
		{"mixing vtime into fifo", func(x *scx.Ext, p *sched.Task) {
			if p.Comm == "t0" {
				x.DsqInsert(p, userDSQ, 0, 0)
			} else {
				x.DsqInsertVtime(p, userDSQ, 0, 5, 0)
			}
		}, "DSQ ID 0x0000000000000007 already had FIFO-enqueued tasks"},
		{"local_on not allowed", func(x *scx.Ext, p *sched.Task) { x.DsqInsert(p, scx.DSQLocalOn|1, 0, 0) },
			"SCX_DSQ_LOCAL[_ON] target CPU 1 not allowed for t"},
		{"local_on invalid cpu", func(x *scx.Ext, p *sched.Task) { x.DsqInsert(p, scx.DSQLocalOn|99, 0, 0) },
			"invalid CPU 99 in SCX_DSQ_LOCAL_ON dispatch verdict"},
		{"internal enq flag", func(x *scx.Ext, p *sched.Task) { x.DsqInsert(p, scx.DSQGlobal, 0, 1<<60) },
			"invalid enq_flags 0x1000000000000000"},
		{"wrong task", func(x *scx.Ext, p *sched.Task) {
			x.DsqInsert(p, scx.DSQGlobal, 0, 0)
			x.DsqInsert(p, scx.DSQGlobal, 0, 0)
		}, "already direct-dispatched"},
		{"scx_bpf_error", func(x *scx.Ext, p *sched.Task) { x.Error("boom from " + p.Comm) }, "boom from t"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "1x1x2x1", topo.Linear)
			x := e.x
			dumped := false
			sch := e.register(&scx.Ops{Name: "bad",
				Enqueue: func(p *sched.Task, f uint64) {
					if p.Comm[0] == 't' {
						c.enq(x, p)
						return
					}
					x.DsqInsert(p, scx.DSQGlobal, 0, 0)
				},
				Dump: func(ctx *scx.DumpCtx) { dumped = true; x.Dump("custom dump line\n") },
				Init: func() int32 { return x.CreateDSQ(userDSQ, -1) },
			})
			var ts []*sched.Task
			for i := 0; i < 3; i++ {
				ts = append(ts, e.spawn(fmt.Sprintf("t%d", i), schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(2, 0)}))
			}
			e.d.Run(100_000_000)
			ei := sch.ExitInfo()
			if sch.ExitKind() != scx.ExitDone || !strings.Contains(ei.Msg, c.msg) {
				t.Fatalf("exit kind %d msg %q, want %q", sch.ExitKind(), ei.Msg, c.msg)
			}
			wantKind := scx.ExitError
			if c.name == "scx_bpf_error" {
				wantKind = scx.ExitErrorBPF
			}
			if ei.Kind != wantKind {
				t.Fatalf("kind %d, want %d", ei.Kind, wantKind)
			}
			if !dumped || !strings.Contains(ei.Dump, "custom dump line") || !strings.Contains(ei.Dump, ei.Msg) {
				t.Fatalf("dump lacks ops.dump output or message:\n%s", ei.Dump)
			}
			if !e.logHas(`sched_ext: BPF scheduler "bad" disabled (` + ei.Reason + `)`) {
				t.Fatalf("log %q", e.x.Log())
			}
			if e.x.State() != scx.Disabled {
				t.Fatalf("state %v", e.x.State())
			}
			before := make([]uint64, len(ts))
			for i, p := range ts {
				before[i] = e.d.Runtime(p)
			}
			e.d.Run(400_000_000)
			for i, p := range ts {
				if p.Class() != e.c.FairClass() {
					t.Fatalf("%s left in class %s", p, p.Class().Name())
				}
				if e.d.Runtime(p)-before[i] < 50_000_000 {
					t.Fatalf("%s did not run after ejection", p)
				}
			}
		})
	}
}

// The dispatch buffer holds dispatch_max_batch inserts.
func TestDispatchBatchLimit(t *testing.T) {
	for _, batch := range []uint32{1, 2, 4} {
		t.Run(fmt.Sprint(batch), func(t *testing.T) {
			e := newEnv(t, "1x1x1x1", topo.Linear)
			x := e.x
			var q []*sched.Task
			slots := []uint32{}
			sch := e.register(&scx.Ops{Name: "batch", DispatchMaxBatch: batch,
				Enqueue: func(p *sched.Task, f uint64) { q = append(q, p) },
				Dispatch: func(cpu int32, prev *sched.Task) {
					slots = append(slots, x.DispatchNrSlots())
					n := uint32(len(q))
					if len(q) > 3 {
						n = 3
					}
					for _, p := range q[:n] {
						x.DsqInsert(p, scx.DSQLocal, 0, 0)
					}
					q = q[n:]
				},
			})
			for i := 0; i < 6; i++ {
				e.spawn("t", schedtest.Behavior{}, sched.TaskSpec{})
			}
			e.d.Run(100_000_000)
			overflow := batch < 3
			got := strings.Contains(sch.ExitInfo().Msg, "dispatch buffer overflow")
			if got != overflow {
				t.Fatalf("batch %d: overflow=%v, exit %q", batch, got, sch.ExitInfo().Msg)
			}
			if slots[0] != batch {
				t.Fatalf("nr_slots %d, want %d", slots[0], batch)
			}
		})
	}
}

// The default slice, infinite slices and slice expiry.
func TestSlices(t *testing.T) {
	cases := []struct {
		name      string
		slice     uint64
		wantSwaps bool
	}{
		{"5ms", 5_000_000, true},
		{"inf", scx.SliceInf, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "1x1x1x1", topo.Linear)
			x := e.x
			e.register(&scx.Ops{Name: "slice",
				Enqueue: func(p *sched.Task, f uint64) { x.DsqInsert(p, scx.DSQGlobal, c.slice, 0) },
			})
			e.spawn("a", schedtest.Behavior{}, sched.TaskSpec{})
			e.spawn("b", schedtest.Behavior{}, sched.TaskSpec{})
			e.d.Run(100_000_000)
			sw := e.switches(0)
			n := 0
			for _, s := range sw {
				if s == "a" || s == "b" {
					n++
				}
			}
			if c.wantSwaps && n < 10 { // 5 ms slices expire at 4 ms ticks: every 8 ms
				t.Fatalf("only %d switches with a %s slice: %v", n, c.name, sw)
			}
			if !c.wantSwaps && n != 1 {
				t.Fatalf("%d switches with an infinite slice: %v", n, sw)
			}
		})
	}
}

// Without SCX_OPS_ENQ_LAST a lone task keeps running past its slice; with
// it, it is re-enqueued with SCX_ENQ_LAST.
func TestEnqLast(t *testing.T) {
	for _, last := range []bool{false, true} {
		t.Run(fmt.Sprint(last), func(t *testing.T) {
			e := newEnv(t, "1x1x1x1", topo.Linear)
			x := e.x
			var flags uint64
			if last {
				flags = scx.OpsEnqLast
			}
			sawLast := 0
			sch := e.register(&scx.Ops{Name: "last", Flags: flags,
				Enqueue: func(p *sched.Task, f uint64) {
					x.DsqInsert(p, scx.DSQLocal, 1_000_000, 0)
					if f&scx.EnqLast != 0 {
						// The scheduler owes the follow-up scheduling event.
						sawLast++
						x.KickCPU(x.ThisCPU(), 0)
					}
				},
			})
			p := e.spawn("lone", schedtest.Behavior{}, sched.TaskSpec{})
			e.d.Run(50_000_000)
			if last && sawLast == 0 {
				t.Fatal("no SCX_ENQ_LAST enqueue")
			}
			if !last && (sawLast != 0 || sch.Events().DispatchKeepLast == 0) {
				t.Fatalf("ENQ_LAST seen %d, keep-last %d", sawLast, sch.Events().DispatchKeepLast)
			}
			if e.d.Runtime(p) < 45_000_000 {
				t.Fatalf("lone task ran %d", e.d.Runtime(p))
			}
		})
	}
}

// SCX_ENQ_PREEMPT into a busy CPU's local DSQ preempts its task at once.
func TestPreemptInsert(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	x := e.x
	e.register(&scx.Ops{Name: "preempt",
		SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 { return 0 },
		Enqueue: func(p *sched.Task, f uint64) {
			if p.Comm == "urgent" {
				x.DsqInsert(p, scx.DSQLocalOn|0, scx.SliceDfl, scx.EnqPreempt)
				return
			}
			x.DsqInsert(p, scx.DSQGlobal, scx.SliceInf, 0)
		},
	})
	e.spawn("hog", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(2, 0)})
	e.d.Run(10_000_000)
	u := e.spawn("urgent", schedtest.Behavior{Run: 1_000_000, Sleep: 50_000_000}, sched.TaskSpec{CPU: 0})
	start := e.d.Now()
	e.d.Run(start + 100_000)
	if e.c.RQ(0).Curr() != u {
		t.Fatalf("cpu0 runs %s, want urgent", e.c.RQ(0).Curr())
	}
}

// Kicks: SCX_KICK_PREEMPT zeroes the victim's slice, SCX_KICK_IDLE only
// wakes an idle CPU.
func TestKick(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	x := e.x
	e.register(&scx.Ops{Name: "kick",
		Enqueue: func(p *sched.Task, f uint64) { x.DsqInsert(p, scx.DSQGlobal, scx.SliceInf, 0) },
	})
	a := e.spawn("a", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(2, 0)})
	b := e.spawn("b", schedtest.Behavior{}, sched.TaskSpec{CPUs: mask(2, 0)})
	e.d.Run(10_000_000)
	cur := e.c.RQ(0).Curr()
	if cur != a && cur != b {
		t.Fatalf("cpu0 runs %s", cur)
	}
	e.x.KickCPU(0, scx.KickIdle)
	e.d.Run(20_000_000)
	if e.c.RQ(0).Curr() != cur {
		t.Fatal("SCX_KICK_IDLE preempted a busy CPU")
	}
	e.x.KickCPU(0, scx.KickPreempt)
	e.d.Run(30_000_000)
	if e.c.RQ(0).Curr() == cur {
		t.Fatal("SCX_KICK_PREEMPT did not switch tasks")
	}
}

// Iterating a DSQ and moving a chosen task to the local DSQ.
func TestIterMove(t *testing.T) {
	e := newEnv(t, "1x1x1x1", topo.Linear)
	x := e.x
	hold := true
	e.register(&scx.Ops{Name: "iter",
		Enqueue: func(p *sched.Task, f uint64) { x.DsqInsert(p, userDSQ, 0, 0) },
		Dispatch: func(cpu int32, prev *sched.Task) {
			if hold {
				return
			}
			var it scx.DSQIter
			if x.IterNew(&it, userDSQ, scx.DSQIterRev) != 0 {
				t.Error("iter_new failed")
				return
			}
			defer it.Destroy()
			for p := it.Next(); p != nil; p = it.Next() {
				x.DsqMoveSetSlice(&it, 2_000_000)
				if x.DsqMove(&it, p, scx.DSQLocal, 0) {
					return
				}
			}
		},
		Init: func() int32 { return x.CreateDSQ(userDSQ, -1) },
	})
	names := []string{"a", "b", "c"}
	for _, n := range names {
		e.spawn(n, schedtest.Behavior{Run: 1_000_000, Exit: true}, sched.TaskSpec{})
	}
	e.d.Run(1_000_000)
	if n := e.x.DsqNrQueued(userDSQ); n != 3 {
		t.Fatalf("nr_queued %d", n)
	}
	hold = false
	e.c.Schedule(0)
	e.d.Run(50_000_000)
	if got := firstRunOrder(e, names); !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Fatalf("order %v", got)
	}
}

// create/destroy DSQ return codes and errors.
func TestCreateDestroyDSQ(t *testing.T) {
	e := newEnv(t, "1x1x1x1", topo.Linear)
	x := e.x
	var rc []int32
	sch := e.register(&scx.Ops{Name: "dsq",
		Init: func() int32 {
			rc = append(rc, x.CreateDSQ(1, -1), x.CreateDSQ(1, -1), x.CreateDSQ(scx.DSQGlobal, -1), x.CreateDSQ(2, 5))
			x.DestroyDSQ(1)
			rc = append(rc, x.CreateDSQ(1, -1), x.DsqNrQueued(1), x.DsqNrQueued(99))
			return 0
		},
	})
	want := []int32{0, -17, -22, -22, 0, 0, -2}
	if !slices.Equal(rc, want) {
		t.Fatalf("codes %v, want %v", rc, want)
	}
	if sch.ExitKind() != scx.ExitNone {
		t.Fatal(sch.ExitInfo().Msg)
	}
}

// Kfuncs called from ops the kernel does not allow are refused.
func TestKfuncContext(t *testing.T) {
	e := newEnv(t, "1x1x1x1", topo.Linear)
	x := e.x
	sch := e.register(&scx.Ops{Name: "ctx",
		Enqueue: func(p *sched.Task, f uint64) {
			x.DsqMoveToLocal(userDSQ, 0)
			x.DsqInsert(p, scx.DSQGlobal, 0, 0)
		},
		Init: func() int32 { return x.CreateDSQ(userDSQ, -1) },
	})
	e.spawn("t", schedtest.Behavior{}, sched.TaskSpec{})
	e.d.Run(10_000_000)
	if !strings.Contains(sch.ExitInfo().Msg, "calling kernel function scx_bpf_dsq_move_to_local___v2 is not allowed") {
		t.Fatalf("msg %q", sch.ExitInfo().Msg)
	}
	checks := []struct {
		kf   string
		form scx.Form
		op   string
		ok   bool
	}{
		{"scx_bpf_kick_cpu", scx.FormCPU, "enqueue", true},
		{"scx_bpf_kick_cpu", scx.FormCid, "enqueue", false},
		{"scx_bpf_kick_cid", scx.FormCid, "enqueue", true},
		{"scx_bpf_dsq_move_to_local___v2", scx.FormCPU, "dispatch", true},
		{"scx_bpf_dsq_move_to_local___v2", scx.FormCPU, "enqueue", false},
		{"scx_bpf_cid_override", scx.FormCid, "init_cids", true},
		{"scx_bpf_cid_override", scx.FormCid, "init", false},
		{"scx_bpf_select_cpu_dfl", scx.FormCPU, "select_cpu", true},
	}
	for _, c := range checks {
		err := scx.CheckKfunc(c.kf, c.form, c.op)
		if (err == nil) != c.ok {
			t.Errorf("%s from %s (%v): %v", c.kf, c.op, c.form, err)
		}
		if err != nil && err.Error() != "calling kernel function "+c.kf+" is not allowed" {
			t.Errorf("text %q", err)
		}
	}
	kinds := map[string]scx.KfuncKind{"scx_bpf_kick_cpu": scx.KfuncCPUOnly, "scx_bpf_kick_cid": scx.KfuncCommon,
		"scx_bpf_cid_to_cpu": scx.KfuncCid, "bpf_cpumask_create": scx.KfuncNotScx, "scx_bpf_pick_idle_cpu": scx.KfuncCPUOnly}
	for k, want := range kinds {
		if got := scx.ClassifyKfunc(k); got != want {
			t.Errorf("ClassifyKfunc(%s) = %v, want %v", k, got, want)
		}
	}
}
