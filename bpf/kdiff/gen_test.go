package kdiff

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/scxsim/scxsim/bpf/isa"
	"github.com/scxsim/scxsim/bpf/vm"
)

// kind names an instruction form: its opcode plus the field that selects a
// variant (off for signed division and movsx, imm for byte swaps and
// atomics).
func kind(in vm.Insn) string {
	switch cls := isa.Class(in.Op); {
	case cls == isa.ALU || cls == isa.ALU64:
		if isa.Op(in.Op) == isa.END {
			return fmt.Sprintf("%02x/%d", in.Op, in.Imm)
		}
		return fmt.Sprintf("%02x/%d", in.Op, in.Off)
	case cls == isa.STX && isa.Mode(in.Op) == isa.ATOMIC:
		return fmt.Sprintf("%02x/%#x", in.Op, in.Imm)
	}
	return fmt.Sprintf("%02x", in.Op)
}

// wantKinds lists every instruction form the generator must produce.
func wantKinds() []string {
	var k []string
	add := func(op uint8, v int) { k = append(k, fmt.Sprintf("%02x/%d", op, v)) }
	for _, cls := range []uint8{isa.ALU, isa.ALU64} {
		for _, src := range []uint8{isa.K, isa.X} {
			for _, op := range aluOps {
				add(cls|op|src, 0)
			}
			add(cls|isa.DIV|src, 1) // sdiv
			add(cls|isa.MOD|src, 1) // smod
		}
		add(cls|isa.NEG, 0)
		add(cls|isa.MOV|isa.X, 8) // movsx
		add(cls|isa.MOV|isa.X, 16)
	}
	add(isa.ALU64|isa.MOV|isa.X, 32)
	for _, w := range []int{16, 32, 64} {
		add(isa.ALU|isa.END|isa.K, w) // le
		add(isa.ALU|isa.END|isa.X, w) // be
		add(isa.ALU64|isa.END, w)     // bswap
	}
	for _, size := range []uint8{isa.B, isa.H, isa.W, isa.DW} {
		for _, op := range []uint8{isa.LDX | isa.MEM, isa.ST | isa.MEM, isa.STX | isa.MEM} {
			k = append(k, fmt.Sprintf("%02x", op|size))
		}
		if size != isa.DW {
			k = append(k, fmt.Sprintf("%02x", isa.LDX|isa.MEMSX|size))
		}
	}
	for _, size := range []uint8{isa.W, isa.DW} {
		for _, op := range atomicOps {
			k = append(k, fmt.Sprintf("%02x/%#x", isa.STX|isa.ATOMIC|size, op))
		}
	}
	for _, cls := range []uint8{isa.JMP, isa.JMP32} {
		for _, op := range jmpOps {
			k = append(k, fmt.Sprintf("%02x", cls|op|isa.K), fmt.Sprintf("%02x", cls|op|isa.X))
		}
		k = append(k, fmt.Sprintf("%02x", cls|isa.JA)) // ja, gotol
	}
	return append(k, fmt.Sprintf("%02x", isa.LD|isa.IMM|isa.DW), fmt.Sprintf("%02x", isa.JMP|isa.CALL), fmt.Sprintf("%02x", isa.JMP|isa.EXIT))
}

// TestGenerateCovers checks that a few hundred programs use every
// instruction form the differential test is meant to cover, backward jumps,
// bpf-to-bpf calls and stack pointers in other registers included.
func TestGenerateCovers(t *testing.T) {
	seen := map[string]int{}
	backward, viaPtr, deepest := 0, 0, 0
	for i := range 300 {
		p, _ := generate(rand.New(rand.NewPCG(3, uint64(i))), DefaultGenOptions)
		for _, in := range p {
			seen[kind(in)]++
			cls := isa.Class(in.Op)
			if (cls == isa.JMP || cls == isa.JMP32) && isa.Op(in.Op) != isa.CALL && in.Off < 0 {
				backward++
			}
			if (cls == isa.LDX && in.Src == regFP || (cls == isa.ST || cls == isa.STX) && in.Dst == regFP) && int(in.Off) < deepest {
				deepest = int(in.Off)
			}
			// Stack accesses through a copy of r10 or a caller's pointer.
			if cls == isa.LDX && in.Src != regMem && in.Src != regFP ||
				(cls == isa.ST || cls == isa.STX) && in.Dst != regMem && in.Dst != regFP {
				viaPtr++
			}
		}
	}
	for _, k := range wantKinds() {
		if seen[k] == 0 {
			t.Errorf("no instruction of form %s in 300 programs", k)
		}
	}
	if backward == 0 {
		t.Errorf("no backward jump (loop) in 300 programs")
	}
	if deepest > -256 {
		t.Errorf("no stack access below r10-256 in 300 programs (deepest r10%d)", deepest)
	}
	if viaPtr == 0 {
		t.Errorf("no memory access through a register other than r1 and r10 in 300 programs")
	}
}

// TestGeneratedVM runs generated programs in the VM alone (no kernel
// needed): none may fail or run out of budget.
func TestGeneratedVM(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	for i := range n {
		c := makeCase(genSeed(t), i, DefaultGenOptions)
		vp, err := LoadVM("gen", c.body, DefaultGenOptions.MemLen)
		if err != nil {
			t.Fatalf("index %d: %v\n%s", i, err, listing(c.body))
		}
		for _, mem := range c.mems {
			if _, err := vp.Run(mem); err != nil {
				t.Fatalf("index %d: %v\n%s", i, err, listing(c.body))
			}
		}
	}
}
