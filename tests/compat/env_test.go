package compat

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/arena"
	"github.com/scxsim/scxsim/bpf/helpers"
	"github.com/scxsim/scxsim/bpf/loader"
	"github.com/scxsim/scxsim/bpf/stream"
	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/ktypes"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
)

const (
	nCPU    = 4
	objPath = "testdata/compat.bpf.o"
)

var le = binary.LittleEndian

// kernel describes the simulated kernel a test loads the object for: the
// default one (kernel/ktypes' BTF, bpfsched's Kconfig) or an older
// sched_ext built from it by dropping types and adding kfuncs under older
// names.
type kernel struct {
	name    string
	version uint32
	drop    []string    // FUNC and STRUCT names the kernel does not have
	add     [][2]string // {new kfunc, kfunc whose prototype it has}
}

var (
	kernel70  = kernel{name: "7.0", version: loader.KernelVersion(7, 0, 0)}
	kernel613 = kernel{
		// scx_bpf_dsq_insert() without a bool result, no argument-struct
		// kfuncs, no scx_bpf_now(), no scx_bpf_task_set_slice().
		name: "6.13", version: loader.KernelVersion(6, 13, 0),
		drop: []string{
			"scx_bpf_dsq_insert___v2", "scx_bpf_dsq_move_to_local___v2",
			"__scx_bpf_dsq_insert_vtime", "scx_bpf_dsq_insert_vtime_args",
			"__scx_bpf_select_cpu_and", "scx_bpf_select_cpu_and_args", "scx_bpf_select_cpu_and",
			"scx_bpf_reenqueue_local___v2", "scx_bpf_task_set_slice", "scx_bpf_task_set_dsq_vtime",
			"scx_bpf_now",
		},
	}
	kernel612 = kernel{
		// Before the dsq_insert/dsq_move renames: scx_bpf_dispatch*() and
		// scx_bpf_consume().
		name: "6.12", version: loader.KernelVersion(6, 12, 0),
		drop: append(slices.Clone(kernel613.drop),
			"scx_bpf_dsq_insert", "scx_bpf_dsq_insert_vtime", "scx_bpf_dsq_move_to_local"),
		add: [][2]string{
			{"scx_bpf_dispatch", "scx_bpf_dsq_insert"},
			{"scx_bpf_dispatch_vtime", "scx_bpf_dsq_insert_vtime"},
			{"scx_bpf_consume", "scx_bpf_dsq_move_to_local"},
		},
	}
)

// spec builds the kernel's BTF.
func (k kernel) spec(t *testing.T) *btf.Spec {
	t.Helper()
	base, err := ktypes.BTF()
	if err != nil {
		t.Fatal(err)
	}
	if len(k.drop) == 0 && len(k.add) == 0 {
		return base
	}
	drop := map[string]bool{}
	for _, n := range k.drop {
		drop[n] = true
	}
	protos := map[string]btf.Type{}
	var types []btf.Type
	for typ, err := range base.All() {
		if err != nil {
			t.Fatal(err)
		}
		switch v := typ.(type) {
		case *btf.Void, *btf.Pointer, *btf.FuncProto, *btf.Const, *btf.Volatile,
			*btf.Restrict, *btf.TypeTag, *btf.Array:
			// Reached from the named types that use them, so that a
			// dropped struct is not kept alive by a pointer to it.
			continue
		case *btf.Func:
			protos[v.Name] = v.Type
			if drop[v.Name] {
				continue
			}
		case *btf.Struct:
			if drop[v.Name] {
				continue
			}
		}
		types = append(types, typ)
	}
	for _, a := range k.add {
		proto := protos[a[1]]
		if proto == nil {
			t.Fatalf("kernel %s: no kfunc %s to copy", k.name, a[1])
		}
		types = append(types, &btf.Func{Name: a[0], Type: proto, Linkage: btf.GlobalFunc})
	}
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range k.drop {
		if ts, _ := spec.AnyTypesByName(n); len(ts) > 0 {
			t.Fatalf("kernel %s still has %s (another type refers to it)", k.name, n)
		}
	}
	return spec
}

// kcall is one call of a recorded scx kfunc: the kernel function's name
// and its arguments (and for argument-struct kfuncs the struct's bytes).
type kcall struct {
	name string
	args [5]uint64
	data []byte
}

// env is the compat object loaded into a simulated kernel, with a
// FakeKernel to run its programs: scx_bpf_* kfuncs are recorded (with
// results from rets), the others are bpf/helpers', bpf/arena's and
// bpf/stream's.
type env struct {
	t       *testing.T
	kern    kernel
	obj     *loader.Object
	mem     *vm.Memory
	fk      *helpers.FakeKernel
	exec    *vm.Exec
	ops     *loader.StructOps
	streams *stream.Set
	calls   []kcall
	errs    []string // scx_bpf_error() messages
	rets    map[string]uint64
	stream  []string // VM and arena violation reports

	percpu     []byte // nCPU copies of the per-CPU area
	percpuBase uint64
	tasks      map[uint64]int // task_struct -> CPU it is on
}

type loadCfg struct {
	path    string // object to load; objPath if empty
	kern    kernel
	kconfig []string
	globals []string
}

