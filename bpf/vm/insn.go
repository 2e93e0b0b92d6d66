package vm

import (
	"encoding/binary"
	"fmt"
)

// InsnSize is the size in bytes of one raw instruction slot.
const InsnSize = 8

// DecodeBytes splits raw little-endian bytecode (an ELF program section, a
// conformance vector) into instruction slots.
func DecodeBytes(b []byte) ([]Insn, error) {
	if len(b)%InsnSize != 0 {
		return nil, fmt.Errorf("bytecode length %d is not a multiple of %d", len(b), InsnSize)
	}
	out := make([]Insn, len(b)/InsnSize)
	for i := range out {
		s := b[i*InsnSize : i*InsnSize+InsnSize]
		out[i] = Insn{
			Op:  s[0],
			Dst: s[1] & 0xf,
			Src: s[1] >> 4,
			Off: int16(binary.LittleEndian.Uint16(s[2:])),
			Imm: int32(binary.LittleEndian.Uint32(s[4:])),
		}
	}
	return out, nil
}

// EncodeBytes is the inverse of DecodeBytes. Register fields are truncated
// to their 4 bits.
func EncodeBytes(insns []Insn) []byte {
	out := make([]byte, len(insns)*InsnSize)
	for i, in := range insns {
		s := out[i*InsnSize:]
		s[0] = in.Op
		s[1] = in.Dst&0xf | in.Src<<4
		binary.LittleEndian.PutUint16(s[2:], uint16(in.Off))
		binary.LittleEndian.PutUint32(s[4:], uint32(in.Imm))
	}
	return out
}

// Opcode fields, as in include/uapi/linux/bpf.h and bpf_common.h.
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
	modeABS    = 0x20
	modeIND    = 0x40
	modeMEM    = 0x60
	modeMEMSX  = 0x80
	modeATOMIC = 0xc0

	srcK = 0x00
	srcX = 0x08

	aluADD  = 0x00
	aluSUB  = 0x10
	aluMUL  = 0x20
	aluDIV  = 0x30
	aluOR   = 0x40
	aluAND  = 0x50
	aluLSH  = 0x60
	aluRSH  = 0x70
	aluNEG  = 0x80
	aluMOD  = 0x90
	aluXOR  = 0xa0
	aluMOV  = 0xb0
	aluARSH = 0xc0
	aluEND  = 0xd0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40
	jmpJNE  = 0x50
	jmpJSGT = 0x60
	jmpJSGE = 0x70
	jmpCALL = 0x80
	jmpEXIT = 0x90
	jmpJLT  = 0xa0
	jmpJLE  = 0xb0
	jmpJSLT = 0xc0
	jmpJSLE = 0xd0
	jmpCOND = 0xe0

	atomicFETCH    = 0x01
	atomicADD      = 0x00
	atomicOR       = 0x40
	atomicAND      = 0x50
	atomicXOR      = 0xa0
	atomicXCHG     = 0xe0 | atomicFETCH
	atomicCMPXCHG  = 0xf0 | atomicFETCH
	atomicLoadAcq  = 0x100
	atomicStoreRel = 0x110
)

// Number of may_goto passes allowed per function invocation (BPF_MAX_LOOPS).
const maxLoops = 8 * 1024 * 1024
