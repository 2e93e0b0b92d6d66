package asm

import (
	"fmt"
	"slices"
	"strings"

	"github.com/scxsim/scxsim/bpf/isa"
	"github.com/scxsim/scxsim/bpf/vm"
)

// Disassemble renders instruction slots as assembly text, one instruction
// per line, in the syntax Assemble accepts. Jump and call targets are
// written as relative offsets. Any slot the syntax cannot express exactly
// (reserved fields set, unknown opcodes, a truncated lddw) is written as a
// `.raw` line, so Assemble(Disassemble(p)) always reproduces p bit for bit.
func Disassemble(insns []vm.Insn) string {
	var b strings.Builder
	for pc := 0; pc < len(insns); {
		text, n := DisassembleAt(insns, pc)
		b.WriteString(text)
		b.WriteByte('\n')
		pc += n
	}
	return b.String()
}

// DisassembleAt renders the instruction at slot pc and returns the text and
// the number of slots it covers (2 for lddw, otherwise 1).
func DisassembleAt(insns []vm.Insn, pc int) (string, int) {
	if pc < 0 || pc >= len(insns) {
		return "", 1
	}
	in := insns[pc]
	if in.Op == isa.LD|isa.IMM|isa.DW && pc+1 < len(insns) {
		hi := insns[pc+1]
		if in.Src == 0 && in.Off == 0 && hi == (vm.Insn{Imm: hi.Imm}) {
			v := uint64(uint32(in.Imm)) | uint64(uint32(hi.Imm))<<32
			text := fmt.Sprintf("lddw %s, %#x", regName(in.Dst), v)
			if exact(text, insns[pc:pc+2]) {
				return text, 2
			}
		}
		return rawText(in), 1
	}
	if text, ok := render(in); ok && exact(text, insns[pc:pc+1]) {
		return text, 1
	}
	return rawText(in), 1
}

func rawText(in vm.Insn) string { return fmt.Sprintf(".raw %#016x", RawValue(in)) }

// exact reports whether text assembles back to exactly want.
func exact(text string, want []vm.Insn) bool {
	got, err := Assemble(text)
	return err == nil && slices.Equal(got, want)
}

func regName(r uint8) string { return fmt.Sprintf("%%r%d", r) }

// immText writes small immediates in decimal and large ones in hex.
func immText(v int32) string {
	if v > -4096 && v < 4096 {
		return fmt.Sprint(v)
	}
	if v < 0 {
		return fmt.Sprintf("-%#x", -int64(v))
	}
	return fmt.Sprintf("%#x", v)
}

