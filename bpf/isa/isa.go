// Package isa names the parts of an eBPF instruction's opcode byte and the
// atomic operation codes, with the values and, without the BPF_ prefix, the
// names of the kernel's include/uapi/linux/bpf.h and bpf_common.h: BPF_ALU64
// is isa.ALU64, BPF_MOV is isa.MOV, BPF_CLASS(code) is isa.Class(code).
//
// The VM decodes with them, and the assembler and the kernel differential
// tests build instructions with them. All constants are untyped, so they
// combine into an opcode (uint8) or an atomic immediate (int32) alike.
package isa

// Instruction classes: the low three bits of the opcode.
const (
	LD    = 0x00
	LDX   = 0x01
	ST    = 0x02
	STX   = 0x03
	ALU   = 0x04
	JMP   = 0x05
	JMP32 = 0x06
	ALU64 = 0x07
)

// Access sizes of the load and store classes.
const (
	W  = 0x00
	H  = 0x08
	B  = 0x10
	DW = 0x18
)

// Modes of the load and store classes.
const (
	IMM    = 0x00
	ABS    = 0x20
	IND    = 0x40
	MEM    = 0x60
	MEMSX  = 0x80
	ATOMIC = 0xc0
)

// Operand sources of the ALU and jump classes: the immediate or the source
// register.
const (
	K = 0x00
	X = 0x08
)

// ALU operations. With END, the source bit selects the byte order (ToLE,
// ToBE) in class ALU; in class ALU64 END is an unconditional byte swap.
const (
	ADD  = 0x00
	SUB  = 0x10
	MUL  = 0x20
	DIV  = 0x30
	OR   = 0x40
	AND  = 0x50
	LSH  = 0x60
	RSH  = 0x70
	NEG  = 0x80
	MOD  = 0x90
	XOR  = 0xa0
	MOV  = 0xb0
	ARSH = 0xc0
	END  = 0xd0

	ToLE = 0x00
	ToBE = 0x08
)

// Jump operations.
const (
	JA    = 0x00
	JEQ   = 0x10
	JGT   = 0x20
	JGE   = 0x30
	JSET  = 0x40
	JNE   = 0x50
	JSGT  = 0x60
	JSGE  = 0x70
	CALL  = 0x80
	EXIT  = 0x90
	JLT   = 0xa0
	JLE   = 0xb0
	JSLT  = 0xc0
	JSLE  = 0xd0
	JCOND = 0xe0 // with src MayGoto: may_goto
)

// MayGoto is the source-register value of the JCOND instruction may_goto.
const MayGoto = 0

// Atomic operations, in the immediate of STX|ATOMIC: ADD, OR, AND and XOR
// (optionally with FETCH), XCHG, CMPXCHG, and the load-acquire and
// store-release forms.
const (
	FETCH    = 0x01
	XCHG     = 0xe0 | FETCH
	CMPXCHG  = 0xf0 | FETCH
	LoadAcq  = 0x100
	StoreRel = 0x110
)

// Class returns the instruction class of opcode op (BPF_CLASS).
func Class(op uint8) uint8 { return op & 0x07 }

// Size returns the access size of a load or store opcode (BPF_SIZE).
func Size(op uint8) uint8 { return op & 0x18 }

// Mode returns the mode of a load or store opcode (BPF_MODE).
func Mode(op uint8) uint8 { return op & 0xe0 }

// Op returns the operation of an ALU or jump opcode (BPF_OP).
func Op(op uint8) uint8 { return op & 0xf0 }

// Src returns the operand source of an ALU or jump opcode (BPF_SRC).
func Src(op uint8) uint8 { return op & 0x08 }
