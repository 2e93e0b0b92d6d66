package kdiff

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

// kind names an instruction form: its opcode plus the field that selects a
// variant (off for signed division and movsx, imm for byte swaps and
// atomics).
func kind(in vm.Insn) string {
	switch cls := in.Op & 7; {
	case cls == clsALU || cls == clsALU64:
		if in.Op&0xf0 == aluEND {
			return fmt.Sprintf("%02x/%d", in.Op, in.Imm)
		}
		return fmt.Sprintf("%02x/%d", in.Op, in.Off)
	case cls == clsSTX && in.Op&0xe0 == modeATOMIC:
		return fmt.Sprintf("%02x/%#x", in.Op, in.Imm)
	}
	return fmt.Sprintf("%02x", in.Op)
}

// wantKinds lists every instruction form the generator must produce.
func wantKinds() []string {
	var k []string
	add := func(op uint8, v int) { k = append(k, fmt.Sprintf("%02x/%d", op, v)) }
	for _, cls := range []uint8{clsALU, clsALU64} {
		for _, src := range []uint8{srcK, srcX} {
			for _, op := range aluOps {
				add(cls|op|src, 0)
			}
			add(cls|aluDIV|src, 1) // sdiv
			add(cls|aluMOD|src, 1) // smod
		}
		add(cls|aluNEG, 0)
		add(cls|aluMOV|srcX, 8) // movsx
		add(cls|aluMOV|srcX, 16)
	}
	add(clsALU64|aluMOV|srcX, 32)
	for _, w := range []int{16, 32, 64} {
		add(clsALU|aluEND|srcK, w) // le
		add(clsALU|aluEND|srcX, w) // be
		add(clsALU64|aluEND, w)    // bswap
	}
	for _, size := range []uint8{szB, szH, szW, szDW} {
		for _, op := range []uint8{clsLDX | modeMEM, clsST | modeMEM, clsSTX | modeMEM} {
			k = append(k, fmt.Sprintf("%02x", op|size))
		}
		if size != szDW {
			k = append(k, fmt.Sprintf("%02x", clsLDX|modeMEMSX|size))
		}
	}
	for _, size := range []uint8{szW, szDW} {
		for _, op := range atomicOps {
			k = append(k, fmt.Sprintf("%02x/%#x", clsSTX|modeATOMIC|size, op))
		}
	}
	for _, cls := range []uint8{clsJMP, clsJMP32} {
		for _, op := range jmpOps {
			k = append(k, fmt.Sprintf("%02x", cls|op|srcK), fmt.Sprintf("%02x", cls|op|srcX))
		}
		k = append(k, fmt.Sprintf("%02x", cls|jmpJA)) // ja, gotol
	}
	return append(k, fmt.Sprintf("%02x", clsLD|modeIMM|szDW), fmt.Sprintf("%02x", clsJMP|jmpCALL), fmt.Sprintf("%02x", clsJMP|jmpEXIT))
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
			cls := in.Op & 7
			if (cls == clsJMP || cls == clsJMP32) && in.Op&0xf0 != jmpCALL && in.Off < 0 {
				backward++
			}
			if (cls == clsLDX && in.Src == regFP || (cls == clsST || cls == clsSTX) && in.Dst == regFP) && int(in.Off) < deepest {
				deepest = int(in.Off)
			}
			// Stack accesses through a copy of r10 or a caller's pointer.
			if cls == clsLDX && in.Src != regMem && in.Src != regFP ||
				(cls == clsST || cls == clsSTX) && in.Dst != regMem && in.Dst != regFP {
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
