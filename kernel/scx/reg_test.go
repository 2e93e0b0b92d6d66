package scx_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/arena"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/goscheds"
	"github.com/scxsim/scxsim/kernel/topo"
)

func newArena(t *testing.T) *arena.Arena {
	t.Helper()
	a, err := goscheds.NewArena(64)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for a.Refs() > 0 {
			a.Put()
		}
	})
	return a
}

// Registration failures: errno, kernel log line, and the arena reference
// count back where it was.
func TestRegisterErrors(t *testing.T) {
	cases := []struct {
		name   string
		ops    func(a, b *arena.Arena) *scx.Ops
		errno  syscall.Errno
		log    string
		preReg bool
	}{
		{"cid-form without arena", func(a, b *arena.Arena) *scx.Ops {
			return &scx.Ops{Form: scx.FormCid, Name: "c", Arenas: []*arena.Arena{nil, nil}}
		}, syscall.EINVAL, "sched_ext: cid-form scheduler must use a BPF arena map", false},
		{"cid-form two arenas", func(a, b *arena.Arena) *scx.Ops {
			return &scx.Ops{Form: scx.FormCid, Name: "c", Arenas: []*arena.Arena{a, nil, a, b}}
		}, syscall.EINVAL, "sched_ext: cid-form scheduler uses multiple arena maps", false},
		{"bad flags", func(a, b *arena.Arena) *scx.Ops {
			return &scx.Ops{Form: scx.FormCid, Name: "c", Flags: 1 << 20, Arenas: []*arena.Arena{a}}
		}, syscall.EINVAL, "", false},
		{"bad name", func(a, b *arena.Arena) *scx.Ops {
			return &scx.Ops{Form: scx.FormCid, Name: "no spaces", Arenas: []*arena.Arena{a}}
		}, syscall.EINVAL, "", false},
		{"rescue bandwidth", func(a, b *arena.Arena) *scx.Ops {
			return &scx.Ops{Form: scx.FormCid, Name: "c", RescueBandwidthPPT: 251, Arenas: []*arena.Arena{a}}
		}, syscall.E2BIG, "", false},
		{"rescue quantum", func(a, b *arena.Arena) *scx.Ops {
			return &scx.Ops{Form: scx.FormCid, Name: "c", RescueQuantumUS: 999, Arenas: []*arena.Arena{a}}
		}, syscall.EINVAL, "", false},
		{"timeout too long", func(a, b *arena.Arena) *scx.Ops {
			return &scx.Ops{Form: scx.FormCid, Name: "c", TimeoutMS: 30001, Arenas: []*arena.Arena{a}}
		}, syscall.E2BIG, "", false},
		{"already loaded", func(a, b *arena.Arena) *scx.Ops {
			return &scx.Ops{Form: scx.FormCid, Name: "c", Arenas: []*arena.Arena{a}}
		}, syscall.EBUSY, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "1x1x2x1", topo.Linear)
			a, b := newArena(t), newArena(t)
			if c.preReg {
				e.register(&scx.Ops{Name: "first"})
			}
			_, err := e.x.Register(c.ops(a, b))
			var se *scx.Error
			if !errors.As(err, &se) || se.Errno != c.errno || !errors.Is(err, c.errno) {
				t.Fatalf("err %v, want errno %v", err, c.errno)
			}
			if se.Log != c.log || (c.log != "" && !e.logHas(c.log)) {
				t.Fatalf("log %q (kernel log %q), want %q", se.Log, e.x.Log(), c.log)
			}
			if a.Refs() != 1 || b.Refs() != 1 {
				t.Fatalf("arena refs %d/%d after failure, want 1/1", a.Refs(), b.Refs())
			}
		})
	}
}

