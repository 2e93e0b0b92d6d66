package vm

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/isa"
)

// TestLoadRejects checks that malformed programs fail to load with the
// verifier's words and the offending instruction index.
func TestLoadRejects(t *testing.T) {
	cases := []struct {
		name string
		prog []Insn
		pc   int
		msg  string
	}{
		{"empty", nil, 0, "empty program"},
		{"jump out of range", cat(jmpK(isa.JEQ, 1, 0, 5), exit()), 0, "jump out of range from insn 0 to 6"},
		{"jump before start", cat(exit(), ja(-3)), 1, "jump out of range from insn 1 to -1"},
		{"gotol out of range", cat(Insn{Op: isa.JMP32 | isa.JA, Imm: 100}, exit()), 0, "jump out of range"},
		{"ld_imm64 missing second half", []Insn{{Op: isa.LD | isa.IMM | isa.DW}}, 0, "invalid bpf_ld_imm64 insn"},
		{"ld_imm64 bad second half", []Insn{{Op: isa.LD | isa.IMM | isa.DW}, {Op: 0x95}, exit()}, 0, "invalid bpf_ld_imm64 insn"},
		{"jump into ld_imm64", cat(ja(1), ldConst(0, 1), exit()), 0, "jump into the middle of ldimm64 insn 1"},
		{"unknown opcode", cat(Insn{Op: 0x8f}, exit()), 0, "unknown opcode 8f"},
		{"unknown jmp op", cat(Insn{Op: isa.JMP | 0xf0}, exit()), 0, "unknown opcode f5"},
		{"ld_abs", cat(Insn{Op: isa.LD | isa.ABS | isa.W}, exit()), 0, "BPF_LD_[ABS|IND]"},
		{"bad dst register", cat(Insn{Op: isa.ALU64 | isa.MOV, Dst: 11}, exit()), 0, "R11 is invalid"},
		{"bad src register", cat(alu64X(isa.ADD, 0, 12), exit()), 0, "R12 is invalid"},
		{"write r10", cat(mov64K(10, 0), exit()), 0, "frame pointer is read only"},
		{"load into r10", cat(ldx(isa.DW, 10, 1, 0), exit()), 0, "frame pointer is read only"},
		{"fetch into r10", cat(atomicOp(isa.DW, isa.ADD|isa.FETCH, 1, 10, 0), exit()), 0, "frame pointer is read only"},
		{"fall through end", cat(mov64K(0, 0)), 0, "last insn is not an exit or jmp"},
		{"subprog falls into next", cat(callLocal(1), exit(), mov64K(0, 1), mov64K(0, 1), callLocal(-1), exit()), 3, "last insn is not an exit or jmp"},
		{"jump across subprogs", cat(callLocal(1), ja(2), mov64K(0, 1), exit(), exit()), 1, "jump out of range"},
		{"call to invalid destination", cat(callLocal(10), exit()), 0, "call to invalid destination"},
		{"div by zero imm", cat(alu64K(isa.DIV, 0, 0), exit()), 0, "div by zero"},
		{"mod32 by zero imm", cat(alu32K(isa.MOD, 0, 0), exit()), 0, "div by zero"},
		{"shift too wide", cat(alu64K(isa.LSH, 0, 64), exit()), 0, "invalid shift 64"},
		{"shift32 too wide", cat(alu32K(isa.ARSH, 0, 32), exit()), 0, "invalid shift 32"},
		{"negative shift", cat(alu64K(isa.RSH, 0, -1), exit()), 0, "invalid shift -1"},
		{"alu reserved off", cat(Insn{Op: isa.ALU64 | isa.ADD, Off: 1}, exit()), 0, "BPF_ALU uses reserved fields"},
		{"alu X with imm", cat(Insn{Op: isa.ALU64 | isa.ADD | isa.X, Imm: 1}, exit()), 0, "BPF_ALU uses reserved fields"},
		{"neg with src", cat(Insn{Op: isa.ALU64 | isa.NEG, Src: 1}, exit()), 0, "BPF_NEG uses reserved fields"},
		{"end bad width", cat(Insn{Op: isa.ALU | isa.END, Imm: 8}, exit()), 0, "BPF_END uses reserved fields"},
		{"bswap64 with X", cat(Insn{Op: isa.ALU64 | isa.END | isa.X, Imm: 16}, exit()), 0, "unknown opcode df"},
		{"end with src reg", cat(Insn{Op: isa.ALU | isa.END, Src: 1, Imm: 16}, exit()), 0, "BPF_END uses reserved fields"},
		{"movsx32 32", cat(Insn{Op: isa.ALU | isa.MOV | isa.X, Off: 32}, exit()), 0, "BPF_MOV uses reserved fields"},
		{"mov K with off", cat(Insn{Op: isa.ALU64 | isa.MOV, Off: 8}, exit()), 0, "BPF_MOV uses reserved fields"},
		{"bad addr_space_cast", cat(Insn{Op: isa.ALU64 | isa.MOV | isa.X, Off: 1, Imm: 2}, exit()), 0, "addr_space_cast"},
		{"ldx with imm", cat(Insn{Op: isa.LDX | isa.MEM | isa.W, Imm: 1}, exit()), 0, "BPF_LDX uses reserved fields"},
		{"ldxs dw", cat(Insn{Op: isa.LDX | isa.MEMSX | isa.DW}, exit()), 0, "unknown opcode 99"},
		{"st with src", cat(Insn{Op: isa.ST | isa.MEM | isa.W, Src: 1}, exit()), 0, "BPF_ST uses reserved fields"},
		{"stx with imm", cat(Insn{Op: isa.STX | isa.MEM | isa.W, Imm: 1}, exit()), 0, "BPF_STX uses reserved fields"},
		{"atomic bad op", cat(atomicOp(isa.DW, 0x10, 1, 2, 0), exit()), 0, "invalid atomic opcode 10"},
		{"atomic byte rmw", cat(atomicOp(isa.B, isa.ADD, 1, 2, 0), exit()), 0, "invalid atomic operand size"},
		{"call with dst", cat(Insn{Op: isa.JMP | isa.CALL, Dst: 1, Imm: 1}, exit()), 0, "BPF_CALL uses reserved fields"},
		{"jmp32 call", cat(Insn{Op: isa.JMP32 | isa.CALL, Imm: 1}, exit()), 0, "unknown opcode 86"},
		{"gotox", cat(Insn{Op: isa.JMP | isa.JA | isa.X, Dst: 1}, exit()), 0, "gotox"},
		{"exit with imm", cat(Insn{Op: isa.JMP | isa.EXIT, Imm: 1}), 0, "BPF_EXIT uses reserved fields"},
		{"ja with imm", cat(Insn{Op: isa.JMP | isa.JA, Imm: 1}, exit()), 0, "BPF_JA uses reserved fields"},
		{"gotol with off", cat(Insn{Op: isa.JMP32 | isa.JA, Off: 1}, exit()), 0, "BPF_JA uses reserved fields"},
		{"jmp K with src", cat(Insn{Op: isa.JMP | isa.JEQ, Src: 1}, exit()), 0, "BPF_JMP/JMP32 uses reserved fields"},
		{"may_goto with imm", cat(Insn{Op: isa.JMP | isa.JCOND, Imm: 1}, exit()), 0, "invalid may_goto imm 1"},
		{"pseudo map without env", cat(ldImm64(1, PseudoMapFD, 3, 0), exit()), 0, "unrecognized bpf_ld_imm64 insn"},
		{"unknown pseudo", cat(ldImm64(1, 9, 3, 0), exit()), 0, "unrecognized bpf_ld_imm64 insn"},
		{"pseudo func out of range", cat(ldImm64(1, PseudoFunc, 50, 0), exit()), 0, "call to invalid destination"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("bad", c.prog, nil)
			if err == nil {
				t.Fatal("loaded")
			}
			ve := asVMError(t, err)
			if ve.PC != c.pc || !strings.Contains(ve.Msg, c.msg) {
				t.Errorf("got %q at insn %d, want %q at insn %d", ve.Msg, ve.PC, c.msg, c.pc)
			}
		})
	}
}

