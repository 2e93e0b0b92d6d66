package helpers

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/asm"
	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

// env is a test rig: a fake kernel, this package's table, and programs
// assembled from text. Kfuncs are given BTF ids in order of first use.
type env struct {
	t     *testing.T
	mem   *vm.Memory
	k     *FakeKernel
	tab   *Table
	kf    []string
	progs map[string]*vm.Program
	execs map[int]*vm.Exec
}

func newEnv(t *testing.T, ncpu int) *env {
	mem := vm.NewMemory()
	return &env{t: t, mem: mem, k: NewFakeKernel(mem, ncpu, Options{Seed: 42}), tab: NewTable(),
		progs: map[string]*vm.Program{}, execs: map[int]*vm.Exec{}}
}

func (v *env) vmEnv() *vm.Env {
	return &vm.Env{
		Helper: v.tab.Helper,
		Kfunc: func(id int32, off int16) (vm.Helper, bool) {
			if id < 1 || int(id) > len(v.kf) {
				return nil, false
			}
			return v.tab.Kfunc(v.kf[id-1])
		},
	}
}

// kfunc returns the BTF id standing for name in programs.
func (v *env) kfunc(name string) int {
	for i, n := range v.kf {
		if n == name {
			return i + 1
		}
	}
	v.kf = append(v.kf, name)
	return len(v.kf)
}

// funcMarker in an lddw immediate names callback i: it becomes
// ld_imm64 BPF_PSEUDO_FUNC of the i-th callback.
const funcMarker uint64 = 0xf00d_0000_0000_0000

// load assembles main followed by callbacks; in main (and callbacks),
// `lddw %rN, CB(i)` loads the address of callback i and `lddw %rN, ENTRY`
// that of the program's entry.
func (v *env) load(name, main string, callbacks ...string) *vm.Program {
	v.t.Helper()
	parts := append([]string{main}, callbacks...)
	var insns []vm.Insn
	var starts []int
	for _, src := range parts {
		src = strings.NewReplacer("CB(0)", fmt.Sprintf("%#x", funcMarker), "CB(1)", fmt.Sprintf("%#x", funcMarker+1), "ENTRY", fmt.Sprintf("%#x", funcMarker+0xff)).Replace(src)
		in, err := asm.Assemble(src)
		if err != nil {
			v.t.Fatalf("assemble %s: %v", name, err)
		}
		starts = append(starts, len(insns))
		insns = append(insns, in...)
	}
	for pc := 0; pc+1 < len(insns); pc++ {
		in := insns[pc]
		if in.Op != 0x18 {
			continue
		}
		val := uint64(uint32(in.Imm)) | uint64(uint32(insns[pc+1].Imm))<<32
		if val&^0xff == funcMarker {
			target := 0
			if val&0xff != 0xff {
				target = starts[1+int(val&0xff)]
			}
			insns[pc].Src = vm.PseudoFunc
			insns[pc].Imm = int32(target - pc - 1)
			insns[pc+1].Imm = 0
		}
		pc++
	}
	p, err := vm.Load(name, insns, v.vmEnv())
	if err != nil {
		v.t.Fatalf("load %s: %v", name, err)
	}
	return p
}

func (v *env) exec(cpu int) *vm.Exec {
	e, ok := v.execs[cpu]
	if !ok {
		e = v.k.Exec(cpu)
		v.execs[cpu] = e
	}
	return e
}

func (v *env) run(p *vm.Program, cpu int, args ...uint64) uint64 {
	v.t.Helper()
	r, err := v.exec(cpu).Run(p, args...)
	if err != nil {
		v.t.Fatalf("run %s: %v", p.Name, err)
	}
	return r
}

func (v *env) runErr(p *vm.Program, cpu int, args ...uint64) error {
	_, err := v.exec(cpu).Run(p, args...)
	return err
}

// callProg is `call <id>; exit`: r1..r5 pass straight to the helper.
func (v *env) callProg(id int32) *vm.Program {
	key := fmt.Sprint("helper", id)
	if p, ok := v.progs[key]; ok {
		return p
	}
	p := v.load(key, fmt.Sprintf("call %d\nexit", id))
	v.progs[key] = p
	return p
}

func (v *env) kcallProg(name string) *vm.Program {
	if p, ok := v.progs[name]; ok {
		return p
	}
	p := v.load(name, fmt.Sprintf("call runtime %d\nexit", v.kfunc(name)))
	v.progs[name] = p
	return p
}

// call runs helper id on cpu with r1..r5 = args and returns r0.
func (v *env) call(cpu int, id int32, args ...uint64) uint64 {
	v.t.Helper()
	return v.run(v.callProg(id), cpu, args...)
}

func (v *env) callErr(cpu int, id int32, args ...uint64) error {
	return v.runErr(v.callProg(id), cpu, args...)
}

// kcall runs kfunc name.
func (v *env) kcall(cpu int, name string, args ...uint64) uint64 {
	v.t.Helper()
	return v.run(v.kcallProg(name), cpu, args...)
}

// buf maps n zero bytes and returns their address and backing slice.
func (v *env) buf(n int) (uint64, []byte) {
	b := make([]byte, n)
	_, a := v.mem.Map("test buffer", b, vm.PermRW)
	return a, b
}

func (v *env) newMap(s maps.Spec) maps.Map {
	v.t.Helper()
	m, err := maps.New(v.mem, &s, v.k.CPUs)
	if err != nil {
		v.t.Fatal(err)
	}
	return m
}

func e(en syscall.Errno) uint64 { return uint64(-int64(en)) }
