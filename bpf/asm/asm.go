package asm

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/scxsim/scxsim/bpf/isa"
	"github.com/scxsim/scxsim/bpf/vm"
)

// Error is an assembly error at one source line.
type Error struct {
	Line int    // 1-based line number in the source
	Text string // the offending line, trimmed
	Msg  string
}

func (e *Error) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d: %s (in %q)", e.Line, e.Msg, e.Text)
}

// Assemble translates a program in conformance assembly syntax into raw
// instruction slots. The syntax, one instruction per line:
//
//	mov32 %r0, 1            ALU: add sub mul div sdiv or and lsh rsh mod smod
//	add %r1, %r2                 xor mov arsh; suffix 32 = 32-bit, none/64 = 64-bit
//	neg %r1 / neg32 %r1
//	movsx832 %r0, %r1       sign-extending move: movsx{8,16,32}{32,64}
//	be16 %r0 / le32 %r0     byte order conversion; bswap16..64 (alias swap16..64)
//	lddw %r1, 0x1122334455667788
//	ldxdw %r2, [%r10-8]     loads ldx{b,h,w,dw}; sign-extending ldxs{b,h,w}
//	stxw [%r1+4], %r2       stores stx{b,h,w,dw}; immediate st{b,h,w,dw}
//	stdw [%r10-8], 5
//	lock add [%r10-8], %r1  atomics: add or and xor (+ fetch), xchg, cmpxchg;
//	lock fetch or32 [..], %r1    suffix 32 for 32-bit
//	jne %r1, 2, label       conditional jumps (suffix 32 = JMP32); target is a
//	jeq %r1, %r2, +3             label or a signed slot offset
//	ja label / ja32 label   (gotol is an alias of ja32)
//	may_goto label
//	call 1 / call helper 1  helper call by id; call local label (bpf-to-bpf);
//	call runtime 5          kfunc call by BTF id; call %r2 / callx %r2
//	exit
//	.raw 0x0000000000000095 one raw slot, as in a -- raw section
//
// `name:` defines a label (optionally followed by an instruction on the same
// line), `#` starts a comment, and the label `exit` refers to the first exit
// instruction unless defined explicitly. Numbers are decimal or 0x hex, with
// an optional sign; a 32-bit immediate may be given as its unsigned or
// sign-extended 64-bit form (0xffffffff and 0xffffffffffffffff both mean -1).
func Assemble(src string) ([]vm.Insn, error) {
	return assemble(src, 1)
}

// assemble is Assemble with line numbers counted from firstLine.
func assemble(src string, firstLine int) ([]vm.Insn, error) {
	a := &assembler{labels: map[string]int{}, firstExit: -1}
	for i, text := range strings.Split(src, "\n") {
		a.lineNo = firstLine + i
		a.text = strings.TrimSpace(strings.TrimSuffix(text, "\r"))
		if err := a.line(a.text); err != nil {
			return nil, err
		}
	}
	if err := a.resolve(); err != nil {
		return nil, err
	}
	return a.out, nil
}

// fixup is a jump or call whose target label is resolved after the last line.
type fixup struct {
	slot   int
	label  string
	inImm  bool // target goes in Imm (call local, ja32) rather than Off
	lineNo int
	text   string
}

type assembler struct {
	out       []vm.Insn
	labels    map[string]int
	firstExit int
	fixups    []fixup
	lineNo    int
	text      string
}

func (a *assembler) errorf(format string, args ...any) error {
	return &Error{Line: a.lineNo, Text: a.text, Msg: fmt.Sprintf(format, args...)}
}

func (a *assembler) line(text string) error {
	if i := strings.IndexByte(text, '#'); i >= 0 {
		text = text[:i]
	}
	text = strings.TrimSpace(text)
	for text != "" {
		word, rest := splitWord(text)
		if !strings.HasSuffix(word, ":") {
			return a.insn(strings.ToLower(word), rest)
		}
		name := word[:len(word)-1]
		if !validLabel(name) {
			return a.errorf("invalid label name %q", name)
		}
		if _, dup := a.labels[name]; dup {
			return a.errorf("duplicate label %q", name)
		}
		a.labels[name] = len(a.out)
		text = rest
	}
	return nil
}

// splitWord returns the first whitespace-separated word of s and the rest.
func splitWord(s string) (string, string) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

