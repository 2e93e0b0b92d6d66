package kdiff

import (
	"math/rand/v2"
	"slices"

	"github.com/scxsim/scxsim/bpf/isa"
	"github.com/scxsim/scxsim/bpf/vm"
)

// GenOptions shapes the programs Generate produces.
type GenOptions struct {
	// MemLen is the number of input bytes behind r1 (r2 = MemLen). At
	// least 8.
	MemLen int
	// MinUnits and MaxUnits bound the number of body units (an instruction,
	// a conditional jump or a whole loop).
	MinUnits, MaxUnits int
	// MaxBranches bounds the conditional forward jumps, which keeps the
	// number of paths the verifier walks small.
	MaxBranches int
	// MaxLoops bounds the counted loops (backward jumps).
	MaxLoops int
	// AvoidKernelBugs keeps generated programs clear of two bugs of the
	// kernel verifier (seen on 6.18) that make the JIT-compiled program
	// compute something else than the ISA says; the VM gives the same
	// results either way:
	//
	//   - A fetching atomic (fetch ops, xchg, cmpxchg) on a stack slot that
	//     holds a spilled register: the verifier propagates precision to the
	//     wrong register, prunes a path it must explore and may delete code
	//     that runs (fixed upstream by commit 179ee84a8911, "bpf: Fix
	//     incorrect pruning due to atomic fetch precision tracking"). A
	//     non-fetching atomic or on the same bytes goes first, after which
	//     the verifier sees them as unknown data.
	//   - A 32-bit cmpxchg must zero-extend r0, which x86 does not do when
	//     the comparison succeeds; the verifier adds the zero-extension only
	//     where it sees a 64-bit read of r0 and misses reads after a pruning
	//     point. A 64-bit move of r0 to itself follows at once.
	//
	// TestKernelBugReproducers shows both on the running kernel.
	AvoidKernelBugs bool
}

// DefaultGenOptions are the options the differential test uses.
var DefaultGenOptions = GenOptions{
	MemLen: 32, MinUnits: 8, MaxUnits: 64, MaxBranches: 8, MaxLoops: 2, AvoidKernelBugs: true,
}

const (
	regMem = 1
	regFP  = 10
)

// Generate returns a random program that the kernel verifier accepts by
// construction (for a caller passing a pointer to MemLen bytes in r1 and
// MemLen in r2): every register and stack byte is written before it is read,
// input memory accesses stay in bounds, stack accesses are in bounds and
// aligned, immediate shifts are in range and immediate divisors non-zero,
// forward jumps land on unit boundaries (never inside a loop), loops count
// down from a small constant in a register their body leaves alone, and
// calls only go to deeper functions. Division and modulo by a register may
// divide by zero, which the ISA defines.
//
// The program covers ALU32/ALU64 (signed division and modulo, shifts, movsx,
// byte order conversion and byte swaps), JMP and JMP32 conditions with
// immediate and register operands, ja and gotol, stack loads (also
// sign-extending), stores and atomics (add/or/and/xor with and without
// fetch, xchg, cmpxchg) of every size, through r10, through a copy of r10
// and, in callees, through a pointer to the caller's stack; loads of the
// input memory (values the verifier cannot know) and stores to it; and
// bpf-to-bpf calls to subprograms with their own stack frames. Before
// exiting each function folds its scalar registers and stack slots into r0,
// so that a difference in any of them shows in r0.
func Generate(rng *rand.Rand, o GenOptions) []vm.Insn {
	p, _ := generate(rng, o)
	return p
}

// generate is Generate that also returns, per instruction, whether it is in
// a function's prologue (which initialises the registers and stack the
// rest reads) or epilogue. Shrinking a failing program leaves those alone.
func generate(rng *rand.Rand, o GenOptions) (p []vm.Insn, fixed []bool) {
	g := &gen{rng: rng, o: o}
	g.newFunc(0)
	for i := 0; i < len(g.funcs); i++ {
		g.funcs[i].generate()
	}
	// Lay the functions out one after the other and resolve the calls.
	start := make([]int, len(g.funcs))
	for i, f := range g.funcs {
		start[i] = len(p)
		p = append(p, f.insns...)
		for pc := range f.insns {
			fixed = append(fixed, pc < f.bodyStart || pc >= f.bodyEnd)
		}
	}
	for i, f := range g.funcs {
		for _, c := range f.calls {
			pc := start[i] + c.pc
			p[pc].Imm = int32(start[c.callee] - pc - 1)
		}
	}
	return p, fixed
}

