package bpfsched_test

import (
	"encoding/binary"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/kernel/ktypes"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
)

const kfprobe = "kernel/scx/bpfsched/testdata/kfprobe.bpf.o"

// TestEveryKfuncImplemented: every kfunc of the simulated kernel's BTF
// resolves to an implementation in the loader options an object is loaded
// with, so no object the kernel would accept fails to load for want of one.
func TestEveryKfuncImplemented(t *testing.T) {
	env, err := bpfsched.NewEnv(bpfsched.Config{CPUs: 4})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := env.LoaderOptions()
	if err != nil {
		t.Fatal(err)
	}
	kfuncs := ktypes.Kfuncs()
	if len(kfuncs) == 0 {
		t.Fatal("the simulated kernel declares no kfuncs")
	}
	for _, k := range kfuncs {
		if h, ok := opts.Kfuncs(k.Name); !ok || h == nil {
			t.Errorf("kfunc %s has no implementation", k.Name)
		}
	}
}

// run runs SEC("syscall") program name on cpu and returns r0 as an int.
func (w *world) run(name string, cpu int) int32 {
	w.t.Helper()
	p := w.obj.Obj.Program(name)
	if p == nil {
		w.t.Fatalf("no program %s", name)
	}
	r, err := w.obj.Kernel().Exec(cpu).Run(p.VM, 0)
	if err != nil {
		w.t.Fatalf("run %s: %v", name, err)
	}
	w.d.Drain()
	return int32(r)
}

func (w *world) s64(name string) int64 { return int64(binary.LittleEndian.Uint64(w.global(name))) }

func (w *world) attachOps(name string) *bpfsched.Scheduler {
	w.t.Helper()
	s, err := w.obj.AttachOps(w.x, name)
	if err != nil {
		w.t.Fatalf("attach %s: %v", name, err)
	}
	w.d.Drain()
	return s
}

// TestSubKfuncsWithoutSubScheduler calls scx_bpf_sub_grant/revoke/kill
// and scx_bpf_sub_caps as a kernel without sub-schedulers runs them: no
// cgroup id names a child (-ENODEV), a cpu-form caller is refused and
// disabled, bad caps and a bad out cmask disable the caller, and the
// root's own caps (cgroup id 0) cover every cid of out's range.
func TestSubKfuncsWithoutSubScheduler(t *testing.T) {
	const (
		enodev     = -int64(syscall.ENODEV)
		eopnotsupp = -int64(syscall.EOPNOTSUPP)
		einval     = -int64(syscall.EINVAL)
	)
	tests := []struct {
		name              string
		ops               string
		globals           []string
		grant, kill, caps int64
		bits              uint64 // caps_out.bits[0] after the calls
		exit              string // exit message; "" if still running
	}{
		{"child", "kfprobe_cid_ops", []string{"sub_cgid=5", "sub_caps=3", "out_nr=4"},
			enodev, enodev, enodev, 0, ""},
		{"self all", "kfprobe_cid_ops", []string{"sub_caps=2", "out_nr=4"},
			enodev, enodev, 0, 0b1111, ""},
		{"self window", "kfprobe_cid_ops", []string{"sub_caps=1", "out_base=1", "out_nr=2"},
			enodev, enodev, 0, 0b0110, ""},
		{"self no caps", "kfprobe_cid_ops", []string{"out_base=1", "out_nr=2", "prefill=1"},
			enodev, enodev, 0, 0, ""},
		{"empty out", "kfprobe_cid_ops", []string{"sub_caps=1", "out_base=2"},
			enodev, enodev, 0, 0, ""},
		{"bad caps", "kfprobe_cid_ops", []string{"sub_caps=16", "out_nr=4"},
			enodev, enodev, einval, 0, "invalid caps 0x10"},
		{"bad out", "kfprobe_cid_ops", []string{"sub_caps=1", "out_base=3", "out_nr=2"},
			enodev, enodev, einval, 0, "invalid out (-22)"},
		{"cpu form", "kfprobe_ops", []string{"sub_cgid=5", "sub_caps=1", "out_nr=4"},
			eopnotsupp, eopnotsupp, eopnotsupp, 0, "sub-cap kfuncs require a cid-form scheduler"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 4, kfprobe, tc.globals...)
			s := w.attachOps(tc.ops)
			if ret := w.run("sub_probe", 0); ret != 0 {
				t.Fatalf("sub_probe: %d", ret)
			}
			if g, k, c := w.s64("grant_ret"), w.s64("kill_ret"), w.s64("caps_ret"); g != tc.grant || k != tc.kill || c != tc.caps {
				t.Errorf("grant %d, kill %d, caps %d; want %d, %d, %d", g, k, c, tc.grant, tc.kill, tc.caps)
			}
			if bits := binary.LittleEndian.Uint64(w.global("caps_out")[16:]); bits != tc.bits {
				t.Errorf("caps_out bits %#b, want %#b", bits, tc.bits)
			}
			if tc.exit == "" {
				if s.Exited() {
					t.Fatalf("scheduler exited: %+v", s.ExitInfo())
				}
				return
			}
			info := s.ExitInfo()
			if !s.Exited() || info.Kind != scx.ExitError || info.Msg != tc.exit {
				t.Errorf("exit %v %q, want SCX_EXIT_ERROR %q", info.Kind, info.Msg, tc.exit)
			}
		})
	}
}

