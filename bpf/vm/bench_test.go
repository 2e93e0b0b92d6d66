package vm

import (
	"testing"

	"github.com/scxsim/scxsim/bpf/isa"
)

// Instruction builders for tests and benchmarks.
func mov64K(d uint8, imm int32) Insn     { return Insn{Op: isa.ALU64 | isa.MOV | isa.K, Dst: d, Imm: imm} }
func alu64K(op, d uint8, imm int32) Insn { return Insn{Op: isa.ALU64 | op | isa.K, Dst: d, Imm: imm} }
func alu64X(op, d, s uint8) Insn         { return Insn{Op: isa.ALU64 | op | isa.X, Dst: d, Src: s} }
func alu32K(op, d uint8, imm int32) Insn { return Insn{Op: isa.ALU | op | isa.K, Dst: d, Imm: imm} }
func alu32X(op, d, s uint8) Insn         { return Insn{Op: isa.ALU | op | isa.X, Dst: d, Src: s} }
func jmpK(op, d uint8, imm int32, off int16) Insn {
	return Insn{Op: isa.JMP | op | isa.K, Dst: d, Imm: imm, Off: off}
}
func jmpX(op, d, s uint8, off int16) Insn {
	return Insn{Op: isa.JMP | op | isa.X, Dst: d, Src: s, Off: off}
}
func ja(off int16) Insn { return Insn{Op: isa.JMP | isa.JA, Off: off} }
func exit() Insn        { return Insn{Op: isa.JMP | isa.EXIT} }
func ldx(size, d, s uint8, off int16) Insn {
	return Insn{Op: isa.LDX | isa.MEM | size, Dst: d, Src: s, Off: off}
}
func stx(size, d, s uint8, off int16) Insn {
	return Insn{Op: isa.STX | isa.MEM | size, Dst: d, Src: s, Off: off}
}
func st(size, d uint8, off int16, imm int32) Insn {
	return Insn{Op: isa.ST | isa.MEM | size, Dst: d, Off: off, Imm: imm}
}
func call(id int32) Insn       { return Insn{Op: isa.JMP | isa.CALL, Imm: id} }
func callLocal(off int32) Insn { return Insn{Op: isa.JMP | isa.CALL, Src: PseudoCall, Imm: off} }
func ldImm64(d, src uint8, imm, imm2 int32) []Insn {
	return []Insn{{Op: isa.LD | isa.IMM | isa.DW, Dst: d, Src: src, Imm: imm}, {Imm: imm2}}
}

func cat(parts ...any) []Insn {
	var out []Insn
	for _, p := range parts {
		switch v := p.(type) {
		case Insn:
			out = append(out, v)
		case []Insn:
			out = append(out, v...)
		}
	}
	return out
}

func mustLoad(tb testing.TB, insns []Insn, env *Env) *Program {
	tb.Helper()
	p, err := Load(tb.Name(), insns, env)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// runBench runs p b.N times and reports executed instructions per second.
func runBench(b *testing.B, e *Exec, p *Program, args ...uint64) {
	b.Helper()
	var steps uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Run(p, args...); err != nil {
			b.Fatal(err)
		}
		steps += e.Steps()
	}
	b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "insns/s")
}

// aluLoop: 10 instructions per iteration, all register ALU and one branch.
func aluLoop(n int32) []Insn {
	return cat(
		mov64K(0, 0),
		mov64K(1, n),
		mov64K(2, 7),
		// loop:
		alu64X(isa.ADD, 0, 1),
		alu64K(isa.XOR, 0, 0x5a5a),
		alu64X(isa.MUL, 2, 1),
		alu32K(isa.ADD, 3, 3),
		alu64K(isa.LSH, 3, 1),
		alu64X(isa.SUB, 0, 3),
		alu64K(isa.RSH, 2, 3),
		alu64X(isa.OR, 0, 2),
		alu64K(isa.SUB, 1, 1),
		jmpK(isa.JNE, 1, 0, -10),
		exit(),
	)
}

func BenchmarkALULoop(b *testing.B) {
	p := mustLoad(b, aluLoop(100000), nil)
	runBench(b, NewExec(NewMemory()), p)
}

// stackLoop: the same shape but every iteration stores and loads the stack.
func stackLoop(n int32) []Insn {
	return cat(
		mov64K(0, 0),
		mov64K(1, n),
		st(isa.DW, 10, -8, 0),
		// loop:
		ldx(isa.DW, 2, 10, -8),
		alu64X(isa.ADD, 2, 1),
		stx(isa.DW, 10, 2, -8),
		stx(isa.W, 10, 1, -16),
		ldx(isa.W, 3, 10, -16),
		alu64X(isa.ADD, 0, 3),
		stx(isa.B, 10, 0, -17),
		ldx(isa.B, 4, 10, -17),
		alu64K(isa.SUB, 1, 1),
		jmpK(isa.JNE, 1, 0, -10),
		ldx(isa.DW, 0, 10, -8),
		exit(),
	)
}