// TestLdImm64Pseudo checks the pseudo forms' resolution through Env.LdImm64
// and the verifier's checks on their second immediate.
func TestLdImm64Pseudo(t *testing.T) {
	var got [][3]int32
	env := &Env{LdImm64: func(src uint8, imm, imm2 int32) (uint64, error) {
		got = append(got, [3]int32{int32(src), imm, imm2})
		if imm == 99 {
			return 0, fmt.Errorf("fd %d is not pointing to valid bpf_map", imm)
		}
		return 1 << 40, nil
	}}
	if _, err := Load("ok", cat(ldImm64(1, PseudoMapValue, 3, 8), ldImm64(2, PseudoMapIdx, 1, 0), exit()), env); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != [3]int32{PseudoMapValue, 3, 8} || got[1] != [3]int32{PseudoMapIdx, 1, 0} {
		t.Errorf("resolver saw %v", got)
	}
	for _, c := range []struct {
		prog []Insn
		msg  string
	}{
		{cat(ldImm64(1, PseudoMapFD, 3, 8), exit()), "unrecognized bpf_ld_imm64 insn"},
		{cat(ldImm64(1, PseudoMapIdx, 3, 1), exit()), "unrecognized bpf_ld_imm64 insn"},
		{cat(mov64K(0, 0), ldImm64(1, PseudoMapFD, 99, 0), exit()), "insn 1: fd 99 is not pointing to valid bpf_map"},
	} {
		if _, err := Load("bad", c.prog, env); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("error %v, want %q", err, c.msg)
		}
	}
}

// TestDecodeEncode checks the raw encoding against a hand-assembled slot and
// the round trip.
func TestDecodeEncode(t *testing.T) {
	// r3 = *(u32 *)(r7 - 2): op 0x61, regs 0x73, off 0xfffe, imm 0
	raw := []byte{0x61, 0x73, 0xfe, 0xff, 0, 0, 0, 0, 0xb7, 0x01, 0, 0, 0xff, 0xff, 0xff, 0xff}
	insns, err := DecodeBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := []Insn{{Op: 0x61, Dst: 3, Src: 7, Off: -2}, {Op: 0xb7, Dst: 1, Imm: -1}}
	if len(insns) != 2 || insns[0] != want[0] || insns[1] != want[1] {
		t.Errorf("decoded %+v", insns)
	}
	if !bytes.Equal(EncodeBytes(insns), raw) {
		t.Errorf("encoded %x", EncodeBytes(insns))
	}
	if _, err := DecodeBytes(raw[:7]); err == nil {
		t.Error("odd length accepted")
	}
}

// TestLenAndName checks Program's exported accessors.
func TestLenAndName(t *testing.T) {
	p := mustLoad(t, cat(ldConst(0, 1), exit()), nil)
	if p.Len() != 3 || p.Name != t.Name() {
		t.Errorf("Len %d Name %q", p.Len(), p.Name)
	}
}