// The arena reference: taken at register, kept while enabled (and after an
// ejection), dropped when the scheduler is freed; ops.init() failing
// leaves a disabled scheduler holding it until Unregister.
func TestArenaRefLifetime(t *testing.T) {
	for _, failInit := range []bool{false, true} {
		name := "ok"
		if failInit {
			name = "init fails"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, "1x1x2x1", topo.Linear)
			a := newArena(t)
			c := &goscheds.CidFIFO{X: e.x, Arena: a}
			o := c.Ops("cidfifo")
			exited := false
			o.Exit = func(ei *scx.ExitInfo) { exited = true }
			if failInit {
				o.Init = func() int32 { return -int32(syscall.ENOMEM) }
			}
			sch := e.register(o)
			if a.Refs() != 2 {
				t.Fatalf("refs %d after register, want 2", a.Refs())
			}
			if failInit {
				ei := sch.ExitInfo()
				if sch.ExitKind() != scx.ExitDone || ei.Msg != "ops.init() failed (-12)" || ei.Flags&scx.ExitFlagInitialized != 0 || !exited {
					t.Fatalf("exit %+v exited=%v", ei, exited)
				}
				if e.x.State() != scx.Disabled {
					t.Fatalf("state %v", e.x.State())
				}
				if sch.Pool() != nil {
					t.Fatal("pool not destroyed")
				}
			} else if sch.Pool() == nil || sch.Pool().InUse() == 0 {
				t.Fatal("no set_cmask scratch in the arena pool")
			}
			e.x.Unregister(sch)
			if a.Refs() != 1 {
				t.Fatalf("refs %d after unregister, want 1", a.Refs())
			}
			if !failInit && (!exited || sch.ExitInfo().Kind != scx.ExitUnreg) {
				t.Fatalf("exit info %+v", sch.ExitInfo())
			}
			e.x.Unregister(sch)
			if a.Refs() != 1 {
				t.Fatal("double unregister dropped another reference")
			}
		})
	}
}

// scx_validate_ops() failures come back as an ejected scheduler.
func TestValidateOps(t *testing.T) {
	cases := []struct {
		ops *scx.Ops
		msg string
	}{
		{&scx.Ops{Name: "v", Flags: scx.OpsEnqLast}, "SCX_OPS_ENQ_LAST requires ops.enqueue() to be implemented"},
		{&scx.Ops{Name: "v", Flags: scx.OpsBuiltinIdlePerNode, UpdateIdle: func(int32, bool) {}},
			"SCX_OPS_BUILTIN_IDLE_PER_NODE requires CPU idle selection enabled"},
		{&scx.Ops{Name: "v", SubAttach: func(string) int32 { return 0 }},
			"sub_attach/sub_detach requires cid-form struct_ops"},
	}
	for _, c := range cases {
		e := newEnv(t, "1x1x2x1", topo.Linear)
		sch := e.register(c.ops)
		if sch.ExitInfo().Msg != c.msg {
			t.Errorf("msg %q, want %q", sch.ExitInfo().Msg, c.msg)
		}
	}
}

// Every task is initialized and enabled on enable, disabled and exited on
// disable, in the kernel's order.
func TestEnableDisableOrder(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	var log []string
	rec := func(s string) { log = append(log, s) }
	p := e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{})
	e.d.Run(1_000_000)
	x := e.x
	sch := e.register(&scx.Ops{Name: "order",
		Init:     func() int32 { rec("init"); return 0 },
		InitTask: func(q *sched.Task, a scx.InitTaskArgs) int32 { rec("init_task " + q.Comm); return 0 },
		Enable:   func(q *sched.Task) { rec("enable " + q.Comm) },
		SetWeight: func(q *sched.Task, w uint32) {
			if w != 100 {
				t.Errorf("weight %d", w)
			}
			rec("set_weight " + q.Comm)
		},
		Disable:  func(q *sched.Task) { rec("disable " + q.Comm) },
		ExitTask: func(q *sched.Task, a scx.ExitTaskArgs) { rec("exit_task " + q.Comm) },
		Exit:     func(ei *scx.ExitInfo) { rec("exit " + ei.Reason) },
		Enqueue:  func(q *sched.Task, f uint64) { x.DsqInsert(q, scx.DSQGlobal, 0, 0) },
	})
	e.d.Run(10_000_000)
	if p.Class() != sched.Class(x) {
		t.Fatal("task not switched to ext")
	}
	e.x.Unregister(sch)
	want := []string{"init", "init_task p", "enable p", "set_weight p", "disable p", "exit_task p", "exit unregistered from user space"}
	if !slices.Equal(log, want) {
		t.Fatalf("calls %v, want %v", log, want)
	}
	if p.Class() != e.c.FairClass() {
		t.Fatal("task not back on fair")
	}
}

