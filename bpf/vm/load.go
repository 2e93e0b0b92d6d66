package vm

import (
	"fmt"

	"github.com/scxsim/scxsim/bpf/isa"
)

// Program is a loaded, pre-decoded program, ready to run on any Exec.
type Program struct {
	// Name is the program's name, used in error messages.
	Name string
	// Arena is the BPF arena the program uses (nil if none). The loader sets
	// it after Load; the VM routes arena addresses through it.
	Arena *Arena

	code   []dinsn  // one entry per raw slot, plus a sentinel
	icount []uint32 // icount[i]: instructions (not slots) before slot i
	funcs  []Helper // helper and kfunc implementations, indexed by call imm
	starts []bool   // starts[pc]: pc begins a subprogram
	n      int      // raw instruction count
}

// Len is the number of raw instruction slots (an ld_imm64 counts two).
func (p *Program) Len() int { return p.n }

// Load checks and pre-decodes a program. It rejects malformed bytecode
// (unknown opcodes, reserved fields in use, bad registers, jumps out of
// range or into an ld_imm64, a subprogram that can fall through its end)
// with the kernel verifier's words, resolves helpers and kfuncs through env
// and resolves ld_imm64 pseudo forms. env may be nil for programs that call
// no helpers and use no pseudo ld_imm64.
func Load(name string, insns []Insn, env *Env) (p *Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, &Error{Prog: name, PC: -1, Msg: fmt.Sprintf("internal error during load: %v", r)}
		}
	}()
	if env == nil {
		env = &Env{}
	}
	l := &loader{name: name, insns: insns, env: env}
	return l.load()
}

type loader struct {
	name  string
	insns []Insn
	env   *Env
	p     *Program
}

func (l *loader) errf(pc int, format string, args ...any) error {
	return &Error{Prog: l.name, PC: pc, Msg: fmt.Sprintf(format, args...)}
}

func (l *loader) load() (*Program, error) {
	n := len(l.insns)
	if n == 0 {
		return nil, l.errf(0, "empty program")
	}
	if n > 1<<20 {
		return nil, l.errf(0, "program of %d insns is too large", n)
	}
	p := &Program{Name: l.name, n: n, code: make([]dinsn, n+1), starts: make([]bool, n+1)}
	l.p = p
	p.code[n] = dinsn{op: opFallOff}
	second := make([]bool, n) // second slot of an ld_imm64
	p.starts[0] = true
	for i := 0; i < n; i++ {
		if second[i] {
			continue
		}
		d, err := l.decode(i)
		if err != nil {
			return nil, err
		}
		p.code[i] = d
		if d.op == opLdImm64 {
			second[i+1] = true
			p.code[i+1] = dinsn{op: opFallOff}
		}
		if d.op == opCallLocal {
			p.starts[d.off] = true
		}
		if d.op == opLdImm64 && l.insns[i].Src == PseudoFunc {
			p.starts[i+int(l.insns[i].Imm)+1] = true
		}
	}
	// Jumps stay inside their subprogram and never land on an ld_imm64's
	// second half; no subprogram falls through its end (check_subprogs).
	ends := make([]int, n)
	for i, end := n-1, n; i >= 0; i-- {
		ends[i] = end
		if p.starts[i] {
			end = i
		}
	}
	start := 0
	for i := 0; i < n; i++ {
		if p.starts[i] {
			start = i
		}
		end := ends[i]
		d := &p.code[i]
		if isJump(d.op) {
			t := int(d.off)
			if t < start || t >= end {
				return nil, l.errf(i, "jump out of range from insn %d to %d", i, t)
			}
			if second[t] {
				return nil, l.errf(i, "jump into the middle of ldimm64 insn %d", t-1)
			}
		}
		if i+1 == n || p.starts[i+1] {
			if d.op != opExit && d.op != opJa {
				return nil, l.errf(i, "last insn is not an exit or jmp")
			}
		}
	}
	l.account(second)
	return p, nil
}