// maxLevel bounds the bpf-to-bpf call depth below the main function.
const maxLevel = 2

// bigFrame is the largest stack frame, in 8-byte slots, of a function at
// each level. Any call chain then uses at most 512 bytes of stack in all,
// the kernel's limit (MAX_BPF_STACK); frames of multiples of 16 bytes stay
// within it after the verifier's rounding.
var bigFrame = [maxLevel + 1]int{40, 12, 12}

type gen struct {
	rng   *rand.Rand
	o     GenOptions
	funcs []*fn // [0] is the main function
}

// fn is one function (the main program or a static subprogram) being
// generated.
type fn struct {
	*gen
	level int     // call depth; a function only calls functions of a deeper level
	slots int     // 8-byte stack slots in use: [r10-8*slots, r10)
	regs  []uint8 // the scalar registers it computes with
	// keepMem is set when the function makes calls: r9 then keeps the input
	// memory pointer, and r1 gets it back after each call.
	keepMem bool
	// ptrArg is set for a callee that gets in r5 a pointer to its caller's
	// stack slot at r10-8, which its prologue reads and writes.
	ptrArg bool
	calls  []callSite
	insns  []vm.Insn
	// bodyStart and bodyEnd delimit the body between prologue and epilogue.
	bodyStart, bodyEnd int
}

type callSite struct{ pc, callee int }

// newFunc adds a function at level and returns its index; its code is
// generated later, so that callees follow their callers.
func (g *gen) newFunc(level int) int {
	f := &fn{gen: g, level: level, slots: 1 + g.rng.IntN(8)}
	if g.rng.IntN(4) == 0 {
		f.slots = 1 + g.rng.IntN(bigFrame[level])
	}
	f.keepMem = level < maxLevel && g.rng.IntN(3) == 0
	f.ptrArg = level > 0 && g.rng.IntN(2) == 0
	for _, r := range []uint8{0, 2, 3, 4, 5, 6, 7, 8, 9} {
		if r != 9 || !f.keepMem {
			f.regs = append(f.regs, r)
		}
	}
	g.funcs = append(g.funcs, f)
	return len(g.funcs) - 1
}

// unit is a piece of body that jumps may skip over as a whole.
type unit struct {
	insns []vm.Insn
	jump  int // index of the unit insns[patch] jumps to; -1 if none
	patch int
	call  int // for a call unit, the callee; else -1
	// callAt is the index of the call instruction in insns.
	callAt int
}

func (f *fn) generate() {
	var p []vm.Insn
	if f.keepMem {
		p = append(p, vm.Insn{Op: isa.ALU64 | isa.MOV | isa.X, Dst: 9, Src: regMem})
	}
	// Stack: every slot gets a value before anything reads it.
	for s := 1; s <= f.slots; s++ {
		p = append(p, ldImm64(0, f.value64())...)
		p = append(p, vm.Insn{Op: isa.STX | isa.MEM | isa.DW, Dst: regFP, Src: 0, Off: int16(-8 * s)})
	}
	// Registers: constants the verifier knows and input bytes it does not.
	// The main function may keep r2 (the memory length), callees some of
	// their arguments r2..r5.
	for _, r := range append(f.regs[1:], 0) {
		keep := r == 2 || f.level > 0 && r >= 3 && r <= 5
		if keep && f.rng.IntN(3) == 0 || r == 5 && f.ptrArg {
			continue
		}
		p = append(p, f.initReg(r)...)
	}
	// The caller's stack through the pointer in r5, which then becomes a
	// scalar like the other registers.
	if f.ptrArg {
		for n := 1 + f.rng.IntN(3); n > 0; n-- {
			q, _ := f.stackAccess([]uint8{5}, 5, 0, 8)
			p = append(p, q...)
		}
		p = append(p, f.initReg(5)...)
	}

	f.bodyStart = len(p)
	n := f.o.MinUnits + f.rng.IntN(f.o.MaxUnits-f.o.MinUnits+1)
	if f.level > 0 {
		n = 1 + n/4
	}
	units := make([]unit, 0, n)
	branches, loops, calls := 0, 0, 0
	for len(units) < n {
		switch k := f.rng.IntN(100); {
		case k < 12 && branches < f.o.MaxBranches:
			branches++
			units = append(units, f.branch(len(units)+1+f.rng.IntN(8)))
		case k < 15 && loops < f.o.MaxLoops:
			loops++
			units = append(units, unit{insns: f.loop(), jump: -1, call: -1})
		case k < 19 && f.keepMem && calls < 3:
			calls++
			units = append(units, f.call())
		default:
			units = append(units, unit{insns: f.straight(nil), jump: -1, call: -1})
		}
	}
	// Lay out the units and point each jump at the start of its target
	// (the epilogue at the latest).
	start := make([]int, len(units)+1)
	pc := len(p)
	for i, u := range units {
		start[i] = pc
		pc += len(u.insns)
	}
	start[len(units)] = pc
	for i, u := range units {
		if u.jump >= 0 {
			t := min(u.jump, len(units))
			off := start[t] - start[i] - u.patch - 1
			if j := &u.insns[u.patch]; j.Op == isa.JMP32|isa.JA {
				j.Imm = int32(off)
			} else {
				j.Off = int16(off)
			}
		}
		if u.call >= 0 {
			f.calls = append(f.calls, callSite{pc: start[i] + u.callAt, callee: u.call})
		}
		p = append(p, u.insns...)
	}
	f.bodyEnd = len(p)
	f.insns = append(p, f.epilogue()...)
}