// Partial mode: only SCHED_EXT tasks are on ext, and fair tasks win.
func TestPartialSwitch(t *testing.T) {
	e := newEnv(t, "1x1x1x1", topo.Linear)
	x := e.x
	e.register(&scx.Ops{Name: "partial", Flags: scx.OpsSwitchPartial,
		Enqueue: func(q *sched.Task, f uint64) { x.DsqInsert(q, scx.DSQGlobal, 0, 0) }})
	ext := e.spawn("ext", schedtest.Behavior{}, sched.TaskSpec{Policy: sched.PolicyExt})
	e.d.Run(10_000_000)
	if ext.Class() != sched.Class(x) || e.c.RQ(0).Curr() != ext {
		t.Fatalf("ext task class %s, cpu runs %s", ext.Class().Name(), e.c.RQ(0).Curr())
	}
	fair := e.spawn("fair", schedtest.Behavior{}, sched.TaskSpec{})
	e.d.Run(100_000_000)
	if fair.Class() != e.c.FairClass() {
		t.Fatal("normal task on ext in partial mode")
	}
	if e.d.Runtime(fair) < 85_000_000 {
		t.Fatalf("fair task ran %d of 90 ms: ext is below fair", e.d.Runtime(fair))
	}
	if !e.logHas(`enabled (partial)`) {
		t.Fatal(e.x.Log())
	}
	if err := e.c.SetPolicy(fair, sched.PolicyExt); err != nil || fair.Class() != sched.Class(x) {
		t.Fatalf("SetPolicy: %v class %s", err, fair.Class().Name())
	}
}

// The watchdog ejects a scheduler that leaves a task runnable too long,
// naming the task.
func TestWatchdog(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	x := e.x
	sch := e.register(&scx.Ops{Name: "stall", TimeoutMS: 100,
		SelectCPU: func(q *sched.Task, prev int32, wf uint64) int32 { return prev },
		Enqueue: func(q *sched.Task, f uint64) {
			if q.Comm == "victim" {
				x.DsqInsert(q, userDSQ, 0, 0) // never dispatched
				return
			}
			x.DsqInsert(q, scx.DSQGlobal, 0, 0)
		},
		Init: func() int32 { return x.CreateDSQ(userDSQ, -1) },
	})
	v := e.spawn("victim", schedtest.Behavior{}, sched.TaskSpec{})
	e.spawn("other", schedtest.Behavior{}, sched.TaskSpec{})
	e.d.Run(90_000_000)
	if sch.ExitKind() != scx.ExitNone {
		t.Fatalf("ejected early: %q", sch.ExitInfo().Msg)
	}
	e.d.Run(300_000_000)
	ei := sch.ExitInfo()
	if ei.Kind != scx.ExitErrorStall || ei.Reason != "runnable task stall" ||
		!strings.HasPrefix(ei.Msg, "victim["+itoa(v.PID)+"] failed to run for 0.1") {
		t.Fatalf("exit %+v", ei)
	}
	before := e.d.Runtime(v)
	e.d.Run(600_000_000)
	if e.d.Runtime(v)-before < 100_000_000 {
		t.Fatal("stalled task did not run after ejection")
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }

// A cid-form scheduler gets the affinity as cids in an arena cmask.
func TestSetCmask(t *testing.T) {
	e := newEnv(t, "1x2x2x2", topo.X86)
	a := newArena(t)
	c := &goscheds.CidFIFO{X: e.x, Arena: a}
	p := e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{})
	sch := e.register(c.Ops("cidfifo"))
	cids := e.x.CidTable()
	n := e.c.NrCPUIDs()
	for _, cpus := range [][]int{{1, 5}, {0, 2, 4, 6}, {7}} {
		before := len(c.SetCmasks)
		if err := e.c.SetAffinity(p, mask(n, cpus...)); err != nil {
			t.Fatal(err)
		}
		if len(c.SetCmasks) != before+1 {
			t.Fatalf("set_cmask calls %d -> %d", before, len(c.SetCmasks))
		}
		call := c.SetCmasks[len(c.SetCmasks)-1]
		var want []uint32
		for _, cpu := range cpus {
			want = append(want, uint32(cids.Cid(cpu)))
		}
		slices.Sort(want)
		if call.Task != p || !slices.Equal(call.Cids, want) {
			t.Fatalf("cpus %v: cmask %v, want cids %v", cpus, call.Cids, want)
		}
		if call.Addr>>32 != a.UserBase()>>32 {
			t.Fatalf("cmask address %#x not in the arena (%#x)", call.Addr, a.UserBase())
		}
		e.d.Run(e.d.Now() + 5_000_000)
		if !p.Allowed(p.CPU()) {
			t.Fatalf("task on cpu %d outside its affinity", p.CPU())
		}
	}
	if sch.ExitKind() != scx.ExitNone {
		t.Fatal(sch.ExitInfo().Msg)
	}
	// The cid differs from the cpu on this machine: the test means it.
	same := true
	for cpu := 0; cpu < n; cpu++ {
		if cids.Cid(cpu) != cpu {
			same = false
		}
	}
	if same {
		t.Fatal("cid == cpu everywhere; the machine does not exercise translation")
	}
}