// account fills icount and the aux fields the interpreter's instruction
// counting uses.
func (l *loader) account(second []bool) {
	p := l.p
	n := p.n
	p.icount = make([]uint32, n+2)
	for i := 0; i <= n; i++ {
		c := uint32(1)
		if i < n && second[i] {
			c = 0
		}
		p.icount[i+1] = p.icount[i] + c
	}
	for i := 0; i < n; i++ {
		d := &p.code[i]
		next := int32(p.icount[i+1])
		switch {
		case second[i] || d.op == opLdImm64:
		case isJump(d.op):
			d.aux = next - int32(p.icount[d.off])
			if d.op == opMayGoto {
				d.imm = next
			}
		case d.op == opCallLocal:
			d.aux, d.imm = next, int32(p.icount[d.off])
		default:
			d.aux = next
		}
	}
	p.code[n].aux = int32(p.icount[n+1])
}

func (d *dinsn) setImm64(v uint64) { d.imm, d.aux = int32(uint32(v)), int32(uint32(v>>32)) }

// opcodeTable holds the opcodes the kernel knows at all, as
// bpf_opcode_in_insntable() does; finer checks follow per class.
var opcodeTable = func() (t [256]bool) {
	alu := []uint8{isa.ADD, isa.SUB, isa.MUL, isa.DIV, isa.OR, isa.AND, isa.LSH, isa.RSH, isa.MOD, isa.XOR, isa.MOV, isa.ARSH}
	for _, cls := range []uint8{isa.ALU, isa.ALU64} {
		for _, op := range alu {
			t[cls|op|isa.K], t[cls|op|isa.X] = true, true
		}
		t[cls|isa.NEG] = true
		t[cls|isa.END|isa.K] = true
	}
	t[isa.ALU|isa.END|isa.X] = true
	cond := []uint8{isa.JEQ, isa.JGT, isa.JGE, isa.JSET, isa.JNE, isa.JSGT, isa.JSGE, isa.JLT, isa.JLE, isa.JSLT, isa.JSLE}
	for _, cls := range []uint8{isa.JMP, isa.JMP32} {
		for _, op := range cond {
			t[cls|op|isa.K], t[cls|op|isa.X] = true, true
		}
		t[cls|isa.JA] = true
	}
	t[isa.JMP|isa.CALL], t[isa.JMP|isa.EXIT], t[isa.JMP|isa.JCOND], t[isa.JMP|isa.JA|isa.X] = true, true, true, true
	for _, size := range []uint8{isa.B, isa.H, isa.W, isa.DW} {
		t[isa.LDX|isa.MEM|size], t[isa.ST|isa.MEM|size] = true, true
		t[isa.STX|isa.MEM|size], t[isa.STX|isa.ATOMIC|size] = true, true
		if size != isa.DW {
			t[isa.LDX|isa.MEMSX|size] = true
			t[isa.LD|isa.ABS|size], t[isa.LD|isa.IND|size] = true, true
		}
	}
	t[isa.LD|isa.IMM|isa.DW] = true
	return t
}()

func isJump(op uint8) bool { return op >= opJa && op <= opMayGoto }

// Verifier-style register checks.
func (l *loader) reg(pc int, r uint8) error {
	if r > 10 {
		return l.errf(pc, "R%d is invalid", r)
	}
	return nil
}

func (l *loader) dstReg(pc int, r uint8) error {
	if err := l.reg(pc, r); err != nil {
		return err
	}
	if r == 10 {
		return l.errf(pc, "frame pointer is read only")
	}
	return nil
}

