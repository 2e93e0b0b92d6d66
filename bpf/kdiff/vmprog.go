package kdiff

import (
	"fmt"

	"github.com/scxsim/scxsim/bpf/vm"
)

// VMProg is a program loaded in scxsim's VM with the same calling convention
// as Prog: r1 = address of the input memory, r2 = its length. The VM has no
// helpers or kfuncs here, like the generated programs.
type VMProg struct {
	prog   *vm.Program
	exec   *vm.Exec
	mem    []byte
	addr   uint64
	memLen int
}

// LoadVM loads insns into the VM for memLen bytes of input memory.
func LoadVM(name string, insns []vm.Insn, memLen int) (*VMProg, error) {
	p, err := vm.Load(name, insns, nil)
	if err != nil {
		return nil, err
	}
	m := vm.NewMemory()
	buf := make([]byte, memLen)
	_, addr := m.Map("mem", buf, vm.PermRW)
	return &VMProg{prog: p, exec: vm.NewExec(m), mem: buf, addr: addr, memLen: memLen}, nil
}

// Run runs the program on a copy of mem and returns r0.
func (p *VMProg) Run(mem []byte) (uint64, error) {
	if len(mem) != p.memLen {
		return 0, fmt.Errorf("kdiff: memory has %d bytes, program was loaded for %d", len(mem), p.memLen)
	}
	copy(p.mem, mem)
	return p.exec.Run(p.prog, p.addr, uint64(p.memLen))
}

// RunMem is Run that also returns the memory as the program left it.
func (p *VMProg) RunMem(mem []byte) (uint64, []byte, error) {
	r0, err := p.Run(mem)
	return r0, append([]byte(nil), p.mem...), err
}

// Steps is the number of instructions the last Run executed.
func (p *VMProg) Steps() uint64 { return p.exec.Steps() }