// A cid-form scheduler runs tasks using cids only.
func TestCidFormRuns(t *testing.T) {
	e := newEnv(t, "1x2x2x2", topo.X86)
	c := &goscheds.CidFIFO{X: e.x, Arena: newArena(t)}
	sch := e.register(c.Ops("cidfifo"))
	var ts []*sched.Task
	for i := 0; i < 12; i++ {
		ts = append(ts, e.spawn("w", schedtest.Behavior{Run: 2_000_000, Sleep: 1_000_000}, sched.TaskSpec{}))
	}
	e.d.Run(300_000_000)
	if sch.ExitKind() != scx.ExitNone {
		t.Fatal(sch.ExitInfo().Msg)
	}
	for _, p := range ts {
		if e.d.Runtime(p) < 50_000_000 {
			t.Fatalf("%s ran %d", p, e.d.Runtime(p))
		}
	}
	// cpu-only kfuncs are refused to a cid-form scheduler.
	x := e.x
	c2 := &goscheds.CidFIFO{X: x, Arena: newArena(t)}
	e.x.Unregister(sch)
	o := c2.Ops("cid2")
	o.Init = func() int32 { x.KickCPU(0, 0); return 0 }
	sch2 := e.register(o)
	if sch2.ExitInfo().Msg != "calling kernel function scx_bpf_kick_cpu is not allowed" {
		t.Fatalf("msg %q", sch2.ExitInfo().Msg)
	}
}

// The enable state as the ops see it, and a hotplug between loading and
// enabling caught by ops.hotplug_seq.
func TestEnableStateAndHotplugSeq(t *testing.T) {
	e := newEnv(t, "1x1x2x1", topo.Linear)
	var states []scx.EnableState
	x := e.x
	sch := e.register(&scx.Ops{Name: "st",
		Init: func() int32 { states = append(states, x.State()); return 0 },
		Exit: func(*scx.ExitInfo) { states = append(states, x.State()) },
	})
	states = append(states, x.State())
	e.x.Unregister(sch)
	states = append(states, x.State())
	if want := []scx.EnableState{scx.Enabling, scx.Enabled, scx.Disabling, scx.Disabled}; !slices.Equal(states, want) {
		t.Fatalf("states %v, want %v", states, want)
	}

	if err := e.c.SetOnline(1, false); err != nil {
		t.Fatal(err)
	}
	seq := e.x.HotplugSeq() // what a loader would have read
	if err := e.c.SetOnline(1, true); err != nil {
		t.Fatal(err)
	}
	sch = e.register(&scx.Ops{Name: "seq", HotplugSeq: seq})
	ei := sch.ExitInfo()
	want := fmt.Sprintf("expected hotplug seq %d did not match actual %d", seq, seq+1)
	if ei.Kind != scx.ExitUnregKern || ei.Msg != want || !ei.RestartRequested() {
		t.Fatalf("exit %+v, want %q", ei, want)
	}
}