func (l *loader) decode(i int) (dinsn, error) {
	in := l.insns[i]
	d := dinsn{dst: in.Dst, src: in.Src, off: int32(in.Off), imm: in.Imm}
	if !opcodeTable[in.Op] {
		return d, l.errf(i, "unknown opcode %02x", in.Op)
	}
	if in.Dst > 15 || in.Src > 15 {
		return d, l.errf(i, "R%d is invalid", max(in.Dst, in.Src))
	}
	switch isa.Class(in.Op) {
	case isa.ALU, isa.ALU64:
		return l.decodeALU(i, in, d)
	case isa.JMP, isa.JMP32:
		return l.decodeJmp(i, in, d)
	case isa.LDX:
		return l.decodeLdx(i, in, d)
	case isa.ST:
		return l.decodeSt(i, in, d)
	case isa.STX:
		return l.decodeStx(i, in, d)
	default: // isa.LD
		return l.decodeLd(i, in, d)
	}
}

var (
	aluOps64 = map[uint8]uint8{isa.ADD: opAdd64K, isa.SUB: opSub64K, isa.MUL: opMul64K, isa.DIV: opDiv64K, isa.OR: opOr64K, isa.AND: opAnd64K, isa.LSH: opLsh64K, isa.RSH: opRsh64K, isa.MOD: opMod64K, isa.XOR: opXor64K, isa.ARSH: opArsh64K}
	aluOps32 = map[uint8]uint8{isa.ADD: opAdd32K, isa.SUB: opSub32K, isa.MUL: opMul32K, isa.DIV: opDiv32K, isa.OR: opOr32K, isa.AND: opAnd32K, isa.LSH: opLsh32K, isa.RSH: opRsh32K, isa.MOD: opMod32K, isa.XOR: opXor32K, isa.ARSH: opArsh32K}
)

// Mirrors the field checks of check_alu_op().
func (l *loader) decodeALU(i int, in Insn, d dinsn) (dinsn, error) {
	is64 := isa.Class(in.Op) == isa.ALU64
	op := isa.Op(in.Op)
	x := isa.Src(in.Op) == isa.X
	if err := l.dstReg(i, in.Dst); err != nil {
		return d, err
	}
	switch {
	case op == isa.NEG:
		if x || in.Src != 0 || in.Off != 0 || in.Imm != 0 {
			return d, l.errf(i, "BPF_NEG uses reserved fields")
		}
		d.op = pick(is64, opNeg64, opNeg32)
		return d, nil
	case op == isa.END:
		if in.Src != 0 || in.Off != 0 || (in.Imm != 16 && in.Imm != 32 && in.Imm != 64) || (is64 && x) {
			return d, l.errf(i, "BPF_END uses reserved fields")
		}
		w := map[int32]int{16: 0, 32: 1, 64: 2}[in.Imm]
		switch {
		case is64:
			d.op = opBswap16 + uint8(w)
		case x:
			d.op = opBe16 + uint8(w)
		default:
			d.op = opLe16 + uint8(w)
		}
		return d, nil
	case op == isa.MOV:
		if !x {
			if in.Src != 0 || in.Off != 0 {
				return d, l.errf(i, "BPF_MOV uses reserved fields")
			}
			d.op = pick(is64, opMov64K, opMov32K)
			return d, nil
		}
		if err := l.reg(i, in.Src); err != nil {
			return d, err
		}
		if is64 && in.Off == 1 {
			switch uint32(in.Imm) {
			case 1:
				d.op = opCastKern
			case 1 << 16:
				d.op = opCastUser
			default:
				return d, l.errf(i, "addr_space_cast insn can only convert between address space 1 and 0")
			}
			return d, nil
		}
		if in.Imm != 0 {
			return d, l.errf(i, "BPF_MOV uses reserved fields")
		}
		switch {
		case in.Off == 0:
			d.op = pick(is64, opMov64X, opMov32X)
		case in.Off == 8:
			d.op = pick(is64, opMovsx64B, opMovsx32B)
		case in.Off == 16:
			d.op = pick(is64, opMovsx64H, opMovsx32H)
		case in.Off == 32 && is64:
			d.op = opMovsx64W
		default:
			return d, l.errf(i, "BPF_MOV uses reserved fields")
		}
		return d, nil
	case op > isa.END:
		return d, l.errf(i, "invalid BPF_ALU opcode %x", op)
	}
	divmod := op == isa.DIV || op == isa.MOD
	if x {
		if in.Imm != 0 || (in.Off != 0 && in.Off != 1) || (in.Off == 1 && !divmod) {
			return d, l.errf(i, "BPF_ALU uses reserved fields")
		}
		if err := l.reg(i, in.Src); err != nil {
			return d, err
		}
	} else {
		if in.Src != 0 || (in.Off != 0 && in.Off != 1) || (in.Off == 1 && !divmod) {
			return d, l.errf(i, "BPF_ALU uses reserved fields")
		}
		if divmod && in.Imm == 0 {
			return d, l.errf(i, "div by zero")
		}
		if op == isa.LSH || op == isa.RSH || op == isa.ARSH {
			size := int32(pick(is64, 64, 32))
			if in.Imm < 0 || in.Imm >= size {
				return d, l.errf(i, "invalid shift %d", in.Imm)
			}
		}
	}
	k := aluOps32[op]
	if is64 {
		k = aluOps64[op]
	}
	if divmod && in.Off == 1 {
		k += 2 // signed variant follows the unsigned pair
	}
	if x {
		k++
	}
	d.op = k
	return d, nil
}