func BenchmarkStackLoop(b *testing.B) {
	p := mustLoad(b, stackLoop(100000), nil)
	runBench(b, NewExec(NewMemory()), p)
}

var benchSink uint64

// BenchmarkALUNative is the reference for BenchmarkALULoop: the same
// computation written in Go, reported in the same unit (the BPF
// instructions it stands for per second).
func BenchmarkALUNative(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r0, r1, r2, r3 := uint64(0), uint64(100000), uint64(7), uint64(0)
		for r1 != 0 {
			r0 += r1
			r0 ^= 0x5a5a
			r2 *= r1
			r3 = uint64(uint32(r3) + 3)
			r3 <<= 1
			r0 -= r3
			r2 >>= 3
			r0 |= r2
			r1--
		}
		benchSink += r0
	}
	b.ReportMetric(float64(b.N)*(100000*10+4)/b.Elapsed().Seconds(), "insns/s")
}

// callLoop: each iteration calls a helper and a bpf-to-bpf subprogram.
func callLoop(n int32) []Insn {
	return cat(
		mov64K(6, n),
		mov64K(7, 0),
		// loop:
		alu64X(isa.MOV, 1, 6),
		call(1),
		alu64X(isa.MOV, 1, 0),
		callLocal(5),
		alu64X(isa.ADD, 7, 0),
		alu64K(isa.SUB, 6, 1),
		jmpK(isa.JNE, 6, 0, -7),
		alu64X(isa.MOV, 0, 7),
		exit(),
		// subprogram: r0 = r1 * 3 + 1
		alu64X(isa.MOV, 0, 1),
		alu64K(isa.MUL, 0, 3),
		alu64K(isa.ADD, 0, 1),
		exit(),
	)
}

func BenchmarkCallLoop(b *testing.B) {
	env := &Env{Helper: func(int32) (Helper, bool) {
		return func(e *Exec, r1, _, _, _, _ uint64) (uint64, error) { return r1 ^ 1, nil }, true
	}}
	p := mustLoad(b, callLoop(80000), env)
	runBench(b, NewExec(NewMemory()), p)
}

// memLoop does loads, stores and an add on memory at r1 (plus offsets);
// run with r1 on the stack and in the arena it compares the two paths.
func memLoop(n int32) []Insn {
	return cat(
		mov64K(0, 0),
		mov64K(2, n),
		st(isa.DW, 1, 0, 0),
		// loop:
		ldx(isa.DW, 3, 1, 0),
		alu64X(isa.ADD, 3, 2),
		stx(isa.DW, 1, 3, 0),
		stx(isa.W, 1, 2, 8),
		ldx(isa.W, 4, 1, 8),
		alu64X(isa.ADD, 0, 4),
		alu64K(isa.SUB, 2, 1),
		jmpK(isa.JNE, 2, 0, -8),
		exit(),
	)
}

func BenchmarkMemLoop(b *testing.B) {
	b.Run("stack", func(b *testing.B) {
		// r1 = r10 - 64, then the loop.
		p := mustLoad(b, cat(alu64X(isa.MOV, 1, 10), alu64K(isa.ADD, 1, -64), memLoop(100000)), nil)
		runBench(b, NewExec(NewMemory()), p)
	})
	b.Run("arena", func(b *testing.B) {
		p := mustLoad(b, memLoop(100000), nil)
		p.Arena = arenaOf(0x7f00_0000_0000, new([PageSize]byte))
		runBench(b, NewExec(NewMemory()), p, 64)
	})
	b.Run("region", func(b *testing.B) {
		mem := NewMemory()
		_, addr := mem.Map("value", make([]byte, 64), PermRW)
		p := mustLoad(b, memLoop(100000), nil)
		runBench(b, NewExec(mem), p, addr)
	})
}

// BenchmarkRunOverhead measures the fixed cost of one Run of a tiny
// program (an ops callback in a simulation is often a few dozen insns).
func BenchmarkRunOverhead(b *testing.B) {
	p := mustLoad(b, cat(alu64X(isa.MOV, 0, 1), alu64K(isa.ADD, 0, 1), exit()), nil)
	e := NewExec(NewMemory())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Run(p, uint64(i)); err != nil {
			b.Fatal(err)
		}
	}
}