// cid-form boundaries: ops receive cids, the cids they return are
// translated back, an invalid cid ejects; ops.init_cids() may replace the
// layout with scx_bpf_cid_override().
func TestCidBoundary(t *testing.T) {
	t.Run("args", func(t *testing.T) {
		e := newEnv(t, "1x2x2x2", topo.X86)
		x := e.x
		bad := false
		ok := true
		sch := e.register(&scx.Ops{Form: scx.FormCid, Name: "cids", Arenas: []*arena.Arena{newArena(t)},
			SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 {
				if int(x.CidToCPU(prev)) != p.CPU() {
					ok = false
				}
				if bad {
					return 9999
				}
				return prev
			},
			Enqueue: func(p *sched.Task, f uint64) { x.DsqInsert(p, scx.DSQGlobal, 0, 0) },
			Dispatch: func(cid int32, prev *sched.Task) {
				if int(x.CidToCPU(cid)) != int(x.ThisCPU()) || x.ThisCid() != cid {
					ok = false
				}
			},
		})
		e.spawn("w", schedtest.Behavior{Run: 500_000, Sleep: 500_000}, sched.TaskSpec{})
		e.d.Run(20_000_000)
		if !ok || sch.ExitKind() != scx.ExitNone {
			t.Fatalf("cid arguments do not match the cpus (exit %q)", sch.ExitInfo().Msg)
		}
		bad = true
		e.d.Run(40_000_000)
		if !strings.Contains(sch.ExitInfo().Msg, "9999") {
			t.Fatalf("invalid cid from select_cid: exit %q", sch.ExitInfo().Msg)
		}
	})
	t.Run("override", func(t *testing.T) {
		e := newEnv(t, "1x1x4x1", topo.Linear)
		x := e.x
		c := &goscheds.CidFIFO{X: x, Arena: newArena(t)}
		o := c.Ops("ovr")
		o.InitCids = func() int32 {
			x.CidOverride([]int32{3, 2, 1, 0}, []int32{0})
			return 0
		}
		p := e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{})
		sch := e.register(o)
		for cpu := int32(0); cpu < 4; cpu++ {
			if got := x.CPUToCid(cpu); got != 3-cpu {
				t.Fatalf("cpu %d -> cid %d, want %d", cpu, got, 3-cpu)
			}
		}
		if tp := x.CidTopo(0); tp.CoreCid != -1 || tp.ShardIdx != 0 {
			t.Fatalf("topology after override: %+v", tp)
		}
		if err := e.c.SetAffinity(p, mask(4, 0)); err != nil {
			t.Fatal(err)
		}
		last := c.SetCmasks[len(c.SetCmasks)-1]
		if !slices.Equal(last.Cids, []uint32{3}) {
			t.Fatalf("set_cmask for cpu 0 after override: %v", last.Cids)
		}
		if sch.ExitKind() != scx.ExitNone {
			t.Fatal(sch.ExitInfo().Msg)
		}
		// scx_bpf_cid_override() outside ops.init_cids() is refused.
		x.CidOverride([]int32{0, 1, 2, 3}, []int32{0})
		e.d.Drain()
		if sch.ExitInfo().Msg != "calling kernel function scx_bpf_cid_override is not allowed" {
			t.Fatalf("exit %q", sch.ExitInfo().Msg)
		}
	})
}