func validLabel(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func (a *assembler) emit(in vm.Insn) { a.out = append(a.out, in) }

// operands splits a comma-separated operand list; it checks the count.
func (a *assembler) operands(mn, rest string, n int) ([]string, error) {
	var ops []string
	if rest != "" {
		ops = strings.Split(rest, ",")
		for i := range ops {
			ops[i] = strings.TrimSpace(ops[i])
			if ops[i] == "" {
				return nil, a.errorf("empty operand in %s", mn)
			}
		}
	}
	if len(ops) != n {
		return nil, a.errorf("%s takes %d operand(s), got %d", mn, n, len(ops))
	}
	return ops, nil
}

// regFirst splits n operands, the first of which is a register, and parses
// that register.
func (a *assembler) regFirst(mn, rest string, n int) (uint8, []string, error) {
	ops, err := a.operands(mn, rest, n)
	if err != nil {
		return 0, nil, err
	}
	r, err := a.reg(ops[0])
	return r, ops, err
}

// operandPair splits n operands and sets in's destination register from the
// first and its source from the second: a register (and the X bit) or a
// 32-bit immediate. ALU and conditional jump instructions share this form.
func (a *assembler) operandPair(in *vm.Insn, mn, rest string, n int) ([]string, error) {
	dst, ops, err := a.regFirst(mn, rest, n)
	if err != nil {
		return nil, err
	}
	in.Dst = dst
	if isReg(ops[1]) {
		in.Op |= isa.X
		in.Src, err = a.reg(ops[1])
	} else {
		in.Imm, err = a.imm32(ops[1])
	}
	return ops, err
}

func (a *assembler) insn(mn, rest string) error {
	switch {
	case mn == "exit":
		if _, err := a.operands(mn, rest, 0); err != nil {
			return err
		}
		if a.firstExit < 0 {
			a.firstExit = len(a.out)
		}
		a.emit(vm.Insn{Op: isa.JMP | isa.EXIT})
		return nil
	case mn == "ja" || mn == "may_goto":
		ops, err := a.operands(mn, rest, 1)
		if err != nil {
			return err
		}
		op := uint8(isa.JMP | isa.JA)
		if mn == "may_goto" {
			op = isa.JMP | isa.JCOND
		}
		off, err := a.target(ops[0], false)
		a.emit(vm.Insn{Op: op, Off: int16(off)})
		return err
	case mn == "ja32" || mn == "gotol":
		ops, err := a.operands(mn, rest, 1)
		if err != nil {
			return err
		}
		off, err := a.target(ops[0], true)
		a.emit(vm.Insn{Op: isa.JMP32 | isa.JA, Imm: int32(off)})
		return err
	case mn == "call" || mn == "callx":
		return a.call(mn, rest)
	case mn == "lddw":
		dst, ops, err := a.regFirst(mn, rest, 2)
		if err != nil {
			return err
		}
		v, err := a.number(ops[1])
		if err != nil {
			return err
		}
		a.emit(vm.Insn{Op: isa.LD | isa.IMM | isa.DW, Dst: dst, Imm: int32(uint32(v))})
		a.emit(vm.Insn{Imm: int32(uint32(v >> 32))})
		return nil
	case mn == "lock":
		return a.atomic(rest)
	case mn == ".raw":
		ops, err := a.operands(mn, rest, 1)
		if err != nil {
			return err
		}
		v, err := a.number(ops[0])
		if err != nil {
			return err
		}
		a.emit(FromRawValue(v))
		return nil
	case strings.HasPrefix(mn, "ldx"):
		return a.load(mn, rest)
	case strings.HasPrefix(mn, "stx"):
		return a.store(mn, rest, true)
	case strings.HasPrefix(mn, "st"):
		return a.store(mn, rest, false)
	case strings.HasPrefix(mn, "movsx"):
		return a.movsx(mn, rest)
	}
	if ok, err := a.endian(mn, rest); ok {
		return err
	}
	if ok, err := a.alu(mn, rest); ok {
		return err
	}
	if ok, err := a.jump(mn, rest); ok {
		return err
	}
	return a.errorf("unknown mnemonic %q", mn)
}

// target parses a jump target: a label (resolved later) or a signed slot
// offset such as +3 or -2. wide allows a 32-bit offset.
func (a *assembler) target(s string, wide bool) (int32, error) {
	if validLabel(s) {
		a.fixups = append(a.fixups, fixup{slot: len(a.out), label: s, inImm: wide, lineNo: a.lineNo, text: a.text})
		return 0, nil
	}
	v, err := a.number(s)
	if err != nil {
		return 0, a.errorf("invalid jump target %q", s)
	}
	lo, hi := int64(math.MinInt16), int64(math.MaxInt16)
	if wide {
		lo, hi = math.MinInt32, math.MaxInt32
	}
	if int64(v) < lo || int64(v) > hi {
		return 0, a.errorf("jump offset %s out of range", s)
	}
	return int32(int64(v)), nil
}

func (a *assembler) resolve() error {
	for _, f := range a.fixups {
		pos, ok := a.labels[f.label]
		if !ok && f.label == "exit" && a.firstExit >= 0 {
			pos, ok = a.firstExit, true
		}
		if !ok {
			return &Error{Line: f.lineNo, Text: f.text, Msg: fmt.Sprintf("undefined label %q", f.label)}
		}
		d := pos - f.slot - 1
		in := &a.out[f.slot]
		if f.inImm {
			in.Imm = int32(d)
			continue
		}
		if d < math.MinInt16 || d > math.MaxInt16 {
			return &Error{Line: f.lineNo, Text: f.text, Msg: fmt.Sprintf("label %q is too far for a 16-bit jump offset", f.label)}
		}
		in.Off = int16(d)
	}
	return nil
}

// call assembles the call forms: `call N`, `call helper N`, `call local T`,
// `call runtime N` (kfunc by BTF id; `kfunc` is an alias), `call %rN`, `callx %rN`.
func (a *assembler) call(mn, rest string) error {
	words := strings.Fields(rest)
	if mn == "callx" {
		if len(words) != 1 {
			return a.errorf("callx takes 1 operand, got %d", len(words))
		}
		r, err := a.reg(words[0])
		a.emit(vm.Insn{Op: isa.JMP | isa.CALL | isa.X, Dst: r})
		return err
	}
	switch len(words) {
	case 1:
		if isReg(words[0]) {
			r, err := a.reg(words[0])
			a.emit(vm.Insn{Op: isa.JMP | isa.CALL | isa.X, Dst: r})
			return err
		}
		words = []string{"helper", words[0]}
	case 2:
	default:
		return a.errorf("call takes 1 or 2 operands, got %d", len(words))
	}
	in := vm.Insn{Op: isa.JMP | isa.CALL}
	var err error
	switch words[0] {
	case "helper":
		in.Src = vm.HelperCallSrcReg
		in.Imm, err = a.imm32(words[1])
	case "local":
		in.Src = vm.PseudoCall
		in.Imm, err = a.target(words[1], true)
	case "runtime", "kfunc":
		in.Src = vm.PseudoKfuncCall
		in.Imm, err = a.imm32(words[1])
	default:
		return a.errorf("invalid call mode %q (want helper, local or runtime)", words[0])
	}
	a.emit(in)
	return err
}

// atomic assembles `lock [fetch] OP[32] [%rD+off], %rS`.
func (a *assembler) atomic(rest string) error {
	op, rest := splitWord(rest)
	fetch := false
	if op == "fetch" {
		fetch = true
		op, rest = splitWord(rest)
	}
	op = strings.ToLower(op)
	size := uint8(isa.DW)
	name := op
	if s, ok := strings.CutSuffix(op, "32"); ok {
		size, name = isa.W, s
	} else if s, ok := strings.CutSuffix(op, "64"); ok {
		name = s
	}
	imm, ok := atomicOps[name]
	if !ok {
		return a.errorf("unknown atomic operation %q", op)
	}
	if fetch {
		imm |= isa.FETCH
	}
	ops, err := a.operands("lock "+op, rest, 2)
	if err != nil {
		return err
	}
	dst, off, err := a.mem(ops[0])
	if err != nil {
		return err
	}
	src, err := a.reg(ops[1])
	if err != nil {
		return err
	}
	a.emit(vm.Insn{Op: isa.STX | isa.ATOMIC | size, Dst: dst, Src: src, Off: off, Imm: imm})
	return nil
}

// load assembles ldx{b,h,w,dw} and the sign-extending ldxs{b,h,w}.
func (a *assembler) load(mn, rest string) error {
	suffix := mn[3:]
	mode := uint8(isa.MEM)
	if s, ok := strings.CutPrefix(suffix, "s"); ok && s != "" {
		mode, suffix = isa.MEMSX, s
	}
	size, ok := sizes[suffix]
	if !ok || (mode == isa.MEMSX && size == isa.DW) {
		return a.errorf("unknown mnemonic %q", mn)
	}
	dst, ops, err := a.regFirst(mn, rest, 2)
	if err != nil {
		return err
	}
	src, off, err := a.mem(ops[1])
	if err != nil {
		return err
	}
	a.emit(vm.Insn{Op: isa.LDX | mode | size, Dst: dst, Src: src, Off: off})
	return nil
}

// store assembles stx{b,h,w,dw} (register source) and st{b,h,w,dw} (immediate).
func (a *assembler) store(mn, rest string, reg bool) error {
	suffix := mn[2:]
	if reg {
		suffix = mn[3:]
	}
	size, ok := sizes[suffix]
	if !ok {
		return a.errorf("unknown mnemonic %q", mn)
	}
	ops, err := a.operands(mn, rest, 2)
	if err != nil {
		return err
	}
	dst, off, err := a.mem(ops[0])
	if err != nil {
		return err
	}
	in := vm.Insn{Dst: dst, Off: off}
	if reg {
		in.Op = isa.STX | isa.MEM | size
		in.Src, err = a.reg(ops[1])
	} else {
		in.Op = isa.ST | isa.MEM | size
		in.Imm, err = a.imm32(ops[1])
	}
	if err != nil {
		return err
	}
	a.emit(in)
	return nil
}

// movsx assembles movsx{8,16,32}{32,64} %rD, %rS.
func (a *assembler) movsx(mn, rest string) error {
	var cls uint8
	var width string
	switch {
	case strings.HasSuffix(mn, "64"):
		cls, width = isa.ALU64, mn[5:len(mn)-2]
	case strings.HasSuffix(mn, "32"):
		cls, width = isa.ALU, mn[5:len(mn)-2]
	default:
		return a.errorf("unknown mnemonic %q", mn)
	}
	var off int16
	switch width {
	case "8":
		off = 8
	case "16":
		off = 16
	case "32":
		off = 32
	default:
		return a.errorf("unknown mnemonic %q", mn)
	}
	dst, ops, err := a.regFirst(mn, rest, 2)
	if err != nil {
		return err
	}
	src, err := a.reg(ops[1])
	if err != nil {
		return err
	}
	a.emit(vm.Insn{Op: cls | isa.MOV | isa.X, Dst: dst, Src: src, Off: off})
	return nil
}

// endian assembles le{16,32,64}, be{16,32,64} and bswap/swap{16,32,64}.
func (a *assembler) endian(mn, rest string) (bool, error) {
	var op uint8
	var bits string
	switch {
	case strings.HasPrefix(mn, "le"):
		op, bits = isa.ALU|isa.END|isa.ToLE, mn[2:]
	case strings.HasPrefix(mn, "be"):
		op, bits = isa.ALU|isa.END|isa.ToBE, mn[2:]
	case strings.HasPrefix(mn, "bswap"):
		op, bits = isa.ALU64|isa.END|isa.ToLE, mn[5:]
	case strings.HasPrefix(mn, "swap"):
		op, bits = isa.ALU64|isa.END|isa.ToLE, mn[4:]
	default:
		return false, nil
	}
	if bits != "16" && bits != "32" && bits != "64" {
		return false, nil
	}
	dst, _, err := a.regFirst(mn, rest, 1)
	if err != nil {
		return true, err
	}
	n, _ := strconv.Atoi(bits)
	a.emit(vm.Insn{Op: op, Dst: dst, Imm: int32(n)})
	return true, nil
}

// alu assembles the two-operand ALU instructions and neg.
func (a *assembler) alu(mn, rest string) (bool, error) {
	cls := uint8(isa.ALU64)
	name := mn
	if s, ok := strings.CutSuffix(mn, "32"); ok {
		cls, name = isa.ALU, s
	} else if s, ok := strings.CutSuffix(mn, "64"); ok {
		name = s
	}
	if name == "neg" {
		dst, _, err := a.regFirst(mn, rest, 1)
		a.emit(vm.Insn{Op: cls | isa.NEG | isa.K, Dst: dst})
		return true, err
	}
	op, ok := aluOps[name]
	if !ok {
		return false, nil
	}
	in := vm.Insn{Op: cls | op.op, Off: op.off}
	if _, err := a.operandPair(&in, mn, rest, 2); err != nil {
		return true, err
	}
	a.emit(in)
	return true, nil
}

// jump assembles the conditional jumps.
func (a *assembler) jump(mn, rest string) (bool, error) {
	cls := uint8(isa.JMP)
	name := mn
	if s, ok := strings.CutSuffix(mn, "32"); ok {
		cls, name = isa.JMP32, s
	}
	op, ok := jmpOps[name]
	if !ok {
		return false, nil
	}
	in := vm.Insn{Op: cls | op}
	ops, err := a.operandPair(&in, mn, rest, 3)
	if err != nil {
		return true, err
	}
	off, err := a.target(ops[2], false)
	in.Off = int16(off)
	a.emit(in)
	return true, err
}

// isReg reports whether an operand is written as a register.
func isReg(s string) bool {
	return strings.HasPrefix(s, "%") || (len(s) > 1 && s[0] == 'r' && s[1] >= '0' && s[1] <= '9')
}

// reg parses %r0..%r15 (r0..r15 also accepted). Registers above r10 do not
// exist; they assemble so that negative tests can exercise the loader.
func (a *assembler) reg(s string) (uint8, error) {
	t := strings.TrimPrefix(s, "%")
	if n, ok := strings.CutPrefix(t, "r"); ok && n != "" && len(n) <= 2 {
		if v, err := strconv.ParseUint(n, 10, 8); err == nil && v <= 15 && (n[0] != '0' || n == "0") {
			return uint8(v), nil
		}
	}
	return 0, a.errorf("invalid register %q", s)
}

// mem parses a memory operand [%rN], [%rN+off] or [%rN-off].
func (a *assembler) mem(s string) (uint8, int16, error) {
	inner, ok := strings.CutPrefix(s, "[")
	if ok {
		inner, ok = strings.CutSuffix(inner, "]")
	}
	if !ok {
		return 0, 0, a.errorf("invalid memory operand %q (want [%%rN+off])", s)
	}
	inner = strings.TrimSpace(inner)
	i := strings.IndexAny(inner, "+-")
	if i < 0 {
		r, err := a.reg(inner)
		return r, 0, err
	}
	r, err := a.reg(strings.TrimSpace(inner[:i]))
	if err != nil {
		return 0, 0, err
	}
	offText := inner[i:i+1] + strings.TrimSpace(inner[i+1:])
	v, err := a.number(offText)
	if err != nil {
		return 0, 0, err
	}
	if int64(v) < math.MinInt16 || int64(v) > math.MaxInt16 {
		return 0, 0, a.errorf("memory offset %s out of range", offText)
	}
	return r, int16(int64(v)), nil
}

// imm32 parses a 32-bit immediate: any value in [-2^31, 2^32), or a 64-bit
// value that is the sign extension of a 32-bit one.
func (a *assembler) imm32(s string) (int32, error) {
	v, err := a.number(s)
	if err != nil {
		return 0, err
	}
	if int64(v) < math.MinInt32 || int64(v) > math.MaxUint32 {
		return 0, a.errorf("immediate %s does not fit in 32 bits", s)
	}
	return int32(uint32(v)), nil
}

// number parses a decimal or 0x-hex integer with optional sign into its
// 64-bit two's complement form.
func (a *assembler) number(s string) (uint64, error) {
	v, err := parseNumber(s)
	if err != nil {
		return 0, a.errorf("invalid number %q", s)
	}
	return v, nil
}

func parseNumber(s string) (uint64, error) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	var v uint64
	var err error
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		v, err = strconv.ParseUint(h, 16, 64)
	} else {
		v, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		return 0, fmt.Errorf("invalid number")
	}
	if neg {
		if v > 1<<63 {
			return 0, fmt.Errorf("invalid number")
		}
		v = -v
	}
	return v, nil
}