func pick(c bool, a, b uint8) uint8 {
	if c {
		return a
	}
	return b
}

var jmpOps = map[uint8]uint8{isa.JEQ: opJeq64K, isa.JGT: opJgt64K, isa.JGE: opJge64K, isa.JSET: opJset64K, isa.JNE: opJne64K, isa.JSGT: opJsgt64K, isa.JSGE: opJsge64K, isa.JLT: opJlt64K, isa.JLE: opJle64K, isa.JSLT: opJslt64K, isa.JSLE: opJsle64K}

func (l *loader) decodeJmp(i int, in Insn, d dinsn) (dinsn, error) {
	is32 := isa.Class(in.Op) == isa.JMP32
	op := isa.Op(in.Op)
	x := isa.Src(in.Op) == isa.X
	n := len(l.insns)
	switch op {
	case isa.JA:
		if x {
			return d, l.errf(i, "indirect jumps (gotox) are not supported")
		}
		if in.Src != 0 || in.Dst != 0 || (!is32 && in.Imm != 0) || (is32 && in.Off != 0) {
			return d, l.errf(i, "BPF_JA uses reserved fields")
		}
		t := i + int(in.Off) + 1
		if is32 {
			t = i + int(in.Imm) + 1
		}
		if t < 0 || t >= n {
			return d, l.errf(i, "jump out of range from insn %d to %d", i, t)
		}
		d.op, d.off = opJa, int32(t)
		return d, nil
	case isa.CALL:
		if is32 || x || in.Dst != 0 || (in.Src != HelperCallSrcReg && in.Src != PseudoCall && in.Src != PseudoKfuncCall) || (in.Off != 0 && in.Src != PseudoKfuncCall) {
			return d, l.errf(i, "BPF_CALL uses reserved fields")
		}
		switch in.Src {
		case PseudoCall:
			t := i + int(in.Imm) + 1
			if t < 0 || t >= n {
				return d, l.errf(i, "call to invalid destination")
			}
			d.op, d.off = opCallLocal, int32(t)
		case PseudoKfuncCall:
			var h Helper
			ok := false
			if l.env.Kfunc != nil {
				h, ok = l.env.Kfunc(in.Imm, in.Off)
			}
			if !ok || h == nil {
				return d, l.errf(i, "kernel btf_id %d is not a function", in.Imm)
			}
			d.op, d.imm = opCall, int32(len(l.p.funcs))
			l.p.funcs = append(l.p.funcs, h)
		default:
			var h Helper
			ok := false
			if l.env.Helper != nil {
				h, ok = l.env.Helper(in.Imm)
			}
			if !ok || h == nil {
				return d, l.errf(i, "invalid func unknown#%d", in.Imm)
			}
			d.op, d.imm = opCall, int32(len(l.p.funcs))
			l.p.funcs = append(l.p.funcs, h)
		}
		return d, nil
	case isa.EXIT:
		if is32 || x || in.Src != 0 || in.Dst != 0 || in.Off != 0 || in.Imm != 0 {
			return d, l.errf(i, "BPF_EXIT uses reserved fields")
		}
		d.op = opExit
		return d, nil
	case isa.JCOND:
		if is32 || x || in.Src != isa.MayGoto || in.Dst != 0 || in.Imm != 0 {
			return d, l.errf(i, "invalid may_goto imm %d", in.Imm)
		}
		t := i + int(in.Off) + 1
		if t < 0 || t >= n {
			return d, l.errf(i, "jump out of range from insn %d to %d", i, t)
		}
		d.op, d.off = opMayGoto, int32(t)
		return d, nil
	case 0xf0:
		return d, l.errf(i, "unknown opcode %02x", in.Op)
	}
	if err := l.reg(i, in.Dst); err != nil {
		return d, err
	}
	if x {
		if in.Imm != 0 {
			return d, l.errf(i, "BPF_JMP/JMP32 uses reserved fields")
		}
		if err := l.reg(i, in.Src); err != nil {
			return d, err
		}
	} else if in.Src != 0 {
		return d, l.errf(i, "BPF_JMP/JMP32 uses reserved fields")
	}
	k := jmpOps[op]
	if is32 {
		k += opJeq32K - opJeq64K
	}
	if x {
		k++
	}
	t := i + int(in.Off) + 1
	if t < 0 || t >= n {
		return d, l.errf(i, "jump out of range from insn %d to %d", i, t)
	}
	d.op, d.off = k, int32(t)
	return d, nil
}

