package bpfsched_test

import (
	"slices"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/ktypes"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
)

// scxKfuncNames lists the scx_bpf_* kfuncs (and the DSQ iterator's) the
// simulated kernel resolves, sorted.
func scxKfuncNames(t testing.TB) ([]string, func(string) (vm.Helper, bool)) {
	env, err := bpfsched.NewEnv(bpfsched.Config{CPUs: 4})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := env.LoaderOptions()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range ktypes.Kfuncs() {
		if k.In(ktypes.SetGeneric) {
			continue
		}
		if _, ok := opts.Kfuncs(k.Name); ok {
			names = append(names, k.Name)
		}
	}
	slices.Sort(names)
	return names, opts.Kfuncs
}

// FuzzKfuncArgs calls the scx kfuncs with arbitrary arguments (pointers
// among them: real tasks, a scratch buffer at any offset, iterators,
// garbage) on a machine running a BPF scheduler: no panic, no task lost.
func FuzzKfuncArgs(f *testing.F) {
	names, _ := scxKfuncNames(f)
	f.Add(uint8(0), uint8(1), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Add(uint8(3), uint8(0), uint64(1<<63|2), uint64(20_000_000), uint64(0), uint64(0), uint64(0))
	f.Add(uint8(10), uint8(2), uint64(0), uint64(0x10), uint64(3), uint64(0), uint64(0))
	f.Fuzz(func(t *testing.T, which, mode uint8, r1, r2, r3, r4, r5 uint64) {
		w := newWorld(t, 4, "schedulers/fifo/fifo.bpf.o")
		tasks := w.spawn(6, schedtest.Behavior{Run: 1_000_000, Sleep: 500_000})
		s := w.attach()
		w.d.Run(5_000_000)
		k := w.obj.Kernel()
		_, scratch := w.obj.Env.Memory().Map("fuzz scratch", make([]byte, 4096), vm.PermRW)
		// mode picks what r1 and r2 point at.
		switch mode % 4 {
		case 1:
			r1 = k.CurrentTask(int(r5 % 4))
		case 2:
			r1 = scratch + r1%4096
			r2 = scratch + r2%4096
		case 3:
			r1 = k.CurrentTask(int(r4 % 4))
			r2 = scratch + r2%4096
		}
		_, resolve := scxKfuncNames(t)
		h, ok := resolve(names[int(which)%len(names)])
		if !ok {
			t.Fatal("kfunc did not resolve")
		}
		e := k.Exec(int(r3 % 4))
		_, _ = h(e, r1, r2, r3, r4, r5)
		w.d.Run(20_000_000)
		if s.Exited() && s.ExitInfo().Kind < scx.ExitError && s.ExitInfo().Kind != scx.ExitUnregBPF {
			t.Fatalf("unexpected exit %+v", s.ExitInfo())
		}
		s.Detach()
		w.d.Run(40_000_000)
		if n := len(w.d.Core.Tasks()); n != len(tasks) {
			t.Fatalf("%d tasks, want %d", n, len(tasks))
		}
		for _, p := range tasks {
			if p.Class() == sched.Class(w.x) {
				t.Fatalf("%s still on sched_ext after detach", p)
			}
		}
	})
}
