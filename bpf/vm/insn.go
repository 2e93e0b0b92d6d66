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

// Number of may_goto passes allowed per function invocation (BPF_MAX_LOOPS).
const maxLoops = 8 * 1024 * 1024
