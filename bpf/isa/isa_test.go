package isa_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/scxsim/scxsim/bpf/isa"
)

// decode returns the opcode cilium/ebpf's decoder, written independently
// of ours, reads from a slot with opcode byte op and immediate imm (atomic
// operations keep part of their cilium opcode in the immediate).
func decode(t *testing.T, op uint8, imm int32) asm.OpCode {
	t.Helper()
	raw := make([]byte, 16) // room for the second slot of lddw
	raw[0] = op
	binary.LittleEndian.PutUint32(raw[4:], uint32(imm))
	var ins asm.Instruction
	if err := ins.Unmarshal(bytes.NewReader(raw), binary.LittleEndian, "linux"); err != nil {
		t.Fatalf("decode %#02x imm %#x: %v", op, imm, err)
	}
	return ins.OpCode
}

// TestOpcodesMatchCilium composes every kind of instruction from our
// constants and checks that cilium/ebpf decodes it as the instruction its
// asm package builds. (Its encoder is not used: v0.22 writes a zero
// immediate for atomics built with AtomicOp.Mem.)
func TestOpcodesMatchCilium(t *testing.T) {
	type tc struct {
		name string
		ins  asm.Instruction
		op   uint8
		imm  int32 // the immediate of atomic operations
	}
	var cases []tc
	aluOps := []struct {
		c asm.ALUOp
		o uint8
	}{
		{asm.Add, isa.ADD}, {asm.Sub, isa.SUB}, {asm.Mul, isa.MUL}, {asm.Div, isa.DIV},
		{asm.Or, isa.OR}, {asm.And, isa.AND}, {asm.LSh, isa.LSH}, {asm.RSh, isa.RSH},
		{asm.Mod, isa.MOD}, {asm.Xor, isa.XOR}, {asm.Mov, isa.MOV}, {asm.ArSh, isa.ARSH},
	}
	for _, a := range aluOps {
		cases = append(cases,
			tc{a.c.String() + " alu64 reg", a.c.Reg(asm.R1, asm.R2), isa.ALU64 | a.o | isa.X, 0},
			tc{a.c.String() + " alu64 imm", a.c.Imm(asm.R1, 3), isa.ALU64 | a.o | isa.K, 0},
			tc{a.c.String() + " alu32 reg", a.c.Reg32(asm.R1, asm.R2), isa.ALU | a.o | isa.X, 0},
			tc{a.c.String() + " alu32 imm", a.c.Imm32(asm.R1, 3), isa.ALU | a.o | isa.K, 0},
		)
	}
	cases = append(cases,
		tc{"neg64", asm.Instruction{OpCode: asm.Neg.Op(asm.ImmSource), Dst: asm.R1}, isa.ALU64 | isa.NEG, 0},
		tc{"neg32", asm.Instruction{OpCode: asm.Neg.Op32(asm.ImmSource), Dst: asm.R1}, isa.ALU | isa.NEG, 0},
		tc{"le16", asm.HostTo(asm.LE, asm.R1, asm.Half), isa.ALU | isa.END | isa.ToLE, 0},
		tc{"be32", asm.HostTo(asm.BE, asm.R1, asm.Word), isa.ALU | isa.END | isa.ToBE, 0},
		tc{"bswap64", asm.BSwap(asm.R1, asm.DWord), isa.ALU64 | isa.END, 0},
	)
	jmpOps := []struct {
		c asm.JumpOp
		o uint8
	}{
		{asm.JEq, isa.JEQ}, {asm.JGT, isa.JGT}, {asm.JGE, isa.JGE}, {asm.JSet, isa.JSET},
		{asm.JNE, isa.JNE}, {asm.JSGT, isa.JSGT}, {asm.JSGE, isa.JSGE}, {asm.JLT, isa.JLT},
		{asm.JLE, isa.JLE}, {asm.JSLT, isa.JSLT}, {asm.JSLE, isa.JSLE},
	}
	for _, j := range jmpOps {
		j32 := asm.OpCode(asm.Jump32Class).SetJumpOp(j.c)
		cases = append(cases,
			tc{j.c.String() + " reg", asm.Instruction{OpCode: j.c.Op(asm.RegSource), Dst: asm.R1, Src: asm.R2}, isa.JMP | j.o | isa.X, 0},
			tc{j.c.String() + " imm", asm.Instruction{OpCode: j.c.Op(asm.ImmSource), Dst: asm.R1}, isa.JMP | j.o | isa.K, 0},
			tc{j.c.String() + "32 reg", asm.Instruction{OpCode: j32.SetSource(asm.RegSource), Dst: asm.R1, Src: asm.R2}, isa.JMP32 | j.o | isa.X, 0},
			tc{j.c.String() + "32 imm", asm.Instruction{OpCode: j32.SetSource(asm.ImmSource), Dst: asm.R1}, isa.JMP32 | j.o | isa.K, 0},
		)
	}
	cases = append(cases,
		tc{"ja", asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource)}, isa.JMP | isa.JA, 0},
		tc{"gotol", asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(asm.Ja)}, isa.JMP32 | isa.JA, 0},
		tc{"call", asm.Instruction{OpCode: asm.Call.Op(asm.ImmSource), Constant: 1}, isa.JMP | isa.CALL, 0},
		tc{"exit", asm.Return(), isa.JMP | isa.EXIT, 0},
		tc{"may_goto", asm.Instruction{OpCode: asm.JCOND.Op(asm.ImmSource)}, isa.JMP | isa.JCOND, 0},
		tc{"lddw", asm.LoadImm(asm.R1, 1<<40, asm.DWord), isa.LD | isa.IMM | isa.DW, 0},
		tc{"ld abs", asm.LoadAbs(0, asm.Word), isa.LD | isa.ABS | isa.W, 0},
		tc{"ld ind", asm.LoadInd(asm.R0, asm.R1, 0, asm.Half), isa.LD | isa.IND | isa.H, 0},
	)
	sizes := []struct {
		c asm.Size
		o uint8
	}{{asm.Byte, isa.B}, {asm.Half, isa.H}, {asm.Word, isa.W}, {asm.DWord, isa.DW}}
	for _, s := range sizes {
		n := s.c.String()
		cases = append(cases,
			tc{"ldx " + n, asm.LoadMem(asm.R1, asm.R2, 0, s.c), isa.LDX | isa.MEM | s.o, 0},
			tc{"stx " + n, asm.StoreMem(asm.R1, 0, asm.R2, s.c), isa.STX | isa.MEM | s.o, 0},
			tc{"st " + n, asm.Instruction{OpCode: asm.StoreImmOp(s.c), Dst: asm.R1}, isa.ST | isa.MEM | s.o, 0},
			tc{"load_acquire " + n, asm.LoadAcquire(asm.R1, asm.R2, s.c, 0), isa.STX | isa.ATOMIC | s.o, isa.LoadAcq},
			tc{"store_release " + n, asm.StoreRelease(asm.R1, asm.R2, s.c, 0), isa.STX | isa.ATOMIC | s.o, isa.StoreRel},
		)
		if s.c != asm.DWord {
			cases = append(cases, tc{"ldxs " + n, asm.LoadMemSX(asm.R1, asm.R2, 0, s.c), isa.LDX | isa.MEMSX | s.o, 0})
		}
	}
	atomics := []struct {
		c   asm.AtomicOp
		imm int32
	}{
		{asm.AddAtomic, isa.ADD}, {asm.OrAtomic, isa.OR}, {asm.AndAtomic, isa.AND}, {asm.XorAtomic, isa.XOR},
		{asm.FetchAdd, isa.ADD | isa.FETCH}, {asm.FetchOr, isa.OR | isa.FETCH},
		{asm.FetchAnd, isa.AND | isa.FETCH}, {asm.FetchXor, isa.XOR | isa.FETCH},
		{asm.Xchg, isa.XCHG}, {asm.CmpXchg, isa.CMPXCHG},
	}
	for _, a := range atomics {
		cases = append(cases,
			tc{a.c.String() + " dw", a.c.Mem(asm.R1, asm.R2, asm.DWord, 0), isa.STX | isa.ATOMIC | isa.DW, a.imm},
			tc{a.c.String() + " w", a.c.Mem(asm.R1, asm.R2, asm.Word, 0), isa.STX | isa.ATOMIC | isa.W, a.imm},
		)
	}
	for _, c := range cases {
		if got := decode(t, c.op, c.imm); got != c.ins.OpCode {
			t.Errorf("%s: opcode %#02x imm %#x decodes as %v, want %v", c.name, c.op, c.imm, got, c.ins.OpCode)
		}
	}
}

