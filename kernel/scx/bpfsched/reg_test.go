package bpfsched_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/loader"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
)

// arenas returns the object's arena maps.
func arenas(obj *bpfsched.Object) []*loader.Map {
	var out []*loader.Map
	for _, m := range obj.Obj.Maps {
		if m.ArenaMap != nil {
			out = append(out, m)
		}
	}
	return out
}

// progRefs counts the struct_ops member programs that use map m: each
// keeps a reference while the scheduler is attached, as prog->aux->used_maps.
func progRefs(t *testing.T, obj *bpfsched.Object, m *loader.Map) int {
	t.Helper()
	so, err := obj.SchedOps("")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mem := range so.Members {
		if mem.Prog == nil {
			continue
		}
		for _, pm := range mem.Prog.Maps {
			if pm == m {
				n++
			}
		}
	}
	return n
}

func TestRegistration(t *testing.T) {
	tests := []struct {
		obj     string
		form    loader.Form
		arenas  int
		wantLog string // "" = registers
	}{
		{"schedulers/fifo/fifo.bpf.o", loader.FormCPU, 0, ""},
		{"schedulers/cidq/cidq.bpf.o", loader.FormCID, 1, ""},
		{"kernel/scx/bpfsched/testdata/cmask_probe.bpf.o", loader.FormCID, 1, ""},
		{"schedulers/broken/no_arena.bpf.o", loader.FormCID, 0, "sched_ext: cid-form scheduler must use a BPF arena map"},
		{"schedulers/broken/two_arenas.bpf.o", loader.FormCID, 2, "sched_ext: cid-form scheduler uses multiple arena maps"},
	}
	for _, tc := range tests {
		t.Run(tc.obj, func(t *testing.T) {
			w := newWorld(t, 4, tc.obj)
			so, err := w.obj.SchedOps("")
			if err != nil {
				t.Fatal(err)
			}
			if so.Form != tc.form {
				t.Fatalf("form %v, want %v", so.Form, tc.form)
			}
			ars := arenas(w.obj)
			if len(ars) != tc.arenas {
				t.Fatalf("%d arenas, want %d", len(ars), tc.arenas)
			}
			before := make([]int, len(ars))
			for i, a := range ars {
				before[i] = a.Refs()
			}
			tasks := w.spawn(12, schedtest.Behavior{Run: 2_000_000, Sleep: 500_000})
			s, err := w.obj.Attach(w.x)
			if tc.wantLog != "" {
				var se *scx.Error
				if !errors.As(err, &se) {
					t.Fatalf("attach: %v, want *scx.Error", err)
				}
				if se.Errno != syscall.EINVAL || se.Log != tc.wantLog {
					t.Errorf("error %v / %q, want EINVAL / %q", se.Errno, se.Log, tc.wantLog)
				}
				if !w.logHas(tc.wantLog) {
					t.Errorf("kernel log %q lacks %q", w.x.Log(), tc.wantLog)
				}
				for i, a := range ars {
					if a.Refs() != before[i] {
						t.Errorf("%s refs %d after failed attach, want %d", a.Name, a.Refs(), before[i])
					}
				}
				// The object can still attach nothing else but is intact:
				// the tasks kept running on the fair class.
				w.d.Run(50_000_000)
				for _, p := range tasks {
					if p.SumExecRuntime == 0 {
						t.Errorf("%s never ran", p)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("attach: %v", err)
			}
			w.d.Drain()
			var held []int
			for i, a := range ars {
				held = append(held, progRefs(t, w.obj, a))
				if want := before[i] + 1 + held[i]; a.Refs() != want {
					t.Errorf("%s refs %d after attach, want %d (+1 for the scheduler, +%d for its programs)",
						a.Name, a.Refs(), want, held[i])
				}
			}
			// The loader drops its handles; the scheduler keeps running.
			w.obj.Close()
			for i, a := range ars {
				if want := 1 + held[i]; a.Refs() != want {
					t.Errorf("%s refs %d after close, want %d", a.Name, a.Refs(), want)
				}
			}
			w.d.Run(100_000_000)
			if s.Exited() {
				t.Fatalf("exited: %+v", s.ExitInfo())
			}
			for _, p := range tasks {
				if p.SumExecRuntime == 0 {
					t.Errorf("%s never ran", p)
				}
			}
			s.Detach()
			w.d.Drain()
			if k := s.ExitInfo().Kind; k != scx.ExitUnreg {
				t.Errorf("exit kind %v, want SCX_EXIT_UNREG", k)
			}
			for _, a := range ars {
				if a.Refs() != 0 || !a.ArenaMap.Released() {
					t.Errorf("%s refs %d released %v after detach", a.Name, a.Refs(), a.ArenaMap.Released())
				}
			}
		})
	}
}

// TestInitFailure: a scheduler whose ops.init() fails exits while enabling;
// Attach reports it and every reference taken for it is dropped.
func TestInitFailure(t *testing.T) {
	w := newWorld(t, 4, "kernel/scx/bpfsched/testdata/cmask_probe.bpf.o", "init_ret=-12")
	a := arenas(w.obj)[0]
	before := a.Refs()
	w.spawn(4, schedtest.Behavior{Run: 1_000_000, Sleep: 1_000_000})
	_, err := w.obj.Attach(w.x)
	var ee *bpfsched.EnableError
	if !errors.As(err, &ee) {
		t.Fatalf("attach: %v, want *EnableError", err)
	}
	if ee.Info.Kind != scx.ExitError || !strings.Contains(ee.Info.Msg, "ops.init() failed (-12)") {
		t.Errorf("exit info %+v", ee.Info)
	}
	if a.Refs() != before {
		t.Errorf("arena refs %d, want %d", a.Refs(), before)
	}
	// Only the object's own handle is left.
	w.obj.Close()
	if a.Refs() != 0 {
		t.Errorf("arena refs %d after close, want 0", a.Refs())
	}
}

func TestCpuKfuncInCidRefused(t *testing.T) {
	tests := []struct{ obj, want string }{
		{"schedulers/broken/cpu_kfunc_in_cid.bpf.o", "calling kernel function scx_bpf_task_cpu is not allowed"},
	}
	for _, tc := range tests {
		_, err := bpfsched.Load(readObj(t, tc.obj), bpfsched.Config{CPUs: 4})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: load error %v, want %q", tc.obj, err, tc.want)
		}
	}
}