// call returns a bpf-to-bpf call with r1 = the input memory and r2..r5 the
// caller's values (r5 = r10-8 for a callee that takes a stack pointer), to a
// new function or to an existing deeper one. The call clobbers r1..r5:
// afterwards r1 gets the memory pointer back from r9 and r2..r5 new values.
func (f *fn) call() unit {
	var deeper []int
	for i, c := range f.funcs {
		if c.level > f.level {
			deeper = append(deeper, i)
		}
	}
	var callee int
	if len(deeper) > 0 && f.rng.IntN(2) == 0 {
		callee = deeper[f.rng.IntN(len(deeper))]
	} else {
		callee = f.newFunc(f.level + 1)
	}
	var p []vm.Insn
	if f.funcs[callee].ptrArg {
		p = append(p,
			vm.Insn{Op: isa.ALU64 | isa.MOV | isa.X, Dst: 5, Src: regFP},
			vm.Insn{Op: isa.ALU64 | isa.ADD | isa.K, Dst: 5, Imm: -8},
		)
	}
	at := len(p)
	p = append(p,
		vm.Insn{Op: isa.JMP | isa.CALL, Src: vm.PseudoCall},
		vm.Insn{Op: isa.ALU64 | isa.MOV | isa.X, Dst: regMem, Src: 9},
	)
	for r := uint8(2); r <= 5; r++ {
		p = append(p, f.initReg(r)...)
	}
	return unit{insns: p, jump: -1, call: callee, callAt: at}
}

// epilogue folds every scalar register and stack slot into r0 and exits.
func (f *fn) epilogue() []vm.Insn {
	var p []vm.Insn
	fold := func(r uint8) {
		p = append(p,
			vm.Insn{Op: isa.ALU64 | isa.MUL | isa.K, Dst: 0, Imm: 0x5bd1e995},
			vm.Insn{Op: isa.ALU64 | isa.XOR | isa.X, Dst: 0, Src: r},
		)
	}
	for _, r := range f.regs[1:] {
		fold(r)
	}
	for s := 1; s <= f.slots; s++ {
		p = append(p, vm.Insn{Op: isa.LDX | isa.MEM | isa.DW, Dst: 3, Src: regFP, Off: int16(-8 * s)})
		fold(3)
	}
	return append(p, vm.Insn{Op: isa.JMP | isa.EXIT})
}

func (g *fn) reg() uint8 { return g.regs[g.rng.IntN(len(g.regs))] }

// regNot picks a scalar register other than the excluded ones.
func (g *fn) regNot(ex []uint8) uint8 {
	for {
		r := g.reg()
		ok := true
		for _, e := range ex {
			ok = ok && r != e
		}
		if ok {
			return r
		}
	}
}

func (g *fn) initReg(r uint8) []vm.Insn {
	switch k := g.rng.IntN(10); {
	case k < 3:
		return ldImm64(r, g.value64())
	case k < 5:
		return []vm.Insn{{Op: isa.ALU64 | isa.MOV | isa.K, Dst: r, Imm: g.value32()}}
	case k < 6:
		return []vm.Insn{{Op: isa.ALU | isa.MOV | isa.K, Dst: r, Imm: g.value32()}}
	default:
		return []vm.Insn{g.memLoad(r)}
	}
}