// TestFieldsMatchCilium splits every opcode byte with our accessors and with
// cilium/ebpf's, in the classes where each field exists. cilium/ebpf
// reports no jump operation for call and exit in JMP32 and no source for
// END; ours, like the kernel's macros, just take the bits.
func TestFieldsMatchCilium(t *testing.T) {
	for b := 0; b < 256; b++ {
		op, c := uint8(b), asm.OpCode(b)
		if got, want := isa.Class(op), uint8(c.Class()); got != want {
			t.Errorf("Class(%#02x) = %#x, want %#x", op, got, want)
		}
		switch c.Class() {
		case asm.LdClass, asm.LdXClass, asm.StClass, asm.StXClass:
			if got, want := isa.Mode(op), uint8(c.Mode()); got != want {
				t.Errorf("Mode(%#02x) = %#x, want %#x", op, got, want)
			}
			if got, want := isa.Size(op), uint8(c.Size()); got != want {
				t.Errorf("Size(%#02x) = %#x, want %#x", op, got, want)
			}
		case asm.ALUClass, asm.ALU64Class:
			if got, want := isa.Op(op), uint8(c.ALUOp()); got != want {
				t.Errorf("Op(%#02x) = %#x, want ALU op %#x", op, got, want)
			}
			if c.Source() == asm.InvalidSource {
				continue
			}
			if got, want := isa.Src(op), uint8(c.Source()); got != want {
				t.Errorf("Src(%#02x) = %#x, want %#x", op, got, want)
			}
		case asm.JumpClass, asm.Jump32Class:
			if c.JumpOp() == asm.InvalidJumpOp {
				continue
			}
			if got, want := isa.Op(op), uint8(c.JumpOp()); got != want {
				t.Errorf("Op(%#02x) = %#x, want jump op %#x", op, got, want)
			}
			if got, want := isa.Src(op), uint8(c.Source()); got != want {
				t.Errorf("Src(%#02x) = %#x, want %#x", op, got, want)
			}
		}
	}
}
