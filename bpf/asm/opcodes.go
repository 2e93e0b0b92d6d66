// Package asm assembles and disassembles eBPF programs written in the text
// syntax of the bpf_conformance test vectors (uBPF style: `mov32 %r0, 1`,
// `ldxdw %r2, [%r10-8]`, `lock fetch add [%r10-8], %r1`, `jne %r1, 2, label`)
// and parses the conformance `.data` files that carry such programs.
//
// The output is raw instruction slots (vm.Insn), the same form a .bpf.o
// section holds, so assembled programs go through the VM's normal Load path.
package asm

import (
	"github.com/scxsim/scxsim/bpf/vm"

	"github.com/scxsim/scxsim/bpf/isa"
)

// aluOps maps ALU mnemonics (without width suffix) to operation bits and the
// instruction offset that selects the signed variant (RFC 9669 section 4.1).
var aluOps = map[string]struct {
	op  uint8
	off int16
}{
	"add":  {isa.ADD, 0},
	"sub":  {isa.SUB, 0},
	"mul":  {isa.MUL, 0},
	"div":  {isa.DIV, 0},
	"sdiv": {isa.DIV, 1},
	"or":   {isa.OR, 0},
	"and":  {isa.AND, 0},
	"lsh":  {isa.LSH, 0},
	"rsh":  {isa.RSH, 0},
	"mod":  {isa.MOD, 0},
	"smod": {isa.MOD, 1},
	"xor":  {isa.XOR, 0},
	"mov":  {isa.MOV, 0},
	"arsh": {isa.ARSH, 0},
}

// jmpOps maps conditional jump mnemonics (without the 32 suffix) to operation bits.
var jmpOps = map[string]uint8{
	"jeq":  isa.JEQ,
	"jgt":  isa.JGT,
	"jge":  isa.JGE,
	"jset": isa.JSET,
	"jne":  isa.JNE,
	"jsgt": isa.JSGT,
	"jsge": isa.JSGE,
	"jlt":  isa.JLT,
	"jle":  isa.JLE,
	"jslt": isa.JSLT,
	"jsle": isa.JSLE,
}

// sizes maps the size suffix of load/store mnemonics to size bits.
var sizes = map[string]uint8{"b": isa.B, "h": isa.H, "w": isa.W, "dw": isa.DW}

// atomicOps maps `lock` operation names to the imm field (without fetch).
var atomicOps = map[string]int32{
	"add":     isa.ADD,
	"or":      isa.OR,
	"and":     isa.AND,
	"xor":     isa.XOR,
	"xchg":    isa.XCHG,
	"cmpxchg": isa.CMPXCHG,
}

// RawValue is the 64-bit little-endian value of an instruction slot, the form
// used by the `-- raw` sections of conformance files (opcode in the low byte).
func RawValue(in vm.Insn) uint64 {
	return uint64(in.Op) | uint64(in.Dst&0xf)<<8 | uint64(in.Src&0xf)<<12 |
		uint64(uint16(in.Off))<<16 | uint64(uint32(in.Imm))<<32
}

// FromRawValue is the inverse of RawValue.
func FromRawValue(v uint64) vm.Insn {
	return vm.Insn{
		Op:  uint8(v),
		Dst: uint8(v>>8) & 0xf,
		Src: uint8(v>>12) & 0xf,
		Off: int16(uint16(v >> 16)),
		Imm: int32(uint32(v >> 32)),
	}
}