// memLoad reads the input memory into r: a value the verifier cannot know.
func (g *fn) memLoad(r uint8) vm.Insn {
	size, n := g.size()
	mode := uint8(isa.MEM)
	if n < 8 && g.rng.IntN(2) == 0 {
		mode = isa.MEMSX
	}
	return vm.Insn{Op: isa.LDX | mode | size, Dst: r, Src: regMem, Off: int16(g.rng.IntN(g.o.MemLen - n + 1))}
}

// size returns a random access size and its byte count.
func (g *fn) size() (uint8, int) {
	switch g.rng.IntN(4) {
	case 0:
		return isa.B, 1
	case 1:
		return isa.H, 2
	case 2:
		return isa.W, 4
	}
	return isa.DW, 8
}

// areaOff returns an offset aligned for n bytes in [lo, lo+length), where
// lo and length are multiples of 8.
func (g *fn) areaOff(n, lo, length int) int16 {
	return int16(lo + n*g.rng.IntN(length/n))
}

// straight returns one straight-line instruction (ld_imm64 takes two slots)
// that writes none of the registers in keep.
func (g *fn) straight(keep []uint8) []vm.Insn {
	for {
		p, writes := g.straight1(keep)
		ok := true
		for _, k := range keep {
			for _, w := range writes {
				ok = ok && k != w
			}
		}
		if ok {
			return p
		}
	}
}

func (g *fn) straight1(keep []uint8) ([]vm.Insn, []uint8) {
	switch k := g.rng.IntN(100); {
	case k < 45:
		d := g.regNot(keep)
		return []vm.Insn{g.alu(d)}, []uint8{d}
	case k < 55:
		d := g.regNot(keep)
		return []vm.Insn{g.unary(d)}, []uint8{d}
	case k < 75: // stack load, store or atomic
		return g.stackAccess(keep, regFP, -8*g.slots, 8*g.slots)
	case k < 78: // the same through another register: r = r10 + off
		t := g.regNot(append([]uint8{0}, keep...))
		adj := -8 * (1 + g.rng.IntN(g.slots))
		p := []vm.Insn{
			{Op: isa.ALU64 | isa.MOV | isa.X, Dst: t, Src: regFP},
			{Op: isa.ALU64 | isa.ADD | isa.K, Dst: t, Imm: int32(adj)},
		}
		q, w := g.stackAccess(keep, t, -8*g.slots-adj, 8*g.slots)
		p = append(p, q...)
		if !slices.Contains(w, t) {
			p = append(p, vm.Insn{Op: isa.ALU64 | isa.MOV | isa.K, Dst: t, Imm: g.value32()})
		}
		return p, append(w, t)
	case k < 80:
		d := g.regNot(keep)
		return []vm.Insn{g.memLoad(d)}, []uint8{d}
	case k < 83: // store to the input memory
		size, n := g.size()
		off := int16(g.rng.IntN(g.o.MemLen - n + 1))
		if g.rng.IntN(3) == 0 {
			return []vm.Insn{{Op: isa.ST | isa.MEM | size, Dst: regMem, Off: off, Imm: g.value32()}}, nil
		}
		return []vm.Insn{{Op: isa.STX | isa.MEM | size, Dst: regMem, Src: g.reg(), Off: off}}, nil
	default:
		d := g.regNot(keep)
		return ldImm64(d, g.value64()), []uint8{d}
	}
}