// sizeIndex numbers the access size of a load or store opcode in the order
// of the per-size decoded opcodes: B, H, W, DW.
func sizeIndex(op uint8) int {
	return [4]int{isa.B >> 3: 0, isa.H >> 3: 1, isa.W >> 3: 2, isa.DW >> 3: 3}[isa.Size(op)>>3]
}

func (l *loader) decodeLdx(i int, in Insn, d dinsn) (dinsn, error) {
	mode := isa.Mode(in.Op)
	if mode != isa.MEM && mode != isa.MEMSX {
		return d, l.errf(i, "unknown opcode %02x", in.Op)
	}
	if in.Imm != 0 {
		return d, l.errf(i, "BPF_LDX uses reserved fields")
	}
	if err := l.dstReg(i, in.Dst); err != nil {
		return d, err
	}
	if err := l.reg(i, in.Src); err != nil {
		return d, err
	}
	s := sizeIndex(in.Op)
	if mode == isa.MEMSX {
		if s == 3 {
			return d, l.errf(i, "unknown opcode %02x", in.Op)
		}
		d.op = opLdxsB + uint8(s)
	} else {
		d.op = opLdxB + uint8(s)
	}
	return d, nil
}

func (l *loader) decodeSt(i int, in Insn, d dinsn) (dinsn, error) {
	if isa.Mode(in.Op) != isa.MEM {
		return d, l.errf(i, "unknown opcode %02x", in.Op)
	}
	if in.Src != 0 {
		return d, l.errf(i, "BPF_ST uses reserved fields")
	}
	if err := l.reg(i, in.Dst); err != nil {
		return d, err
	}
	d.op = opStB + uint8(sizeIndex(in.Op))
	return d, nil
}

