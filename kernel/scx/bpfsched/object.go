package bpfsched

import (
	"slices"

	"github.com/scxsim/scxsim/bpf/loader"
	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/topo"
)

// Object is a BPF object loaded into its own simulated kernel (Env).
type Object struct {
	Env *Env
	// Obj is the loader's view: programs, struct_ops, maps, globals.
	Obj *loader.Object
	// OpsHook, when set, sees the ops Attach built before they are
	// registered (the simulator wraps them to count op calls).
	OpsHook func(*scx.Ops)
	// OpRunHook, when set, is called after each run of a struct_ops
	// member program with the instructions that run executed itself.
	// An op a kfunc triggers while another op's program runs is a run
	// of its own, reported (first) on its own and not counted in the
	// outer one, so each op is charged exactly its own instructions.
	OpRunHook func(insns uint64)
	closed    bool
}

// Load loads a clang-built sched_ext object (cpu- or cid-form) for the
// simulated kernel described by cfg: kernel/ktypes' BTF, the helper table,
// arena, stream and scx_bpf_* kfuncs, the per-op/per-form kfunc filter,
// kernel variables and Kconfig. Errors are the loader's, in the kernel's
// words (a cid-form program calling a cpu-only kfunc: "calling kernel
// function NAME is not allowed").
func Load(raw []byte, cfg Config) (*Object, error) {
	env, err := NewEnv(cfg)
	if err != nil {
		return nil, err
	}
	opts, err := env.LoaderOptions()
	if err != nil {
		return nil, err
	}
	spec, err := loader.Open(raw, opts)
	if err != nil {
		return nil, err
	}
	for _, g := range opts.Globals {
		if err := spec.SetGlobalString(g); err != nil {
			return nil, err
		}
	}
	if err := sizeExitDumps(spec); err != nil {
		return nil, err
	}
	env.useObjectTypes(spec)
	obj, err := spec.Load()
	if err != nil {
		return nil, err
	}
	return &Object{Env: env, Obj: obj}, nil
}

// Close drops the object's own references (its programs' and map handles),
// as closing a skeleton does. An attached scheduler keeps what it uses.
func (o *Object) Close() {
	if o.closed {
		return
	}
	o.closed = true
	o.Obj.Close()
}

// Kernel is the object's simulated kernel.
func (o *Object) Kernel() *Kernel { return o.Env.k }

// cpumaskArg is the struct cpumask * ops.set_cpumask() receives: p's own
// cpus_mask when cpus is its affinity (set_cpus_allowed_scx() passes
// p->cpus_ptr), else a scratch copy.
func (k *Kernel) cpumaskArg(p *scx.Task, cpus topo.CPUMask) uint64 {
	m := k.mirrorOf(p)
	if sameMask(cpus, p.CPUsAllowed()) {
		return m.addr + uint64(taskLayout.cpusMask)
	}
	return k.maskAddr(maskKey{kind: maskScratch}, cpus)
}

// maskKind names the kernel cpumasks kfuncs hand out.
type maskKind int

const (
	maskPossible maskKind = iota
	maskOnline
	maskIdle
	maskIdleSMT
	maskScratch
)

type maskKey struct {
	kind maskKind
	node int
}

type maskRegion struct {
	addr uint64
	b    []byte
}

// maskAddr stores cpus into the struct cpumask for key and returns its
// address. The kernel returns pointers to its live masks; scxsim copies
// the core's mask at the time of the call.
func (k *Kernel) maskAddr(key maskKey, cpus topo.CPUMask) uint64 {
	r := k.masks[key]
	if r == nil {
		b := make([]byte, cpumaskBytes)
		_, addr := k.env.mem.Map("cpumask", b, vm.PermRead)
		r = &maskRegion{addr: addr, b: b}
		k.masks[key] = r
	}
	clear(r.b)
	for i, w := range cpus {
		if 8*i+8 <= len(r.b) {
			le.PutUint64(r.b[8*i:], w)
		}
	}
	return r.addr
}

// readCpumask reads a struct cpumask argument (its first nr_cpu_ids bits).
func (k *Kernel) readCpumask(e *vm.Exec, addr uint64) (topo.CPUMask, bool) {
	m := topo.NewCPUMask(k.env.nCPU)
	b, err := e.Slice(addr, 8*len(m), false)
	if err != nil {
		return nil, false
	}
	for i := range m {
		m[i] = le.Uint64(b[8*i:])
	}
	if r := k.env.nCPU % 64; r != 0 {
		m[len(m)-1] &= 1<<r - 1
	}
	return m, true
}

func slicesSort(s []uint64) { slices.Sort(s) }
