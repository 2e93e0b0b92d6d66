// Package asm assembles and disassembles eBPF programs written in the text
// syntax of the bpf_conformance test vectors (uBPF style: `mov32 %r0, 1`,
// `ldxdw %r2, [%r10-8]`, `lock fetch add [%r10-8], %r1`, `jne %r1, 2, label`)
// and parses the conformance `.data` files that carry such programs.
//
// The output is raw instruction slots (vm.Insn), the same form a .bpf.o
// section holds, so assembled programs go through the VM's normal Load path.
package asm

import "github.com/scxsim/scxsim/bpf/vm"

// Instruction encoding constants, as in the kernel's include/uapi/linux/bpf.h
// and bpf_common.h.
const (
	clsLD    = 0x00
	clsLDX   = 0x01
	clsST    = 0x02
	clsSTX   = 0x03
	clsALU   = 0x04
	clsJMP   = 0x05
	clsJMP32 = 0x06
	clsALU64 = 0x07

	sizeW  = 0x00
	sizeH  = 0x08
	sizeB  = 0x10
	sizeDW = 0x18

	modeIMM    = 0x00
	modeMEM    = 0x60
	modeMEMSX  = 0x80
	modeATOMIC = 0xc0

	srcK = 0x00
	srcX = 0x08

	aluNEG = 0x80
	aluMOV = 0xb0
	aluEND = 0xd0

	endToLE = 0x00
	endToBE = 0x08

	jmpJA    = 0x00
	jmpCALL  = 0x80
	jmpEXIT  = 0x90
	jmpJCOND = 0xe0

	atomicFetch   = 0x01
	atomicXchg    = 0xe0 | atomicFetch
	atomicCmpxchg = 0xf0 | atomicFetch

	opLDDW = clsLD | modeIMM | sizeDW
)

// aluOps maps ALU mnemonics (without width suffix) to operation bits and the
// instruction offset that selects the signed variant (RFC 9669 section 4.1).
var aluOps = map[string]struct {
	op  uint8
	off int16
}{
	"add":  {0x00, 0},
	"sub":  {0x10, 0},
	"mul":  {0x20, 0},
	"div":  {0x30, 0},
	"sdiv": {0x30, 1},
	"or":   {0x40, 0},
	"and":  {0x50, 0},
	"lsh":  {0x60, 0},
	"rsh":  {0x70, 0},
	"mod":  {0x90, 0},
	"smod": {0x90, 1},
	"xor":  {0xa0, 0},
	"mov":  {0xb0, 0},
	"arsh": {0xc0, 0},
}

// jmpOps maps conditional jump mnemonics (without the 32 suffix) to operation bits.
var jmpOps = map[string]uint8{
	"jeq":  0x10,
	"jgt":  0x20,
	"jge":  0x30,
	"jset": 0x40,
	"jne":  0x50,
	"jsgt": 0x60,
	"jsge": 0x70,
	"jlt":  0xa0,
	"jle":  0xb0,
	"jslt": 0xc0,
	"jsle": 0xd0,
}

// sizes maps the size suffix of load/store mnemonics to size bits.
var sizes = map[string]uint8{"b": sizeB, "h": sizeH, "w": sizeW, "dw": sizeDW}

// atomicOps maps `lock` operation names to the imm field (without fetch).
var atomicOps = map[string]int32{
	"add":     0x00,
	"or":      0x40,
	"and":     0x50,
	"xor":     0xa0,
	"xchg":    atomicXchg,
	"cmpxchg": atomicCmpxchg,
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
