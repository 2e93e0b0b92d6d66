package e2e

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/scxsim/scxsim/bpf/arena"
	"github.com/scxsim/scxsim/bpf/helpers"
	"github.com/scxsim/scxsim/bpf/loader"
	"github.com/scxsim/scxsim/bpf/stream"
	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/ktypes"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
)

// env is one loaded test object with the pieces of the simulated kernel a
// program run needs: the helpers' fake kernel in Exec.Ctx, the streams the
// VM and the arena report to, and the scx_bpf_error() calls it made.
type env struct {
	t       *testing.T
	obj     *loader.Object
	arena   *arena.Arena
	kern    *helpers.FakeKernel
	streams *stream.Set
	exec    *vm.Exec
	errs    []string // scx_bpf_error() formats, in call order
}

const nCPU = 4

// load loads testdata/name against ktypes' BTF with the bpf/helpers table,
// the arena and stream kfuncs and the simulated kernel's sched_ext kfunc
// filter (bpfsched.KfuncFilter).
func load(t *testing.T, name string) *env {
	t.Helper()
	ev, err := tryLoad(t, name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return ev
}

// tryLoad is load returning the loader's error.
func tryLoad(t *testing.T, name string) (*env, error) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	kbtf, err := ktypes.BTF()
	if err != nil {
		t.Fatal(err)
	}
	ev := &env{t: t, streams: stream.NewSet()}
	table := helpers.NewTable()
	table.AddKfuncs(arena.Kfuncs(nil))
	table.AddKfuncs(ev.streams.Kfuncs())
	// sched_ext's scx_bpf_error_bstr belongs to kernel/scx; the cmask
	// helpers call it on misuse, which these tests record as a failure.
	table.SetKfunc("scx_bpf_error_bstr", func(e *vm.Exec, fmtAddr, _, _, _, _ uint64) (uint64, error) {
		s, err := e.Mem.CString(fmtAddr, 512)
		if err != nil {
			s = fmt.Sprintf("<bad format %#x: %v>", fmtAddr, err)
		}
		ev.errs = append(ev.errs, s)
		return 0, nil
	})
	mem := vm.NewMemory()
	obj, err := loader.Load(raw, loader.Options{
		KernelBTF:     kbtf,
		Helpers:       table.Helper,
		Kfuncs:        table.Kfunc,
		KfuncFilter:   bpfsched.KfuncFilter,
		KernelVersion: loader.KernelVersion(7, 0, 0),
		NumCPU:        nCPU,
		Memory:        mem,
	})
	if err != nil {
		return nil, err
	}
	t.Cleanup(obj.Close)
	ev.obj = obj
	if obj.Arena == nil {
		t.Fatalf("%s: no arena map", name)
	}
	ev.arena = obj.Arena.ArenaMap
	ev.kern = helpers.NewFakeKernel(mem, nCPU, helpers.Options{Seed: 1})
	ev.exec = ev.kern.Exec(0)
	ev.exec.Stream = ev.streams.Sink
	return ev, nil
}

// run runs entry program name with a NULL context and returns r0.
func (ev *env) run(name string) uint64 {
	ev.t.Helper()
	p := ev.obj.Program(name)
	if p == nil {
		ev.t.Fatalf("no program %s", name)
	}
	ret, err := ev.exec.Run(p.VM, 0)
	if err != nil {
		ev.t.Fatalf("run %s: %v", name, err)
	}
	if len(ev.errs) > 0 {
		ev.t.Fatalf("run %s: scx_bpf_error(%q)", name, ev.errs)
	}
	return ret
}

// stderr consumes program name's stderr stream.
func (ev *env) stderr(name string) string {
	p := ev.streams.Lookup(name)
	if p == nil {
		return ""
	}
	return p.Stream(stream.Stderr).ReadAll()
}

func (ev *env) global(name string) []byte {
	ev.t.Helper()
	b, err := ev.obj.ReadGlobal(name)
	if err != nil {
		ev.t.Fatal(err)
	}
	return b
}

func (ev *env) u64(name string) uint64 { return binary.LittleEndian.Uint64(ev.global(name)) }

func (ev *env) set(name string, v any) {
	ev.t.Helper()
	if err := ev.obj.WriteGlobal(name, v); err != nil {
		ev.t.Fatal(err)
	}
}

// user reads n bytes at user-view address uaddr of the arena.
func (ev *env) user(uaddr uint64, n int) []byte {
	ev.t.Helper()
	b := make([]byte, n)
	if err := ev.arena.UserRead(uaddr, b); err != nil {
		ev.t.Fatalf("UserRead(%#x, %d): %v", uaddr, n, err)
	}
	return b
}

func (ev *env) userU64(uaddr uint64) uint64 { return binary.LittleEndian.Uint64(ev.user(uaddr, 8)) }

func u64s(vs []uint64) []byte {
	b := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}
