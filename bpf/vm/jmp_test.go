package vm

import (
	"math"
	"testing"

	"github.com/scxsim/scxsim/bpf/isa"
)

// TestCondJumps checks every conditional jump in its four forms (64/32-bit,
// immediate/register) against Go comparisons of the same operands.
func TestCondJumps(t *testing.T) {
	type cmp struct {
		op  uint8
		u64 func(a, b uint64) bool
		u32 func(a, b uint32) bool
	}
	ops := map[string]cmp{
		"jeq":  {isa.JEQ, func(a, b uint64) bool { return a == b }, func(a, b uint32) bool { return a == b }},
		"jne":  {isa.JNE, func(a, b uint64) bool { return a != b }, func(a, b uint32) bool { return a != b }},
		"jgt":  {isa.JGT, func(a, b uint64) bool { return a > b }, func(a, b uint32) bool { return a > b }},
		"jge":  {isa.JGE, func(a, b uint64) bool { return a >= b }, func(a, b uint32) bool { return a >= b }},
		"jlt":  {isa.JLT, func(a, b uint64) bool { return a < b }, func(a, b uint32) bool { return a < b }},
		"jle":  {isa.JLE, func(a, b uint64) bool { return a <= b }, func(a, b uint32) bool { return a <= b }},
		"jset": {isa.JSET, func(a, b uint64) bool { return a&b != 0 }, func(a, b uint32) bool { return a&b != 0 }},
		"jsgt": {isa.JSGT, func(a, b uint64) bool { return int64(a) > int64(b) }, func(a, b uint32) bool { return int32(a) > int32(b) }},
		"jsge": {isa.JSGE, func(a, b uint64) bool { return int64(a) >= int64(b) }, func(a, b uint32) bool { return int32(a) >= int32(b) }},
		"jslt": {isa.JSLT, func(a, b uint64) bool { return int64(a) < int64(b) }, func(a, b uint32) bool { return int32(a) < int32(b) }},
		"jsle": {isa.JSLE, func(a, b uint64) bool { return int64(a) <= int64(b) }, func(a, b uint32) bool { return int32(a) <= int32(b) }},
	}
	// Values chosen to separate signed from unsigned and 32 from 64 bits.
	vals := []uint64{0, 1, 2, math.MaxUint64, 1 << 63, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0001, 0xffff_ffff_0000_0000}
	for name, c := range ops {
		for _, is32 := range []bool{false, true} {
			for _, x := range []bool{false, true} {
				cls := uint8(isa.JMP)
				if is32 {
					cls = isa.JMP32
				}
				src := uint8(isa.K)
				if x {
					src = isa.X
				}
				for _, a := range vals {
					for _, b := range vals {
						bv := b
						in := Insn{Op: cls | c.op | src, Dst: 1, Src: 2, Off: 1}
						if !x {
							// The immediate is a sign-extended 32-bit value.
							in.Src, in.Imm = 0, int32(uint32(b))
							bv = uint64(int64(int32(uint32(b))))
						}
						want := c.u64(a, bv)
						if is32 {
							want = c.u32(uint32(a), uint32(bv))
						}
						prog := cat(ldConst(1, a), ldConst(2, b), mov64K(0, 1), in, mov64K(0, 0), exit())
						p, err := Load("jmp", prog, nil)
						if err != nil {
							t.Fatal(err)
						}
						r0, err := NewExec(NewMemory()).Run(p)
						if err != nil {
							t.Fatal(err)
						}
						if (r0 == 1) != want {
							t.Errorf("%s 32=%v reg=%v a=%#x b=%#x: taken=%v, want %v", name, is32, x, a, bv, r0 == 1, want)
						}
					}
				}
			}
		}
	}
}

// TestJa checks ja (16-bit offset) and gotol (JMP32|JA, imm offset), forward
// and backward.
func TestJa(t *testing.T) {
	gotol := func(imm int32) Insn { return Insn{Op: isa.JMP32 | isa.JA, Imm: imm} }
	wantR0(t, cat(mov64K(0, 1), ja(1), mov64K(0, 2), exit()), nil, 1)
	wantR0(t, cat(mov64K(0, 1), gotol(1), mov64K(0, 2), exit()), nil, 1)
	// Backward: count down r1 with gotol -3.
	wantR0(t, cat(
		mov64K(0, 0), mov64K(1, 5),
		jmpK(isa.JEQ, 1, 0, 3),
		alu64K(isa.ADD, 0, 2),
		alu64K(isa.SUB, 1, 1),
		gotol(-4),
		exit(),
	), nil, 10)
}

// TestMayGoto checks may_goto: it falls through BPF_MAX_LOOPS times per
// function invocation and then jumps, and its passes earn budget.
func TestMayGoto(t *testing.T) {
	mayGoto := func(off int16) Insn { return Insn{Op: isa.JMP | isa.JCOND, Off: off} }
	loop := []Insn{
		mov64K(0, 0),
		mayGoto(2),
		alu64K(isa.ADD, 0, 1),
		ja(-3),
		exit(),
	}
	wantR0(t, loop, nil, maxLoops)
	// Each invocation of a subprogram has its own counter.
	prog := cat(
		mov64K(6, 0),
		callLocal(5),
		alu64X(isa.ADD, 6, 0),
		callLocal(3),
		alu64X(isa.ADD, 6, 0),
		alu64X(isa.MOV, 0, 6),
		exit(),
		loop,
	)
	wantR0(t, prog, nil, 2*maxLoops)
}