// stackAccess returns a load (maybe sign-extending), a store or an atomic
// operation through base on the stack bytes [base+lo, base+lo+length), and
// the registers it writes, none of them in keep. base is never stored or
// used as an operand; a load may overwrite it unless it is in keep.
func (g *fn) stackAccess(keep []uint8, base uint8, lo, length int) ([]vm.Insn, []uint8) {
	src := func() uint8 { return g.regNot([]uint8{base}) }
	switch k := g.rng.IntN(10); {
	case k < 3: // store
		size, n := g.size()
		off := g.areaOff(n, lo, length)
		if g.rng.IntN(3) == 0 {
			return []vm.Insn{{Op: isa.ST | isa.MEM | size, Dst: base, Off: off, Imm: g.value32()}}, nil
		}
		return []vm.Insn{{Op: isa.STX | isa.MEM | size, Dst: base, Src: src(), Off: off}}, nil
	case k < 6: // load
		d := g.regNot(keep)
		size, n := g.size()
		mode := uint8(isa.MEM)
		if n < 8 && g.rng.IntN(2) == 0 {
			mode = isa.MEMSX
		}
		return []vm.Insn{{Op: isa.LDX | mode | size, Dst: d, Src: base, Off: g.areaOff(n, lo, length)}}, []uint8{d}
	}
	size, n := uint8(isa.DW), 8
	if g.rng.IntN(2) == 0 {
		size, n = isa.W, 4
	}
	op := atomicOps[g.rng.IntN(len(atomicOps))]
	if op == isa.CMPXCHG && slices.Contains(keep, 0) {
		op = isa.XCHG
	}
	s := src()
	if op&isa.FETCH != 0 && op != isa.CMPXCHG {
		s = g.regNot(append([]uint8{base}, keep...)) // written
	}
	in := vm.Insn{Op: isa.STX | isa.ATOMIC | size, Dst: base, Src: s, Off: g.areaOff(n, lo, length), Imm: op}
	var p []vm.Insn
	if op&isa.FETCH != 0 && g.o.AvoidKernelBugs {
		p = append(p, vm.Insn{Op: in.Op, Dst: base, Src: src(), Off: in.Off, Imm: isa.OR})
	}
	p = append(p, in)
	switch {
	case op == isa.CMPXCHG:
		if size == isa.W && g.o.AvoidKernelBugs {
			p = append(p, vm.Insn{Op: isa.ALU64 | isa.MOV | isa.X, Dst: 0, Src: 0})
		}
		return p, []uint8{0}
	case op&isa.FETCH != 0:
		return p, []uint8{s}
	}
	return p, nil
}

var aluOps = []uint8{isa.ADD, isa.SUB, isa.MUL, isa.DIV, isa.OR, isa.AND, isa.LSH, isa.RSH, isa.MOD, isa.XOR, isa.MOV, isa.ARSH}

// alu returns a binary ALU32 or ALU64 operation on d.
func (g *fn) alu(d uint8) vm.Insn {
	cls := uint8(isa.ALU64)
	width := int32(64)
	if g.rng.IntN(2) == 0 {
		cls, width = isa.ALU, 32
	}
	op := aluOps[g.rng.IntN(len(aluOps))]
	in := vm.Insn{Dst: d}
	if (op == isa.DIV || op == isa.MOD) && g.rng.IntN(2) == 0 {
		in.Off = 1 // sdiv, smod
	}
	if g.rng.IntN(2) == 0 {
		in.Op = cls | op | isa.X
		in.Src = g.reg()
		return in
	}
	in.Op = cls | op | isa.K
	switch op {
	case isa.LSH, isa.RSH, isa.ARSH:
		in.Imm = g.rng.Int32N(width)
	case isa.DIV, isa.MOD:
		for in.Imm == 0 {
			in.Imm = g.value32()
		}
	default:
		in.Imm = g.value32()
	}
	return in
}

// unary returns neg, movsx, a byte-order conversion or a byte swap on d.
func (g *fn) unary(d uint8) vm.Insn {
	widths := []int32{16, 32, 64}
	switch g.rng.IntN(5) {
	case 0:
		cls := []uint8{isa.ALU, isa.ALU64}[g.rng.IntN(2)]
		return vm.Insn{Op: cls | isa.NEG | isa.K, Dst: d}
	case 1:
		return vm.Insn{Op: isa.ALU64 | isa.MOV | isa.X, Dst: d, Src: g.reg(), Off: []int16{8, 16, 32}[g.rng.IntN(3)]}
	case 2:
		return vm.Insn{Op: isa.ALU | isa.MOV | isa.X, Dst: d, Src: g.reg(), Off: []int16{8, 16}[g.rng.IntN(2)]}
	case 3: // to_le / to_be
		src := []uint8{isa.K, isa.X}[g.rng.IntN(2)]
		return vm.Insn{Op: isa.ALU | isa.END | src, Dst: d, Imm: widths[g.rng.IntN(3)]}
	}
	return vm.Insn{Op: isa.ALU64 | isa.END | isa.K, Dst: d, Imm: widths[g.rng.IntN(3)]} // bswap
}

var atomicOps = []int32{
	isa.ADD, isa.OR, isa.AND, isa.XOR,
	isa.ADD | isa.FETCH, isa.OR | isa.FETCH, isa.AND | isa.FETCH, isa.XOR | isa.FETCH,
	isa.XCHG, isa.CMPXCHG,
}