// offText writes a memory offset or a relative jump or call target, always
// with its sign.
func offText[T int16 | int32](v T) string {
	if v < 0 {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("+%d", v)
}

func memText(r uint8, off int16) string {
	if off == 0 {
		return "[" + regName(r) + "]"
	}
	return "[" + regName(r) + offText(off) + "]"
}

type aluKey struct {
	op  uint8
	off int16
}

// Reverse lookups of the assembler's tables (each value is unique).
var (
	aluNames    = map[aluKey]string{}
	jmpNames    = map[uint8]string{}
	atomicNames = map[int32]string{}
)

func init() {
	for name, o := range aluOps {
		aluNames[aluKey{o.op, o.off}] = name
	}
	for name, op := range jmpOps {
		jmpNames[op] = name
	}
	for name, imm := range atomicOps {
		atomicNames[imm] = name
	}
}

var sizeNames = map[uint8]string{isa.B: "b", isa.H: "h", isa.W: "w", isa.DW: "dw"}

// render produces the text for one slot; ok is false when there is no
// mnemonic for it. The caller checks the result re-assembles exactly.
func render(in vm.Insn) (string, bool) {
	cls := isa.Class(in.Op)
	switch cls {
	case isa.ALU, isa.ALU64:
		return renderALU(in)
	case isa.JMP, isa.JMP32:
		return renderJump(in)
	case isa.LDX:
		size := sizeNames[isa.Size(in.Op)]
		switch isa.Mode(in.Op) {
		case isa.MEM:
			return fmt.Sprintf("ldx%s %s, %s", size, regName(in.Dst), memText(in.Src, in.Off)), true
		case isa.MEMSX:
			return fmt.Sprintf("ldxs%s %s, %s", size, regName(in.Dst), memText(in.Src, in.Off)), true
		}
	case isa.ST:
		if isa.Mode(in.Op) == isa.MEM {
			return fmt.Sprintf("st%s %s, %s", sizeNames[isa.Size(in.Op)], memText(in.Dst, in.Off), immText(in.Imm)), true
		}
	case isa.STX:
		switch isa.Mode(in.Op) {
		case isa.MEM:
			return fmt.Sprintf("stx%s %s, %s", sizeNames[isa.Size(in.Op)], memText(in.Dst, in.Off), regName(in.Src)), true
		case isa.ATOMIC:
			return renderAtomic(in)
		}
	}
	return "", false
}

func renderALU(in vm.Insn) (string, bool) {
	suffix := ""
	if isa.Class(in.Op) == isa.ALU {
		suffix = "32"
	}
	op := isa.Op(in.Op)
	switch op {
	case isa.NEG:
		return fmt.Sprintf("neg%s %s", suffix, regName(in.Dst)), true
	case isa.END:
		var name string
		switch {
		case isa.Class(in.Op) == isa.ALU64:
			name = "bswap"
		case isa.Src(in.Op) == isa.X:
			name = "be"
		default:
			name = "le"
		}
		return fmt.Sprintf("%s%d %s", name, in.Imm, regName(in.Dst)), true
	case isa.MOV:
		if in.Off == 8 || in.Off == 16 || in.Off == 32 {
			w := "64"
			if suffix != "" {
				w = "32"
			}
			return fmt.Sprintf("movsx%d%s %s, %s", in.Off, w, regName(in.Dst), regName(in.Src)), true
		}
	}
	name, ok := aluNames[aluKey{op, in.Off}]
	if !ok {
		return "", false
	}
	if isa.Src(in.Op) == isa.X {
		return fmt.Sprintf("%s%s %s, %s", name, suffix, regName(in.Dst), regName(in.Src)), true
	}
	return fmt.Sprintf("%s%s %s, %s", name, suffix, regName(in.Dst), immText(in.Imm)), true
}

func renderJump(in vm.Insn) (string, bool) {
	op := isa.Op(in.Op)
	jmp32 := isa.Class(in.Op) == isa.JMP32
	switch op {
	case isa.JA:
		if jmp32 {
			return fmt.Sprintf("ja32 %s", offText(in.Imm)), true
		}
		return fmt.Sprintf("ja %s", offText(in.Off)), true
	case isa.EXIT:
		return "exit", true
	case isa.JCOND:
		return fmt.Sprintf("may_goto %s", offText(in.Off)), true
	case isa.CALL:
		if isa.Src(in.Op) == isa.X {
			return fmt.Sprintf("callx %s", regName(in.Dst)), true
		}
		switch in.Src {
		case vm.HelperCallSrcReg:
			return fmt.Sprintf("call %d", in.Imm), true
		case vm.PseudoCall:
			return fmt.Sprintf("call local %s", offText(in.Imm)), true
		case vm.PseudoKfuncCall:
			return fmt.Sprintf("call runtime %d", in.Imm), true
		}
		return "", false
	}
	suffix := ""
	if jmp32 {
		suffix = "32"
	}
	name, ok := jmpNames[op]
	if !ok {
		return "", false
	}
	src := immText(in.Imm)
	if isa.Src(in.Op) == isa.X {
		src = regName(in.Src)
	}
	return fmt.Sprintf("%s%s %s, %s, %s", name, suffix, regName(in.Dst), src, offText(in.Off)), true
}

func renderAtomic(in vm.Insn) (string, bool) {
	suffix := ""
	if isa.Size(in.Op) == isa.W {
		suffix = "32"
	}
	fetch := ""
	imm := in.Imm
	if imm != isa.XCHG && imm != isa.CMPXCHG && imm&isa.FETCH != 0 {
		fetch, imm = "fetch ", imm&^isa.FETCH
	}
	name, ok := atomicNames[imm]
	if !ok {
		return "", false
	}
	return fmt.Sprintf("lock %s%s%s %s, %s", fetch, name, suffix, memText(in.Dst, in.Off), regName(in.Src)), true
}