func (l *loader) decodeStx(i int, in Insn, d dinsn) (dinsn, error) {
	mode := isa.Mode(in.Op)
	if err := l.reg(i, in.Dst); err != nil {
		return d, err
	}
	if err := l.reg(i, in.Src); err != nil {
		return d, err
	}
	s := sizeIndex(in.Op)
	switch mode {
	case isa.MEM:
		if in.Imm != 0 {
			return d, l.errf(i, "BPF_STX uses reserved fields")
		}
		d.op = opStxB + uint8(s)
		return d, nil
	case isa.ATOMIC:
	default:
		return d, l.errf(i, "unknown opcode %02x", in.Op)
	}
	switch in.Imm {
	case isa.LoadAcq:
		if err := l.dstReg(i, in.Dst); err != nil {
			return d, err
		}
		d.op = opLoadAcqB + uint8(s)
		return d, nil
	case isa.StoreRel:
		d.op = opStoreRelB + uint8(s)
		return d, nil
	case isa.ADD, isa.OR, isa.AND, isa.XOR,
		isa.ADD | isa.FETCH, isa.OR | isa.FETCH, isa.AND | isa.FETCH, isa.XOR | isa.FETCH,
		isa.XCHG, isa.CMPXCHG:
	default:
		return d, l.errf(i, "BPF_ATOMIC uses invalid atomic opcode %02x", in.Imm)
	}
	if s != 2 && s != 3 {
		return d, l.errf(i, "invalid atomic operand size")
	}
	if in.Imm&isa.FETCH != 0 && in.Imm != isa.CMPXCHG {
		if err := l.dstReg(i, in.Src); err != nil {
			return d, err
		}
	}
	d.op = pick(s == 3, opAtomicDW, opAtomicW)
	return d, nil
}

// Mirrors the ld_imm64 checks of resolve_pseudo_ldimm64() and check_ld_imm().
func (l *loader) decodeLd(i int, in Insn, d dinsn) (dinsn, error) {
	mode := isa.Mode(in.Op)
	if mode == isa.ABS || mode == isa.IND {
		return d, l.errf(i, "BPF_LD_[ABS|IND] instructions not allowed for this program type")
	}
	if in.Op != isa.LD|isa.IMM|isa.DW {
		return d, l.errf(i, "unknown opcode %02x", in.Op)
	}
	n := len(l.insns)
	if i+1 >= n {
		return d, l.errf(i, "invalid bpf_ld_imm64 insn")
	}
	hi := l.insns[i+1]
	if hi.Op != 0 || hi.Dst != 0 || hi.Src != 0 || hi.Off != 0 {
		return d, l.errf(i, "invalid bpf_ld_imm64 insn")
	}
	if in.Off != 0 {
		return d, l.errf(i, "BPF_LD_IMM64 uses reserved fields")
	}
	if err := l.dstReg(i, in.Dst); err != nil {
		return d, err
	}
	d.op = opLdImm64
	switch in.Src {
	case 0:
		d.setImm64(uint64(uint32(in.Imm)) | uint64(uint32(hi.Imm))<<32)
	case PseudoFunc:
		t := i + int(in.Imm) + 1
		if t < 0 || t >= n {
			return d, l.errf(i, "call to invalid destination")
		}
		d.setImm64(FuncBase + uint64(t))
	case PseudoMapFD, PseudoMapValue, PseudoBTFID, PseudoMapIdx, PseudoMapIdxValue:
		if (in.Src == PseudoMapFD || in.Src == PseudoMapIdx) && hi.Imm != 0 {
			return d, l.errf(i, "unrecognized bpf_ld_imm64 insn")
		}
		if l.env.LdImm64 == nil {
			return d, l.errf(i, "unrecognized bpf_ld_imm64 insn")
		}
		v, err := l.env.LdImm64(in.Src, in.Imm, hi.Imm)
		if err != nil {
			return d, &Error{Prog: l.name, PC: i, Msg: err.Error(), Err: err}
		}
		d.setImm64(v)
	default:
		return d, l.errf(i, "unrecognized bpf_ld_imm64 insn")
	}
	d.src = 0
	return d, nil
}