// The set_cmask cmask is written through the arena's kernel view on behalf
// of the set_cmask program: when its page has gone, the scratch page absorbs
// the write and the violation lands on that program's stream.
func TestSetCmaskFaultAttribution(t *testing.T) {
	e := newEnv(t, "1x2x2x2", topo.X86)
	a := newArena(t)
	c := &goscheds.CidFIFO{X: e.x, Arena: a}
	p := e.spawn("p", schedtest.Behavior{}, sched.TaskSpec{})
	o := c.Ops("cidfifo")
	type report struct {
		prog string
		fd   int
		msg  string
	}
	var got []report
	o.ArenaActor = func(op string) arena.OnBehalf {
		return arena.OnBehalf{Prog: "prog_" + op, Sink: func(prog string, fd int, msg string) {
			got = append(got, report{prog, fd, msg})
		}}
	}
	e.register(o)
	n := e.c.NrCPUIDs()
	if err := e.c.SetAffinity(p, mask(n, 1, 5)); err != nil {
		t.Fatal(err)
	}
	addr := c.SetCmasks[len(c.SetCmasks)-1].Addr
	if len(got) != 0 {
		t.Fatalf("reports before any fault: %v", got)
	}
	// Pull the page out from under the kernel's sub-allocation.
	page := addr &^ (arena.PageSize - 1)
	a.FreePages(page, 1)
	if err := e.c.SetAffinity(p, mask(n, 0, 2)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].prog != "prog_set_cmask" || got[0].fd != 2 {
		t.Fatalf("reports %+v, want one on prog_set_cmask's stderr", got)
	}
	if !a.IsScratch(a.KernAddr(addr)) {
		t.Fatal("scratch page not installed at the freed cmask page")
	}
}

// A cid-form ops.select_cid() verdict goes through scx_cpu_ret(): a negative
// number passes through unchanged and is reported as an invalid CPU by
// select_task_rq_scx(), an out-of-range cid is reported by cid_valid().
func TestSelectCidRet(t *testing.T) {
	for _, tc := range []struct {
		name string
		ret  func(nrCids int32) int32
		want func(nrCids int32) string
	}{
		{"minus one", func(int32) int32 { return -1 },
			func(int32) string { return "invalid CPU -1 from ops.select_cpu()" }},
		{"minus EINVAL", func(int32) int32 { return -22 },
			func(int32) string { return "invalid CPU -22 from ops.select_cpu()" }},
		{"past last cid", func(n int32) int32 { return n },
			func(n int32) string { return fmt.Sprintf("invalid cid %d", n) }},
		{"huge cid", func(int32) int32 { return 1 << 30 },
			func(int32) string { return fmt.Sprintf("invalid cid %d", 1<<30) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "1x2x2x1", topo.X86)
			const nrCids = 4
			bad := false
			sch := e.register(&scx.Ops{Form: scx.FormCid, Name: "ret", Arenas: []*arena.Arena{newArena(t)},
				SelectCPU: func(p *sched.Task, prev int32, wf uint64) int32 {
					if bad {
						return tc.ret(nrCids)
					}
					return prev
				},
				Enqueue: func(p *sched.Task, f uint64) { e.x.DsqInsert(p, scx.DSQGlobal, 0, 0) },
			})
			e.spawn("w", schedtest.Behavior{Run: 500_000, Sleep: 500_000}, sched.TaskSpec{})
			e.d.Run(10_000_000)
			if sch.ExitKind() != scx.ExitNone {
				t.Fatalf("valid cids ejected the scheduler: %q", sch.ExitInfo().Msg)
			}
			bad = true
			e.d.Run(20_000_000)
			ei := sch.ExitInfo()
			if ei.Kind != scx.ExitError || ei.Msg != tc.want(nrCids) {
				t.Fatalf("exit %v %q, want error %q", ei.Kind, ei.Msg, tc.want(nrCids))
			}
		})
	}
}
