package asm

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/isa"
	"github.com/scxsim/scxsim/bpf/vm"
)

// Expected encodings are written from the instruction set (RFC 9669 and the
// kernel's uapi/linux/bpf.h), opcode by opcode.
func TestAssembleEncoding(t *testing.T) {
	tests := []struct {
		src  string
		want []vm.Insn
	}{
		{"mov32 %r0, 1", []vm.Insn{{Op: 0xb4, Imm: 1}}},
		{"mov %r1, %r2", []vm.Insn{{Op: 0xbf, Dst: 1, Src: 2}}},
		{"mov64 %r1, -1", []vm.Insn{{Op: 0xb7, Dst: 1, Imm: -1}}},
		{"add32 %r0, -3", []vm.Insn{{Op: 0x04, Imm: -3}}},
		{"add %r0, %r9", []vm.Insn{{Op: 0x0f, Src: 9}}},
		{"sub %r3, 7", []vm.Insn{{Op: 0x17, Dst: 3, Imm: 7}}},
		{"mul32 %r3, %r4", []vm.Insn{{Op: 0x2c, Dst: 3, Src: 4}}},
		{"div %r3, 2", []vm.Insn{{Op: 0x37, Dst: 3, Imm: 2}}},
		{"sdiv %r3, 2", []vm.Insn{{Op: 0x37, Dst: 3, Off: 1, Imm: 2}}},
		{"sdiv32 %r3, %r1", []vm.Insn{{Op: 0x3c, Dst: 3, Src: 1, Off: 1}}},
		{"or %r0, 0x10", []vm.Insn{{Op: 0x47, Imm: 0x10}}},
		{"and32 %r0, 0xffffffff", []vm.Insn{{Op: 0x54, Imm: -1}}},
		{"and %r0, 0xFFFFFFFFFFFFFFF6", []vm.Insn{{Op: 0x57, Imm: -10}}},
		{"lsh %r0, 3", []vm.Insn{{Op: 0x67, Imm: 3}}},
		{"rsh32 %r0, %r1", []vm.Insn{{Op: 0x7c, Src: 1}}},
		{"neg %r2", []vm.Insn{{Op: 0x87, Dst: 2}}},
		{"neg32 %r2", []vm.Insn{{Op: 0x84, Dst: 2}}},
		{"mod %r1, 3", []vm.Insn{{Op: 0x97, Dst: 1, Imm: 3}}},
		{"smod32 %r1, %r2", []vm.Insn{{Op: 0x9c, Dst: 1, Src: 2, Off: 1}}},
		{"xor %r1, %r1", []vm.Insn{{Op: 0xaf, Dst: 1, Src: 1}}},
		{"arsh32 %r0, 16", []vm.Insn{{Op: 0xc4, Imm: 16}}},
		{"movsx832 %r2, %r1", []vm.Insn{{Op: 0xbc, Dst: 2, Src: 1, Off: 8}}},
		{"movsx1664 %r8, %r7", []vm.Insn{{Op: 0xbf, Dst: 8, Src: 7, Off: 16}}},
		{"movsx3264 %r0, %r9", []vm.Insn{{Op: 0xbf, Src: 9, Off: 32}}},
		{"le16 %r0", []vm.Insn{{Op: 0xd4, Imm: 16}}},
		{"be64 %r3", []vm.Insn{{Op: 0xdc, Dst: 3, Imm: 64}}},
		{"bswap32 %r0", []vm.Insn{{Op: 0xd7, Imm: 32}}},
		{"swap16 %r0", []vm.Insn{{Op: 0xd7, Imm: 16}}},
		{"lddw %r0, 0x1122334455667788", []vm.Insn{{Op: 0x18, Imm: 0x55667788}, {Imm: 0x11223344}}},
		{"lddw %r1, -1", []vm.Insn{{Op: 0x18, Dst: 1, Imm: -1}, {Imm: -1}}},
		{"lddw %r0, 2147483648", []vm.Insn{{Op: 0x18, Imm: -0x80000000}, {}}},
		{"ldxb %r0, [%r1]", []vm.Insn{{Op: 0x71, Src: 1}}},
		{"ldxh %r0, [%r1+2]", []vm.Insn{{Op: 0x69, Src: 1, Off: 2}}},
		{"ldxw %r0, [%r1 + 0x10]", []vm.Insn{{Op: 0x61, Src: 1, Off: 16}}},
		{"ldxdw %r2, [%r10-8]", []vm.Insn{{Op: 0x79, Dst: 2, Src: 10, Off: -8}}},
		{"ldxsb %r0, [%r10-1]", []vm.Insn{{Op: 0x91, Src: 10, Off: -1}}},
		{"ldxsh %r0, [%r10-2]", []vm.Insn{{Op: 0x89, Src: 10, Off: -2}}},
		{"ldxsw %r0, [%r10-4]", []vm.Insn{{Op: 0x81, Src: 10, Off: -4}}},
		{"stb [%r10-1], 0x80", []vm.Insn{{Op: 0x72, Dst: 10, Off: -1, Imm: 0x80}}},
		{"sth [%r1+2], 5", []vm.Insn{{Op: 0x6a, Dst: 1, Off: 2, Imm: 5}}},
		{"stw [%r1], -1", []vm.Insn{{Op: 0x62, Dst: 1, Imm: -1}}},
		{"stdw [%r10-16], 0xab", []vm.Insn{{Op: 0x7a, Dst: 10, Off: -16, Imm: 0xab}}},
		{"stxb [%r1+3], %r2", []vm.Insn{{Op: 0x73, Dst: 1, Src: 2, Off: 3}}},
		{"stxh [%r1], %r2", []vm.Insn{{Op: 0x6b, Dst: 1, Src: 2}}},
		{"stxw [%r1], %r2", []vm.Insn{{Op: 0x63, Dst: 1, Src: 2}}},
		{"stxdw [%r10-8], %r1", []vm.Insn{{Op: 0x7b, Dst: 10, Src: 1, Off: -8}}},
		{"lock add [%r10-8], %r1", []vm.Insn{{Op: 0xdb, Dst: 10, Src: 1, Off: -8, Imm: 0x00}}},
		{"lock add32 [%r10-4], %r1", []vm.Insn{{Op: 0xc3, Dst: 10, Src: 1, Off: -4, Imm: 0x00}}},
		{"lock fetch add [%r10-8], %r1", []vm.Insn{{Op: 0xdb, Dst: 10, Src: 1, Off: -8, Imm: 0x01}}},
		{"lock or [%r10-8], %r1", []vm.Insn{{Op: 0xdb, Dst: 10, Src: 1, Off: -8, Imm: 0x40}}},
		{"lock fetch and32 [%r10-4], %r3", []vm.Insn{{Op: 0xc3, Dst: 10, Src: 3, Off: -4, Imm: 0x51}}},
		{"lock fetch xor [%r10-8], %r3", []vm.Insn{{Op: 0xdb, Dst: 10, Src: 3, Off: -8, Imm: 0xa1}}},
		{"lock xchg32 [%r10-8], %r1", []vm.Insn{{Op: 0xc3, Dst: 10, Src: 1, Off: -8, Imm: 0xe1}}},
		{"lock cmpxchg [%r10-8], %r1", []vm.Insn{{Op: 0xdb, Dst: 10, Src: 1, Off: -8, Imm: 0xf1}}},
		{"jeq %r1, 0xb, +1", []vm.Insn{{Op: 0x15, Dst: 1, Off: 1, Imm: 0xb}}},
		{"jne %r1, %r2, -2", []vm.Insn{{Op: 0x5d, Dst: 1, Src: 2, Off: -2}}},
		{"jsle32 %r1, -1, +0", []vm.Insn{{Op: 0xd6, Dst: 1, Imm: -1}}},
		{"jset32 %r1, %r9, +7", []vm.Insn{{Op: 0x4e, Dst: 1, Src: 9, Off: 7}}},
		{"jlt %r1, 0x80000001, +1", []vm.Insn{{Op: 0xa5, Dst: 1, Off: 1, Imm: -0x7fffffff}}},
		{"ja -1", []vm.Insn{{Op: 0x05, Off: -1}}},
		{"ja32 +5", []vm.Insn{{Op: 0x06, Imm: 5}}},
		{"gotol -5", []vm.Insn{{Op: 0x06, Imm: -5}}},
		{"may_goto +2", []vm.Insn{{Op: 0xe5, Off: 2}}},
		{"call 5", []vm.Insn{{Op: 0x85, Imm: 5}}},
		{"call helper 1", []vm.Insn{{Op: 0x85, Imm: 1}}},
		{"call runtime 77", []vm.Insn{{Op: 0x85, Src: 2, Imm: 77}}},
		{"call local +3", []vm.Insn{{Op: 0x85, Src: 1, Imm: 3}}},
		{"call %r2", []vm.Insn{{Op: 0x8d, Dst: 2}}},
		{"callx %r5", []vm.Insn{{Op: 0x8d, Dst: 5}}},
		{"exit", []vm.Insn{{Op: 0x95}}},
		{".raw 0x5566778800000018", []vm.Insn{{Op: 0x18, Imm: 0x55667788}}},
		{"MOV32 r0, 1 # upper case and bare register", []vm.Insn{{Op: 0xb4, Imm: 1}}},
	}
	for _, tt := range tests {
		got, err := Assemble(tt.src)
		if err != nil {
			t.Errorf("Assemble(%q): %v", tt.src, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Assemble(%q) = %+v, want %+v", tt.src, got, tt.want)
		}
	}
}

func TestAssembleLabels(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []vm.Insn
	}{
		{"forward and backward", `
start:
	mov %r0, 0
	jne %r0, 1, done   # forward
	lddw %r1, 1        # two slots
	ja start
done: exit
`, []vm.Insn{
			{Op: 0xb7},
			{Op: 0x55, Off: 3, Imm: 1},
			{Op: 0x18, Dst: 1, Imm: 1}, {},
			{Op: 0x05, Off: -5},
			{Op: 0x95},
		}},
		{"implicit exit label is the first exit", `
	jeq %r1, 0, exit
	mov %r0, 1
	exit
	mov %r0, 2
	exit
`, []vm.Insn{{Op: 0x15, Dst: 1, Off: 1}, {Op: 0xb7, Imm: 1}, {Op: 0x95}, {Op: 0xb7, Imm: 2}, {Op: 0x95}}},
		{"explicit exit label wins", `
	ja exit
	exit
exit:
	exit
`, []vm.Insn{{Op: 0x05, Off: 1}, {Op: 0x95}, {Op: 0x95}}},
		{"call local and ja32 use imm", `
	call local f
	ja32 end
f:
	exit
end:
`, []vm.Insn{{Op: 0x85, Src: 1, Imm: 1}, {Op: 0x06, Imm: 1}, {Op: 0x95}}},
		{"label to next instruction is offset zero", "ja32 t\nt:\nexit", []vm.Insn{{Op: 0x06}, {Op: 0x95}}},
	}
	for _, tt := range tests {
		got, err := Assemble(tt.src)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestAssembleErrors(t *testing.T) {
	tests := []struct {
		src  string
		line int
		msg  string
	}{
		{"mov %r0, 1\nfrob %r0\nexit", 2, `unknown mnemonic "frob"`},
		{"mov %r11x, 1", 1, `invalid register "%r11x"`},
		{"mov %r16, 1", 1, `invalid register "%r16"`},
		{"\n\nmov %r0", 3, "mov takes 2 operand(s), got 1"},
		{"mov %r0, 1, 2", 1, "mov takes 2 operand(s), got 3"},
		{"mov %r0,, 1", 1, "empty operand"},
		{"mov %r0, 0x100000000", 1, "does not fit in 32 bits"},
		{"mov %r0, -2147483649", 1, "does not fit in 32 bits"},
		{"mov %r0, 12ab", 1, `invalid number "12ab"`},
		{"lddw %r0, 0x1ffffffffffffffff", 1, "invalid number"},
		{"ldxdw %r0, %r1", 1, "invalid memory operand"},
		{"ldxdw %r0, [%r1+40000]", 1, "memory offset +40000 out of range"},
		{"ldxsdw %r0, [%r1]", 1, `unknown mnemonic "ldxsdw"`},
		{"stq [%r1], 1", 1, `unknown mnemonic "stq"`},
		{"ja nowhere\nexit", 1, `undefined label "nowhere"`},
		{"a:\nexit\na:\nexit", 3, `duplicate label "a"`},
		{"1a:", 1, `invalid label name "1a"`},
		{"ja +40000", 1, "out of range"},
		{"lock nand [%r1], %r2", 1, `unknown atomic operation "nand"`},
		{"call foo 1", 1, `invalid call mode "foo"`},
		{"movsx6464 %r0, %r1", 1, `unknown mnemonic "movsx6464"`},
		{"movsx832 %r0, 1", 1, "invalid register"},
		{"be8 %r0", 1, `unknown mnemonic "be8"`},
		{"exit %r0", 1, "exit takes 0 operand(s), got 1"},
	}
	for _, tt := range tests {
		_, err := Assemble(tt.src)
		var ae *Error
		if !errors.As(err, &ae) {
			t.Errorf("Assemble(%q): error %v, want *Error", tt.src, err)
			continue
		}
		if ae.Line != tt.line || !strings.Contains(ae.Msg, tt.msg) {
			t.Errorf("Assemble(%q): line %d %q, want line %d containing %q", tt.src, ae.Line, ae.Msg, tt.line, tt.msg)
		}
	}
}

func TestJumpTooFar(t *testing.T) {
	src := "ja far\n" + strings.Repeat("mov %r0, 0\n", 40000) + "far:\nexit\n"
	if _, err := Assemble(src); err == nil || !strings.Contains(err.Error(), "too far") {
		t.Fatalf("err = %v, want too far", err)
	}
	src = "ja32 far\n" + strings.Repeat("mov %r0, 0\n", 40000) + "far:\nexit\n"
	insns, err := Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	if insns[0].Imm != 40000 {
		t.Fatalf("ja32 imm = %d, want 40000", insns[0].Imm)
	}
}

func TestRawValue(t *testing.T) {
	// Values from the lddw conformance vector's raw section.
	tests := []struct {
		v    uint64
		want vm.Insn
	}{
		{0x5566778800000018, vm.Insn{Op: 0x18, Imm: 0x55667788}},
		{0x1122334400000000, vm.Insn{Imm: 0x11223344}},
		{0x0000000000000095, vm.Insn{Op: 0x95}},
		{0xfffffff8fff81a7b, vm.Insn{Op: 0x7b, Dst: 10, Src: 1, Off: -8, Imm: -8}},
	}
	for _, tt := range tests {
		if got := FromRawValue(tt.v); got != tt.want {
			t.Errorf("FromRawValue(%#x) = %+v, want %+v", tt.v, got, tt.want)
		}
		if got := RawValue(tt.want); got != tt.v {
			t.Errorf("RawValue(%+v) = %#x, want %#x", tt.want, got, tt.v)
		}
	}
}

func TestDisassembleText(t *testing.T) {
	tests := []struct {
		in   []vm.Insn
		want string
	}{
		{[]vm.Insn{{Op: 0xb4, Imm: 1}}, "mov32 %r0, 1"},
		{[]vm.Insn{{Op: 0x79, Dst: 2, Src: 10, Off: -8}}, "ldxdw %r2, [%r10-8]"},
		{[]vm.Insn{{Op: 0xdb, Dst: 10, Src: 1, Off: -8, Imm: 0x01}}, "lock fetch add [%r10-8], %r1"},
		{[]vm.Insn{{Op: 0xc3, Dst: 10, Src: 1, Off: -8, Imm: 0xe1}}, "lock xchg32 [%r10-8], %r1"},
		{[]vm.Insn{{Op: 0x18, Imm: 0x55667788}, {Imm: 0x11223344}}, "lddw %r0, 0x1122334455667788"},
		{[]vm.Insn{{Op: 0x5d, Dst: 1, Src: 2, Off: -2}}, "jne %r1, %r2, -2"},
		{[]vm.Insn{{Op: 0x85, Src: 1, Imm: 3}}, "call local +3"},
		{[]vm.Insn{{Op: 0xd7, Imm: 64}}, "bswap64 %r0"},
		{[]vm.Insn{{Op: 0x57, Imm: 0xffff}}, "and %r0, 0xffff"},
		// Reserved field set: not expressible, so written raw.
		{[]vm.Insn{{Op: 0xb7, Src: 3, Imm: 1}}, ".raw 0x000000010000" + "30b7"},
		{[]vm.Insn{{Op: 0xff}}, ".raw 0x00000000000000ff"},
		// Truncated lddw.
		{[]vm.Insn{{Op: 0x18, Imm: 1}}, ".raw 0x0000000100000018"},
	}
	for _, tt := range tests {
		got := strings.TrimSpace(Disassemble(tt.in))
		if got != tt.want {
			t.Errorf("Disassemble(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRoundTripRandom checks Assemble(Disassemble(p)) == p for random slots,
// biased towards valid opcodes so that every mnemonic is exercised.
func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	valid := validOpcodes()
	for iter := 0; iter < 2000; iter++ {
		p := make([]vm.Insn, 1+rng.IntN(8))
		for i := range p {
			in := FromRawValue(rng.Uint64())
			switch rng.IntN(4) {
			case 0: // fully random
			case 1:
				in.Op = valid[rng.IntN(len(valid))]
			default: // a valid opcode with plausible fields
				in.Op = valid[rng.IntN(len(valid))]
				in.Src &= 1
				in.Off = int16(rng.IntN(3)) * []int16{0, 1, 8, 16, 32, -8}[rng.IntN(6)]
				in.Imm = []int32{0, 1, 0x51, 0xe1, 0xf1, 16, 32, 64, -1}[rng.IntN(9)]
			}
			p[i] = in
		}
		text := Disassemble(p)
		got, err := Assemble(text)
		if err != nil {
			t.Fatalf("Assemble(Disassemble(%+v)): %v\n%s", p, err, text)
		}
		if !slices.Equal(got, p) {
			t.Fatalf("round trip of %+v gave %+v\n%s", p, got, text)
		}
	}
}

// validOpcodes lists the opcodes of RFC 9669 plus may_goto.
func validOpcodes() []uint8 {
	var ops []uint8
	for _, cls := range []uint8{isa.ALU, isa.ALU64} {
		for op := uint8(0); op <= 0xd0; op += 0x10 {
			ops = append(ops, cls|op, cls|op|isa.X)
		}
	}
	for _, cls := range []uint8{isa.JMP, isa.JMP32} {
		for op := uint8(0); op <= 0xe0; op += 0x10 {
			ops = append(ops, cls|op, cls|op|isa.X)
		}
	}
	for _, size := range []uint8{isa.B, isa.H, isa.W, isa.DW} {
		ops = append(ops, isa.LDX|isa.MEM|size, isa.LDX|isa.MEMSX|size, isa.ST|isa.MEM|size, isa.STX|isa.MEM|size, isa.STX|isa.ATOMIC|size)
	}
	return append(ops, isa.LD|isa.IMM|isa.DW)
}