// loaderOptions returns `scxsim check`'s loader options (bpfsched's) for
// cfg, its kernel's BTF and version swapped in.
func loaderOptions(t *testing.T, cfg loadCfg) loader.Options {
	t.Helper()
	benv, err := bpfsched.NewEnv(bpfsched.Config{CPUs: nCPU, Kconfig: cfg.kconfig, Globals: cfg.globals})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := benv.LoaderOptions()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.kern.name == "" {
		cfg.kern = kernel70
	}
	opts.KernelBTF = cfg.kern.spec(t)
	opts.KernelVersion = cfg.kern.version
	return opts
}

func readObject(t *testing.T) []byte { return readObjectAt(t, objPath) }

func readObjectAt(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// isScxKfunc says whether kfunc name belongs to the sched_ext core (which
// the tests record instead of running).
func isScxKfunc(name string) bool {
	return strings.HasPrefix(name, "scx_bpf_") || strings.HasPrefix(name, "__scx_bpf_") ||
		strings.HasPrefix(name, "bpf_iter_scx_dsq_")
}

// load loads the compat object for cfg and prepares a FakeKernel run
// environment on its address space.
func load(t *testing.T, cfg loadCfg) *env {
	t.Helper()
	if cfg.kern.name == "" {
		cfg.kern = kernel70
	}
	opts := loaderOptions(t, cfg)
	ev := &env{t: t, kern: cfg.kern, mem: opts.Memory, rets: map[string]uint64{}, tasks: map[uint64]int{}}
	ev.fk = helpers.NewFakeKernel(ev.mem, nCPU, helpers.Options{Seed: 7})

	// Every CPU's copy of the kernel variables; the symbols name CPU 0's.
	size := ktypes.PerCPUSize()
	ev.percpu = make([]byte, size*nCPU)
	_, ev.percpuBase = ev.mem.Map("compat percpu", ev.percpu, vm.PermRead)
	syms := map[string]uint64{}
	for _, v := range ktypes.KernelVars() {
		addr := ev.percpuBase + uint64(v.Offset)
		syms[v.Name] = addr
		for cpu := range nCPU {
			ev.fk.PerCPU[addr] = append(ev.fk.PerCPU[addr], addr+uint64(cpu*size))
		}
	}
	opts.KernelSymbols = syms

	table := helpers.NewTable()
	table.AddKfuncs(arena.Kfuncs(nil))
	ev.streams = stream.NewSet()
	table.AddKfuncs(ev.streams.Kfuncs())
	opts.Kfuncs = func(name string) (vm.Helper, bool) {
		if isScxKfunc(name) {
			return ev.record(name), true
		}
		return table.Kfunc(name)
	}

	if cfg.path == "" {
		cfg.path = objPath
	}
	obj, err := loader.Load(readObjectAt(t, cfg.path), opts)
	if err != nil {
		t.Fatalf("load for kernel %s: %v", cfg.kern.name, err)
	}
	t.Cleanup(obj.Close)
	ev.obj = obj
	if len(obj.StructOps) != 1 {
		t.Fatalf("%d struct_ops maps, want 1", len(obj.StructOps))
	}
	ev.ops = obj.StructOps[0]
	ev.exec = ev.fk.Exec(0)
	ev.exec.Stream = func(prog string, fd int, msg string) {
		ev.stream = append(ev.stream, fmt.Sprintf("%s[%d]: %s", prog, fd, msg))
	}
	return ev
}

// record returns the stand-in of scx kfunc name.
func (ev *env) record(name string) vm.Helper {
	return func(e *vm.Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		c := kcall{name: name, args: [5]uint64{r1, r2, r3, r4, r5}}
		switch name {
		case "__scx_bpf_dsq_insert_vtime":
			c.data = ev.copyArg(e, r2, "scx_bpf_dsq_insert_vtime_args")
		case "__scx_bpf_select_cpu_and":
			c.data = ev.copyArg(e, r3, "scx_bpf_select_cpu_and_args")
		case "scx_bpf_error_bstr":
			ev.errs = append(ev.errs, ev.bstr(e, r1, r2, r3))
		case "scx_bpf_task_cpu":
			ev.calls = append(ev.calls, c)
			return uint64(ev.tasks[r1]), nil
		case "scx_bpf_select_cpu_dfl":
			// *is_idle = false
			if b, err := e.Slice(r4, 1, true); err == nil {
				b[0] = 0
			}
		}
		ev.calls = append(ev.calls, c)
		return ev.rets[name], nil
	}
}

// copyArg copies the argument struct a kfunc received.
func (ev *env) copyArg(e *vm.Exec, addr uint64, typ string) []byte {
	size := ev.typeSize(typ)
	b, err := e.Slice(addr, size, false)
	if err != nil {
		ev.t.Errorf("%s argument at %#x: %v", typ, addr, err)
		return nil
	}
	return slices.Clone(b)
}

// bstr formats a *_bstr kfunc's format and u64 data as the kernel does.
func (ev *env) bstr(e *vm.Exec, fmtAddr, data, size uint64) string {
	f, err := e.Mem.CString(fmtAddr, 1024)
	if err != nil {
		return fmt.Sprintf("<bad format at %#x: %v>", fmtAddr, err)
	}
	raw, err := e.Slice(data, int(size), false)
	if err != nil || size%8 != 0 {
		return fmt.Sprintf("<bad data at %#x size %d>", data, size)
	}
	args := make([]uint64, size/8)
	for i := range args {
		args[i] = le.Uint64(raw[8*i:])
	}
	out, _, err := stream.Bprintf([]byte(f), args, stream.ExecReader{E: e}, stream.MaxBprintfBuf)
	if err != nil {
		return fmt.Sprintf("<format %q: %v>", f, err)
	}
	return out
}

// takeCalls lists the recorded calls of kernel functions named in names (all
// recorded calls when names is empty), then forgets every recorded call.
func (ev *env) takeCalls(names ...string) []kcall {
	var out []kcall
	for _, c := range ev.calls {
		if len(names) == 0 || slices.Contains(names, c.name) {
			out = append(out, c)
		}
	}
	ev.calls = nil
	return out
}

// run runs SEC("syscall") program name on cpu and returns r0 (an int).
func (ev *env) run(name string, cpu int) int32 {
	ev.t.Helper()
	p := ev.obj.Program(name)
	if p == nil {
		ev.t.Fatalf("no program %s", name)
	}
	ev.exec.CPU = cpu
	ret, err := ev.exec.Run(p.VM, 0)
	if err != nil {
		ev.t.Fatalf("run %s: %v", name, err)
	}
	return int32(ret)
}

// op calls the program bound to struct_ops member op with args as its
// u64 context array, on cpu.
func (ev *env) op(op string, cpu int, args ...uint64) uint64 {
	ev.t.Helper()
	ret, err := ev.tryOp(op, cpu, args...)
	if err != nil {
		ev.t.Fatalf("op %s: %v", op, err)
	}
	return ret
}

func (ev *env) tryOp(op string, cpu int, args ...uint64) (uint64, error) {
	ev.t.Helper()
	p := ev.ops.Prog(op)
	if p == nil {
		ev.t.Fatalf("op %s is not bound", op)
	}
	ctx := make([]byte, 8*max(len(args), 1))
	for i, a := range args {
		le.PutUint64(ctx[8*i:], a)
	}
	id, addr := ev.mem.Map("ctx "+op, ctx, vm.PermRead)
	defer ev.mem.Unmap(id)
	ev.exec.CPU = cpu
	return ev.exec.Run(p.VM, addr)
}

func (ev *env) global(name string) []byte {
	ev.t.Helper()
	b, err := ev.obj.ReadGlobal(name)
	if err != nil {
		ev.t.Fatal(err)
	}
	return b
}

func (ev *env) u64(name string) uint64 { return le.Uint64(ev.global(name)) }

// s64At is element i of a global s64 array.
func (ev *env) s64At(name string, i int) int64 { return int64(le.Uint64(ev.global(name)[8*i:])) }

// kernelType finds a struct of the simulated kernel's BTF.
func kernelStruct(t *testing.T, name string) *btf.Struct {
	t.Helper()
	spec, err := ktypes.BTF()
	if err != nil {
		t.Fatal(err)
	}
	var s *btf.Struct
	if err := spec.TypeByName(name, &s); err != nil {
		t.Fatalf("struct %s: %v", name, err)
	}
	return s
}

func (ev *env) typeSize(name string) int { return int(kernelStruct(ev.t, name).Size) }

// offsetOf is the byte offset of a (dotted) member path in a kernel struct.
func offsetOf(t *testing.T, typ, path string) int {
	t.Helper()
	s := kernelStruct(t, typ)
	off := 0
	for _, part := range strings.Split(path, ".") {
		found := false
		for _, m := range s.Members {
			if m.Name != part {
				continue
			}
			off += int(m.Offset.Bytes())
			if inner, ok := btf.UnderlyingType(m.Type).(*btf.Struct); ok {
				s = inner
			}
			found = true
			break
		}
		if !found {
			t.Fatalf("%s has no member %s", typ, path)
		}
	}
	return off
}

// newTask maps a full-size task_struct with pid, comm and cpus_ptr set,
// registers it with the FakeKernel and says it is on cpu.
func (ev *env) newTask(pid int32, comm string, cpu int) (uint64, []byte) {
	t := ev.t
	b := make([]byte, ev.typeSize("task_struct"))
	le.PutUint32(b[offsetOf(t, "task_struct", "pid"):], uint32(pid))
	copy(b[offsetOf(t, "task_struct", "comm"):offsetOf(t, "task_struct", "comm")+15], comm)
	_, addr := ev.mem.Map("task_struct "+comm, b, vm.PermRW)
	le.PutUint64(b[offsetOf(t, "task_struct", "cpus_ptr"):], addr+uint64(offsetOf(t, "task_struct", "cpus_mask")))
	ev.fk.Tasks[addr] = &helpers.FakeTask{Pid: pid, Tgid: pid, Comm: comm, Refs: 1}
	ev.tasks[addr] = cpu
	return addr, b
}