var jmpOps = []uint8{isa.JEQ, isa.JGT, isa.JGE, isa.JSET, isa.JNE, isa.JSGT, isa.JSGE, isa.JLT, isa.JLE, isa.JSLT, isa.JSLE}

// branch returns a conditional forward jump to unit target. Half of the
// time it is a diamond instead: the condition jumps over an unconditional
// jump (ja, or gotol with its 32-bit offset) to target, so both the
// instruction after the unit and target are reachable.
func (g *fn) branch(target int) unit {
	c := g.condJump()
	if g.rng.IntN(2) == 0 {
		return unit{insns: []vm.Insn{c}, jump: target, patch: 0, call: -1}
	}
	c.Off = 1
	ja := vm.Insn{Op: isa.JMP | isa.JA}
	if g.rng.IntN(2) == 0 {
		ja.Op = isa.JMP32 | isa.JA
	}
	return unit{insns: []vm.Insn{c, ja}, jump: target, patch: 1, call: -1}
}

// condJump returns a JMP or JMP32 conditional jump; the caller sets Off.
func (g *fn) condJump() vm.Insn {
	cls := uint8(isa.JMP)
	if g.rng.IntN(2) == 0 {
		cls = isa.JMP32
	}
	op := jmpOps[g.rng.IntN(len(jmpOps))]
	if g.rng.IntN(2) == 0 {
		return vm.Insn{Op: cls | op | isa.X, Dst: g.reg(), Src: g.reg()}
	}
	return vm.Insn{Op: cls | op | isa.K, Dst: g.reg(), Imm: g.value32()}
}

// loop returns a loop that runs its straight-line body 1 to 4 times: the
// counter is set to a constant, the body leaves it alone, and the backward
// jump closes the loop when it reaches zero.
func (g *fn) loop() []vm.Insn {
	c := g.regNot([]uint8{0}) // cmpxchg writes r0
	p := []vm.Insn{{Op: isa.ALU64 | isa.MOV | isa.K, Dst: c, Imm: 1 + g.rng.Int32N(4)}}
	top := len(p)
	for n := 1 + g.rng.IntN(6); n > 0; n-- {
		p = append(p, g.straight([]uint8{c})...)
	}
	p = append(p, vm.Insn{Op: isa.ALU64 | isa.SUB | isa.K, Dst: c, Imm: 1})
	back := vm.Insn{Op: isa.JMP | isa.JNE | isa.K, Dst: c}
	if g.rng.IntN(2) == 0 {
		back = vm.Insn{Op: isa.JMP32 | isa.JGT | isa.K, Dst: c}
	}
	back.Off = int16(top - len(p) - 1)
	return append(p, back)
}

// value32 returns an immediate, biased towards edge cases.
func (g *fn) value32() int32 {
	edges := []int32{0, 1, -1, 2, -2, 7, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
		0x7fffffff, -0x80000000, -0x7fffffff}
	if g.rng.IntN(2) == 0 {
		return edges[g.rng.IntN(len(edges))]
	}
	return int32(g.rng.Uint32())
}

// value64 returns a 64-bit constant, biased towards edge cases.
func (g *fn) value64() uint64 {
	edges := []uint64{0, 1, 1<<64 - 1, 1 << 63, 1<<63 - 1, 0xffffffff, 0x80000000, 0x7fffffff,
		1 << 32, 0xffffffff80000000, 0xffffffff00000000, 0x00000000ffff8000}
	switch g.rng.IntN(3) {
	case 0:
		return edges[g.rng.IntN(len(edges))]
	case 1:
		return uint64(int64(g.value32()))
	}
	return g.rng.Uint64()
}

// ldImm64 returns the two slots of r = v.
func ldImm64(r uint8, v uint64) []vm.Insn {
	return []vm.Insn{
		{Op: isa.LD | isa.IMM | isa.DW, Dst: r, Imm: int32(uint32(v))},
		{Imm: int32(uint32(v >> 32))},
	}
}

// RandomMem returns n input bytes, mixing random bytes with runs of 0x00,
// 0xff and 0x80 so that loads see edge values.
func RandomMem(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		switch rng.IntN(6) {
		case 0:
			b[i] = 0
		case 1:
			b[i] = 0xff
		case 2:
			b[i] = 0x80
		default:
			b[i] = byte(rng.Uint32())
		}
	}
	return b
}
