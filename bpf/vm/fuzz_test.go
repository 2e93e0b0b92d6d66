package vm

import (
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/isa"
)

// fuzzEnv gives fuzzed programs helpers that exercise the VM's re-entry
// points: a bpf_loop look-alike (Exec.Call), a memory helper (Exec.Slice)
// and a crediting helper, plus a kfunc and pseudo ld_imm64 resolution.
func fuzzEnv(region uint64) *Env {
	helpers := map[int32]Helper{
		1: func(e *Exec, r1, r2, r3, _, _ uint64) (uint64, error) { return loopHelper(e, r1%8, r2, r3, 0, 0) },
		2: func(e *Exec, r1, r2, _, _, _ uint64) (uint64, error) {
			b, err := e.Slice(r1, int(r2%64), true)
			if err != nil {
				return 0, nil
			}
			for i := range b {
				b[i]++
			}
			return uint64(len(b)), nil
		},
		3: func(e *Exec, r1, _, _, _, _ uint64) (uint64, error) { e.Credit(r1 % 1000); return e.Steps(), nil },
	}
	return &Env{
		Helper: func(id int32) (Helper, bool) { h, ok := helpers[id]; return h, ok },
		Kfunc: func(id int32, off int16) (Helper, bool) {
			return func(e *Exec, r1, _, _, _, _ uint64) (uint64, error) { return r1 ^ 0x55, nil }, id == 7
		},
		LdImm64: func(src uint8, imm, imm2 int32) (uint64, error) { return region + uint64(uint32(imm2)%64), nil },
	}
}

// FuzzExec feeds raw bytes through DecodeBytes, Load and Run. Whatever the
// input, nothing may panic (Run and Load convert a panic into an "internal
// error", which fails here) and no run may exceed its budget by more than
// the program's length.
func FuzzExec(f *testing.F) {
	f.Add(EncodeBytes(aluLoop(10)))
	f.Add(EncodeBytes(stackLoop(10)))
	f.Add(EncodeBytes(cat(mov64K(0, 0), ja(-1))))
	f.Add(EncodeBytes(cat(mov64K(1, 3), ldImm64(2, PseudoFunc, 3, 0), call(1), exit(), alu64K(isa.ADD, 0, 1), exit())))
	f.Add(EncodeBytes(cat(ldImm64(1, PseudoMapValue, 1, 8), ldx(isa.DW, 0, 1, 0), atomicOp(isa.DW, isa.CMPXCHG, 1, 0, 0), exit())))
	f.Add(EncodeBytes(cat(mov64K(1, 64), castUserInsn(1, 1), ldx(isa.W, 0, 1, 0), stx(isa.DW, 1, 0, 4090), exit())))
	f.Add(EncodeBytes(cat(callLocal(1), exit(), callLocal(-1), exit())))
	f.Add(EncodeBytes(cat(Insn{Op: isa.JMP | isa.JCOND, Off: 1}, ja(-2), exit())))
	f.Fuzz(func(t *testing.T, raw []byte) {
		insns, err := DecodeBytes(raw)
		if err != nil {
			return
		}
		mem := NewMemory()
		_, region := mem.Map("data", make([]byte, 64), PermRW)
		_, ro := mem.Map("rodata", make([]byte, 16), PermRead)
		p, err := Load("fuzz", insns, fuzzEnv(region))
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		p.Arena = arenaOf(0x1234_0000_0000, new([PageSize]byte), nil, new([PageSize]byte))
		e := NewExec(mem)
		e.Budget = 1 << 16
		_, err = e.Run(p, region, 64, ro, 0x1234_0000_0040, 3)
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
		// Budget plus overshoot: at most the program length per budget
		// check, and callbacks nest up to MaxCallFrames deep.
		if limit := e.Budget + uint64(MaxCallFrames*p.Len()); e.Steps() > limit {
			t.Fatalf("steps %d beyond %d", e.Steps(), limit)
		}
	})
}
