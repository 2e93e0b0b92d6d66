package vm

import (
	"math"
	"math/bits"
	"testing"

	"github.com/scxsim/scxsim/bpf/isa"
)

// TestALU checks each ALU operation, 64- and 32-bit, immediate and
// register forms, on edge values. Expected values are computed from the
// instruction set's definition (RFC 9669 and the kernel's fixups).
func TestALU(t *testing.T) {
	a, b := uint64(0xfedc_ba98_7654_3210), uint64(0x0123_4567_89ab_cdef)
	minI64 := uint64(1) << 63
	neg := func(v int64) uint64 { return uint64(v) }
	z32 := func(v uint32) uint64 { return uint64(v) }
	type tc struct {
		name string
		x, y uint64 // r1 and r2 before the operation
		insn Insn   // operates on r1 (dst) and r2 (src)
		want uint64 // r1 after
	}
	sdiv := Insn{Op: isa.ALU64 | isa.DIV | isa.X, Dst: 1, Src: 2, Off: 1}
	smod := Insn{Op: isa.ALU64 | isa.MOD | isa.X, Dst: 1, Src: 2, Off: 1}
	sdiv32 := Insn{Op: isa.ALU | isa.DIV | isa.X, Dst: 1, Src: 2, Off: 1}
	smod32 := Insn{Op: isa.ALU | isa.MOD | isa.X, Dst: 1, Src: 2, Off: 1}
	sdivK := func(imm int32) Insn { return Insn{Op: isa.ALU64 | isa.DIV | isa.K, Dst: 1, Off: 1, Imm: imm} }
	smodK := func(imm int32) Insn { return Insn{Op: isa.ALU64 | isa.MOD | isa.K, Dst: 1, Off: 1, Imm: imm} }
	sdiv32K := func(imm int32) Insn { return Insn{Op: isa.ALU | isa.DIV | isa.K, Dst: 1, Off: 1, Imm: imm} }
	smod32K := func(imm int32) Insn { return Insn{Op: isa.ALU | isa.MOD | isa.K, Dst: 1, Off: 1, Imm: imm} }
	movsx := func(cls uint8, off int16) Insn { return Insn{Op: cls | isa.MOV | isa.X, Dst: 1, Src: 2, Off: off} }
	end := func(cls, src uint8, w int32) Insn { return Insn{Op: cls | isa.END | src, Dst: 1, Imm: w} }
	cases := []tc{
		{"add64", a, b, alu64X(isa.ADD, 1, 2), a + b},
		{"add64 imm sign-extends", 5, 0, alu64K(isa.ADD, 1, -6), math.MaxUint64},
		{"sub64", b, a, alu64X(isa.SUB, 1, 2), b - a},
		{"mul64", a, b, alu64X(isa.MUL, 1, 2), a * b},
		{"mul64 imm", a, 0, alu64K(isa.MUL, 1, -3), a * neg(-3)},
		{"div64", a, b, alu64X(isa.DIV, 1, 2), a / b},
		{"div64 imm is unsigned of sign-extended", a, 0, alu64K(isa.DIV, 1, -1), a / math.MaxUint64},
		{"div64 by zero gives 0", a, 0, alu64X(isa.DIV, 1, 2), 0},
		{"mod64", a, b, alu64X(isa.MOD, 1, 2), a % b},
		{"mod64 by zero keeps dst", a, 0, alu64X(isa.MOD, 1, 2), a},
		{"or64", a, b, alu64X(isa.OR, 1, 2), a | b},
		{"and64", a, b, alu64X(isa.AND, 1, 2), a & b},
		{"xor64", a, b, alu64X(isa.XOR, 1, 2), a ^ b},
		{"xor64 imm", a, 0, alu64K(isa.XOR, 1, -1), ^a},
		{"lsh64", a, 4, alu64X(isa.LSH, 1, 2), a << 4},
		{"lsh64 masks count", a, 68, alu64X(isa.LSH, 1, 2), a << 4},
		{"rsh64", a, 63, alu64X(isa.RSH, 1, 2), 1},
		{"rsh64 masks count", a, 64, alu64X(isa.RSH, 1, 2), a},
		{"rsh64 imm", a, 0, alu64K(isa.RSH, 1, 60), a >> 60},
		{"arsh64", a, 60, alu64X(isa.ARSH, 1, 2), neg(int64(a) >> 60)},
		{"arsh64 imm", a, 0, alu64K(isa.ARSH, 1, 63), math.MaxUint64},
		{"neg64", 1, 0, Insn{Op: isa.ALU64 | isa.NEG, Dst: 1}, math.MaxUint64},
		{"neg64 min", minI64, 0, Insn{Op: isa.ALU64 | isa.NEG, Dst: 1}, minI64},
		{"mov64 imm sign-extends", 0, 0, mov64K(1, -2), neg(-2)},
		{"mov64 reg", 0, a, alu64X(isa.MOV, 1, 2), a},
		{"sdiv64", neg(-7), 2, sdiv, neg(-3)},
		{"sdiv64 by zero gives 0", a, 0, sdiv, 0},
		{"sdiv64 min by -1", minI64, neg(-1), sdiv, minI64},
		{"sdiv64 imm", neg(-9), 0, sdivK(4), neg(-2)},
		{"sdiv64 imm -1", minI64, 0, sdivK(-1), minI64},
		{"smod64 sign of dividend", neg(-7), 2, smod, neg(-1)},
		{"smod64 negative divisor", 7, neg(-2), smod, 1},
		{"smod64 by zero keeps dst", a, 0, smod, a},
		{"smod64 min by -1", minI64, neg(-1), smod, 0},
		{"smod64 imm -1", a, 0, smodK(-1), 0},
		{"smod64 imm", neg(-9), 0, smodK(4), neg(-1)},
		{"movsx64 8", 0, 0x80, movsx(isa.ALU64, 8), neg(-128)},
		{"movsx64 16", 0, 0x1_7fff, movsx(isa.ALU64, 16), 0x7fff},
		{"movsx64 32", 0, 0x1_8000_0000, movsx(isa.ALU64, 32), neg(math.MinInt32)},
		{"bswap16", a, 0, end(isa.ALU64, 0, 16), uint64(bits.ReverseBytes16(uint16(a)))},
		{"bswap32", a, 0, end(isa.ALU64, 0, 32), uint64(bits.ReverseBytes32(uint32(a)))},
		{"bswap64", a, 0, end(isa.ALU64, 0, 64), bits.ReverseBytes64(a)},

		{"add32 wraps and zero-extends", 0xffff_ffff_ffff_ffff, 2, alu32X(isa.ADD, 1, 2), 1},
		{"sub32", 1, 2, alu32X(isa.SUB, 1, 2), 0xffff_ffff},
		{"mul32", a, b, alu32X(isa.MUL, 1, 2), z32(uint32(a) * uint32(b))},
		{"div32", a, b, alu32X(isa.DIV, 1, 2), z32(uint32(a) / uint32(b))},
		{"div32 by zero gives 0", a, 0x1_0000_0000, alu32X(isa.DIV, 1, 2), 0},
		{"mod32 by zero zero-extends dst", a, 0x1_0000_0000, alu32X(isa.MOD, 1, 2), z32(uint32(a))},
		{"mod32 imm", a, 0, alu32K(isa.MOD, 1, 1000), z32(uint32(a) % 1000)},
		{"or32 imm", a, 0, alu32K(isa.OR, 1, -1), 0xffff_ffff},
		{"and32", a, b, alu32X(isa.AND, 1, 2), z32(uint32(a) & uint32(b))},
		{"xor32", a, b, alu32X(isa.XOR, 1, 2), z32(uint32(a) ^ uint32(b))},
		{"lsh32 masks count", a, 36, alu32X(isa.LSH, 1, 2), z32(uint32(a) << 4)},
		{"rsh32", a, 28, alu32X(isa.RSH, 1, 2), z32(uint32(a) >> 28)},
		{"arsh32", 0x8000_0000, 31, alu32X(isa.ARSH, 1, 2), 0xffff_ffff},
		{"arsh32 imm", 0xffff_ffff_8000_0000, 0, alu32K(isa.ARSH, 1, 4), 0xf800_0000},
		{"neg32", 1, 0, Insn{Op: isa.ALU | isa.NEG, Dst: 1}, 0xffff_ffff},
		{"mov32 imm", a, 0, alu32K(isa.MOV, 1, -1), 0xffff_ffff},
		{"mov32 reg zero-extends", 0, a, alu32X(isa.MOV, 1, 2), z32(uint32(a))},
		{"sdiv32 imm", 7, 0, sdiv32K(2), 3},
		{"sdiv32 reg", uint64(0xffff_fff9), 2, sdiv32, 0xffff_fffd},
		{"sdiv32 min by 2", 0x8000_0000, 2, sdiv32, 0xc000_0000},
		{"sdiv32 min by -1", 0x8000_0000, 0xffff_ffff, sdiv32, 0x8000_0000},
		{"sdiv32 by zero gives 0", a, 0x1_0000_0000, sdiv32, 0},
		{"sdiv32 imm -1", 0x8000_0000, 0, sdiv32K(-1), 0x8000_0000},
		{"smod32", uint64(0xffff_fff9), 2, smod32, 0xffff_ffff},
		{"smod32 by -1", 0x8000_0000, 0xffff_ffff, smod32, 0},
		{"smod32 by zero zero-extends", a, 0, smod32, z32(uint32(a))},
		{"smod32 imm", uint64(0xffff_fff9), 0, smod32K(4), 0xffff_fffd},
		{"smod32 imm -1", a, 0, smod32K(-1), 0},
		{"movsx32 8", a, 0xff, movsx(isa.ALU, 8), 0xffff_ffff},
		{"movsx32 16", a, 0x8000, movsx(isa.ALU, 16), 0xffff_8000},
		{"le16", a, 0, end(isa.ALU, isa.K, 16), uint64(uint16(a))},
		{"le32", a, 0, end(isa.ALU, isa.K, 32), z32(uint32(a))},
		{"le64", a, 0, end(isa.ALU, isa.K, 64), a},
		{"be16", a, 0, end(isa.ALU, isa.X, 16), uint64(bits.ReverseBytes16(uint16(a)))},
		{"be32", a, 0, end(isa.ALU, isa.X, 32), uint64(bits.ReverseBytes32(uint32(a)))},
		{"be64", a, 0, end(isa.ALU, isa.X, 64), bits.ReverseBytes64(a)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prog := cat(ldConst(1, c.x), ldConst(2, c.y), c.insn, alu64X(isa.MOV, 0, 1), exit())
			wantR0(t, prog, nil, c.want)
		})
	}
}

// TestLdImm64 checks plain and pseudo-func ld_imm64.
func TestLdImm64(t *testing.T) {
	wantR0(t, cat(ldConst(0, 0x8000_0000_ffff_ffff), exit()), nil, 0x8000_0000_ffff_ffff)
	// PseudoFunc: the target is the first slot + imm + 1.
	prog := cat(ldImm64(0, PseudoFunc, 2, 0), exit(), mov64K(0, 1), exit())
	wantR0(t, prog, nil, FuncBase+3)
	// Other pseudo forms go through Env.LdImm64.
	env := &Env{LdImm64: func(src uint8, imm, imm2 int32) (uint64, error) {
		return uint64(src)<<48 | uint64(uint32(imm))<<16 | uint64(uint32(imm2)), nil
	}}
	wantR0(t, cat(ldImm64(0, PseudoMapValue, 7, 9), exit()), env, uint64(PseudoMapValue)<<48|7<<16|9)
}
