package vm

import (
	"testing"
)

// Instruction builders for tests and benchmarks.
func mov64K(d uint8, imm int32) Insn     { return Insn{Op: clsALU64 | aluMOV | srcK, Dst: d, Imm: imm} }
func alu64K(op, d uint8, imm int32) Insn { return Insn{Op: clsALU64 | op | srcK, Dst: d, Imm: imm} }
func alu64X(op, d, s uint8) Insn         { return Insn{Op: clsALU64 | op | srcX, Dst: d, Src: s} }
func alu32K(op, d uint8, imm int32) Insn { return Insn{Op: clsALU | op | srcK, Dst: d, Imm: imm} }
func alu32X(op, d, s uint8) Insn         { return Insn{Op: clsALU | op | srcX, Dst: d, Src: s} }
func jmpK(op, d uint8, imm int32, off int16) Insn {
	return Insn{Op: clsJMP | op | srcK, Dst: d, Imm: imm, Off: off}
}
func jmpX(op, d, s uint8, off int16) Insn {
	return Insn{Op: clsJMP | op | srcX, Dst: d, Src: s, Off: off}
}
func ja(off int16) Insn { return Insn{Op: clsJMP | jmpJA, Off: off} }
func exit() Insn        { return Insn{Op: clsJMP | jmpEXIT} }
func ldx(size, d, s uint8, off int16) Insn {
	return Insn{Op: clsLDX | modeMEM | size, Dst: d, Src: s, Off: off}
}
func stx(size, d, s uint8, off int16) Insn {
	return Insn{Op: clsSTX | modeMEM | size, Dst: d, Src: s, Off: off}
}
func st(size, d uint8, off int16, imm int32) Insn {
	return Insn{Op: clsST | modeMEM | size, Dst: d, Off: off, Imm: imm}
}
func call(id int32) Insn       { return Insn{Op: clsJMP | jmpCALL, Imm: id} }
func callLocal(off int32) Insn { return Insn{Op: clsJMP | jmpCALL, Src: PseudoCall, Imm: off} }
func ldImm64(d, src uint8, imm, imm2 int32) []Insn {
	return []Insn{{Op: clsLD | modeIMM | sizeDW, Dst: d, Src: src, Imm: imm}, {Imm: imm2}}
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
		alu64X(aluADD, 0, 1),
		alu64K(aluXOR, 0, 0x5a5a),
		alu64X(aluMUL, 2, 1),
		alu32K(aluADD, 3, 3),
		alu64K(aluLSH, 3, 1),
		alu64X(aluSUB, 0, 3),
		alu64K(aluRSH, 2, 3),
		alu64X(aluOR, 0, 2),
		alu64K(aluSUB, 1, 1),
		jmpK(jmpJNE, 1, 0, -10),
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
		st(sizeDW, 10, -8, 0),
		// loop:
		ldx(sizeDW, 2, 10, -8),
		alu64X(aluADD, 2, 1),
		stx(sizeDW, 10, 2, -8),
		stx(sizeW, 10, 1, -16),
		ldx(sizeW, 3, 10, -16),
		alu64X(aluADD, 0, 3),
		stx(sizeB, 10, 0, -17),
		ldx(sizeB, 4, 10, -17),
		alu64K(aluSUB, 1, 1),
		jmpK(jmpJNE, 1, 0, -10),
		ldx(sizeDW, 0, 10, -8),
		exit(),
	)
}

func BenchmarkStackLoop(b *testing.B) {
	p := mustLoad(b, stackLoop(100000), nil)
	runBench(b, NewExec(NewMemory()), p)
}