// TestSubDispatchNoChild: scx_bpf_sub_dispatch() from ops.dispatch()
// returns false with no child scheduler, and scheduling goes on.
func TestSubDispatchNoChild(t *testing.T) {
	for _, ops := range []string{"kfprobe_ops", "kfprobe_cid_ops"} {
		w := newWorld(t, 2, kfprobe, "sub_dispatch_cgid=7")
		s := w.attachOps(ops)
		tasks := w.spawn(4, schedtest.Behavior{Run: 1_000_000, Sleep: 500_000})
		w.d.Run(20_000_000)
		if s.Exited() {
			t.Fatalf("%s exited: %+v", ops, s.ExitInfo())
		}
		calls, wins := w.s64("nr_sub_dispatch"), w.s64("nr_sub_dispatch_true")
		if calls == 0 || wins != 0 {
			t.Errorf("%s: %d scx_bpf_sub_dispatch() calls, %d true; want some and none", ops, calls, wins)
		}
		for _, p := range tasks {
			if p.SumExecRuntime == 0 {
				t.Errorf("%s: %s never ran", ops, p)
			}
		}
	}
}

// TestTaskUnderCgroupAttached runs bpf_task_under_cgroup() on a task of
// the simulated kernel against its cgroup, its ancestors and another
// subtree, before and after the task moves.
func TestTaskUnderCgroupAttached(t *testing.T) {
	w := newWorld(t, 2, kfprobe)
	w.attachOps("kfprobe_ops")
	newCg := func(parent *sched.Cgroup, name string) *sched.Cgroup {
		cg, err := w.d.Core.NewCgroup(parent, name)
		if err != nil {
			t.Fatal(err)
		}
		return cg
	}
	root := w.d.Core.RootCgroup()
	a := newCg(nil, "a")
	a1 := newCg(a, "a1")
	b := newCg(nil, "b")
	p, err := w.d.Spawn(sched.TaskSpec{Comm: "member", Cgroup: a1}, schedtest.Behavior{Run: 500_000, Sleep: 500_000})
	if err != nil {
		t.Fatal(err)
	}
	w.d.Run(5_000_000)
	check := func(when string, want map[*sched.Cgroup]int64) {
		for _, cg := range []*sched.Cgroup{root, a, a1, b} {
			if err := w.obj.Obj.WriteGlobal("under_pid", int32(p.PID)); err != nil {
				t.Fatal(err)
			}
			if err := w.obj.Obj.WriteGlobal("under_cgid", cg.ID); err != nil {
				t.Fatal(err)
			}
			if ret := w.run("under_probe", 0); ret != 0 {
				t.Fatalf("under_probe: %d", ret)
			}
			if got := w.s64("under_ret"); got != want[cg] {
				t.Errorf("%s: task under %s: %d, want %d", when, cg.Path, got, want[cg])
			}
		}
	}
	check("in a1", map[*sched.Cgroup]int64{root: 1, a: 1, a1: 1, b: 0})
	if err := w.d.Core.MoveCgroup(p, b); err != nil {
		t.Fatal(err)
	}
	check("moved to b", map[*sched.Cgroup]int64{root: 1, a: 0, a1: 0, b: 1})
}

// TestObjectKfuncsAttached allocates a per-CPU object (one copy per CPU
// through bpf_per_cpu_ptr/bpf_this_cpu_ptr) and a refcounted node sized
// from its program-local type, whose second reference outlives the first
// in a map kptr until it is taken back and dropped.
func TestObjectKfuncsAttached(t *testing.T) {
	w := newWorld(t, 4, kfprobe)
	w.attachOps("kfprobe_ops")
	rt := w.obj.Env.Runtime()
	if ret := w.run("percpu_probe", 2); ret != 0 {
		t.Fatalf("percpu_probe: %d", ret)
	}
	// CPU c's copy holds a = c+1, b = 100*(c+1).
	if sum, this := w.s64("pc_sum"), w.s64("pc_this"); sum != 101*(1+2+3+4) || this != 3 {
		t.Errorf("per-CPU sum %d, this CPU's a %d; want %d and 3", sum, this, 101*(1+2+3+4))
	}
	if rt.Objects() != 0 {
		t.Errorf("%d objects after bpf_percpu_obj_drop", rt.Objects())
	}

	if ret := w.run("refcount_probe", 0); ret != 0 {
		t.Fatalf("refcount_probe: %d", ret)
	}
	if v := w.s64("rc_v"); v != 7 {
		t.Errorf("node value through the acquired reference: %d, want 7", v)
	}
	if rt.Objects() != 1 {
		t.Fatalf("%d objects with the node stashed, want 1", rt.Objects())
	}
	node := uint64(w.s64("rc_node"))
	// struct node { u64 key; struct bpf_refcount ref; u64 v; }
	b, err := w.obj.Env.Memory().Slice(node, 24, false)
	if err != nil {
		t.Fatalf("the stashed node is not a 24-byte object: %v", err)
	}
	if ref, v := binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint64(b[16:]); ref != 1 || v != 7 {
		t.Errorf("stashed node: refcount %d, v %d; want 1 and 7", ref, v)
	}
	if ret := w.run("refcount_release", 0); ret != 0 {
		t.Fatalf("refcount_release: %d", ret)
	}
	if rt.Objects() != 0 {
		t.Errorf("%d objects after the last reference was dropped", rt.Objects())
	}
}
