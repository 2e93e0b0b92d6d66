package bpfsched

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/scxsim/scxsim/bpf/arena"
	"github.com/scxsim/scxsim/bpf/helpers"
	"github.com/scxsim/scxsim/bpf/loader"
	"github.com/scxsim/scxsim/bpf/stream"
	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/ktypes"
	"github.com/scxsim/scxsim/kernel/topo"
)

// DefaultKconfig is the simulated kernel's configuration as .kconfig externs
// see it: an x86-64 build with PREEMPT_RCU and 1000 Hz ticks.
var DefaultKconfig = map[string]string{
	"CONFIG_X86_64":            "y",
	"CONFIG_SMP":               "y",
	"CONFIG_NR_CPUS":           "512",
	"CONFIG_HZ":                "1000",
	"CONFIG_PREEMPT_RCU":       "y",
	"CONFIG_PREEMPT_RT":        "n",
	"CONFIG_NO_HZ_IDLE":        "y",
	"CONFIG_SCHED_CLASS_EXT":   "y",
	"CONFIG_DEBUG_INFO_BTF":    "y",
	"CONFIG_CC_VERSION_TEXT":   `"clang version 19"`,
	"CONFIG_LOCALVERSION":      `""`,
	"CONFIG_BPF_SYSCALL":       "y",
	"CONFIG_BPF_JIT_ALWAYS_ON": "y",
}

// KernelVersion is LINUX_KERNEL_VERSION of the simulated kernel.
var KernelVersion = loader.KernelVersion(7, 0, 0)

// Config describes the simulated kernel an object is loaded for.
type Config struct {
	// Machine is the machine the scheduler will run on: nr_cpu_ids, NUMA
	// nodes and the LLC variables come from it. nil means CPUs identical
	// CPUs on one node.
	Machine *topo.Machine
	// CPUs is the number of possible CPUs when Machine is nil (default 8).
	CPUs int
	// Kconfig overrides DefaultKconfig: CONFIG_NAME=VALUE entries.
	Kconfig []string
	// Globals are NAME=VALUE overrides of global variables, applied
	// before load (as a skeleton's rodata writes are).
	Globals []string
	// Seed seeds bpf_get_prandom_u32.
	Seed uint64
	// MaxMapMemory bounds map preallocation (0: the loader's default).
	MaxMapMemory uint64
	// Budget caps the instructions one op's run may execute, credits for
	// bounded loops included (vm.Exec.Budget; 0: vm.MaxBudget). A program
	// past it is ejected.
	Budget uint64
}

// Env is the simulated kernel one object is loaded into: its address space
// (maps, globals, task_struct mirrors, per-CPU kernel variables), helper
// runtime, BPF streams and the loader options binding them.
type Env struct {
	cfg     Config
	nCPU    int
	nodes   int
	mem     *vm.Memory
	rt      *helpers.Runtime
	streams *stream.Set
	table   *helpers.Table
	kconfig map[string]string
	k       *Kernel

	percpuBase uint64 // CPU 0's copy of the kernel variables
	percpu     []byte // nCPU copies of PerCPUSize bytes
	syms       map[string]uint64
}

// NewEnv builds the simulated kernel for cfg.
func NewEnv(cfg Config) (*Env, error) {
	n := cfg.CPUs
	nodes := 1
	if cfg.Machine != nil {
		n = cfg.Machine.NrCPUIDs()
		nodes = max(cfg.Machine.NrNodeIDs(), 1)
	}
	if n <= 0 {
		n = 8
	}
	kc := maps.Clone(DefaultKconfig)
	for _, a := range cfg.Kconfig {
		name, val, ok := strings.Cut(a, "=")
		if !ok || !strings.HasPrefix(name, "CONFIG_") {
			return nil, fmt.Errorf("kconfig %q: want CONFIG_NAME=VALUE", a)
		}
		kc[name] = val
	}
	env := &Env{cfg: cfg, nCPU: n, nodes: nodes, mem: vm.NewMemory(), streams: stream.NewSet(), kconfig: kc}
	env.k = newKernel(env)
	env.rt = helpers.NewRuntime(env.mem, env.k, helpers.Options{Seed: cfg.Seed})
	env.table = helpers.NewTable()
	env.table.AddKfuncs(arena.Kfuncs(nil))
	env.table.AddKfuncs(env.streams.Kfuncs())
	env.table.AddKfuncs(scxKfuncs())
	env.table.AddKfuncs(subKfuncs())

	// The per-CPU area behind the __ksym kernel variables: one copy per
	// CPU, the symbols pointing at CPU 0's (per_cpu_ptr adds the offset).
	env.syms = map[string]uint64{}
	if size := ktypes.PerCPUSize(); size > 0 {
		env.percpu = make([]byte, size*n)
		_, env.percpuBase = env.mem.Map("percpu", env.percpu, vm.PermRead)
		for _, v := range ktypes.KernelVars() {
			env.syms[v.Name] = env.percpuBase + uint64(v.Offset)
		}
	}
	return env, nil
}

// LoaderOptions are the loader options of the simulated kernel: its BTF,
// helpers, kfuncs (generic, arena, stream and every scx_bpf_* kfunc the
// adapter implements), the sched_ext kfunc filter, Kconfig, kernel
// variables and the address space.
func (env *Env) LoaderOptions() (loader.Options, error) {
	kbtf, err := ktypes.BTF()
	if err != nil {
		return loader.Options{}, err
	}
	return loader.Options{
		KernelBTF:     kbtf,
		Helpers:       env.table.Helper,
		Kfuncs:        env.table.Kfunc,
		KfuncFilter:   KfuncFilter,
		KernelVersion: KernelVersion,
		Kconfig:       maps.Clone(env.kconfig),
		KernelSymbols: maps.Clone(env.syms),
		Globals:       slices.Clone(env.cfg.Globals),
		NumCPU:        env.nCPU,
		NumaNodes:     env.nodes,
		Memory:        env.mem,
		MaxMapMemory:  env.cfg.MaxMapMemory,
	}, nil
}

// Memory is the address space of the object.
func (env *Env) Memory() *vm.Memory { return env.mem }

// Runtime is the helpers' state.
func (env *Env) Runtime() *helpers.Runtime { return env.rt }

// Streams are the BPF streams of the object's programs.
func (env *Env) Streams() *stream.Set { return env.streams }

// Kernel is the helpers.Kernel of the object.
func (env *Env) Kernel() *Kernel { return env.k }

// NrCPUIDs is nr_cpu_ids of the environment.
func (env *Env) NrCPUIDs() int { return env.nCPU }

// KfuncFilter applies the sched_ext kfunc filters (per callback, per form)
// to a program calling kfunc name, as scx_kfunc_context_filter() does at
// verification: a refusal fails the load with "calling kernel function
// NAME is not allowed".
func KfuncFilter(name string, p loader.ProgContext) bool {
	k, ok := ktypes.LookupKfunc(name)
	if !ok {
		return true
	}
	pt := ktypes.ProgTracing
	switch {
	case strings.HasPrefix(p.Section, "struct_ops"):
		pt = ktypes.ProgStructOps
	case p.Section == "syscall":
		pt = ktypes.ProgSyscall
	}
	return ktypes.KfuncAllowed(k, pt, p.Op, p.StructOps == "sched_ext_ops_cid")
}
