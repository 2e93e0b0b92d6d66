package vm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/scxsim/scxsim/bpf/isa"
)

// Instruction budget (see the package documentation for the rule).
const (
	BaseBudget uint64 = 1 << 20
	MaxBudget  uint64 = 1 << 32
	IterCredit uint64 = 1 << 20
)

// maxNesting bounds re-entrant Runs (a helper running another program).
const maxNesting = 8

const stackBytes = MaxCallFrames * StackSize

// Error is a run-time or load-time failure of a program.
type Error struct {
	Prog string
	PC   int    // instruction index, -1 if none
	Addr uint64 // faulting address for memory errors, else 0
	Msg  string
	Err  error // underlying error (a helper's), if any
}

func (e *Error) Error() string { return fmt.Sprintf("prog %s: insn %d: %s", e.Prog, e.PC, e.Msg) }

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Exec is one execution context: registers live in Run, but the stack, the
// budget accounting and the embedder's per-context data live here. An Exec
// is not safe for concurrent use; use one per simulated CPU. Mem must stay
// the Memory given to NewExec, which holds the Exec's stack regions.
type Exec struct {
	Mem    *Memory
	CPU    int    // simulated CPU, for per-CPU semantics
	Ctx    any    // embedder context, for example the current task
	Budget uint64 // instruction ceiling per Run; 0 means MaxBudget
	// Stream, if set, receives violation reports (fd 2 = stderr stream).
	Stream func(prog string, fd int, msg string)

	levels    []*runState // one per Run nesting level, reused
	level     int         // active Runs
	lastSteps uint64
}

// frame is one bpf-to-bpf call frame's bookkeeping.
type frame struct {
	retPC   int
	retCnt  int32     // icount[retPC]
	saved   [5]uint64 // caller's r6..r10
	mayGoto uint32    // may_goto passes left
	mark    uint64    // steps at the previous may_goto credit
}

// runState is the state of one (possibly nested) Run.
type runState struct {
	e         *Exec
	prog      *Program
	stack     *[stackBytes]byte
	stackBase uint64
	steps     uint64
	limit     uint64
	ceil      uint64
	depth     int
	frames    [MaxCallFrames]frame
	pc        int   // interp's pc, parked across calls out of the loop
	rem       int64 // interp's budget remainder, parked likewise
}

// NewExec returns an execution context on mem, mapping its stack there.
func NewExec(mem *Memory) *Exec {
	e := &Exec{Mem: mem}
	e.levels = append(e.levels, e.newRunState(0))
	return e
}

func (e *Exec) newRunState(level int) *runState {
	st := new([stackBytes]byte)
	name := "stack"
	if level > 0 {
		name = fmt.Sprintf("stack#%d", level)
	}
	_, base := e.Mem.Map(name, st[:], PermRW)
	return &runState{e: e, stack: st, stackBase: base}
}

// Run executes p with r1..r5 = args and returns r0. It may be called from
// within a helper (a nested run gets its own stack).
func (e *Exec) Run(p *Program, args ...uint64) (ret uint64, err error) {
	if p == nil || len(p.code) == 0 {
		return 0, &Error{PC: -1, Msg: "program not loaded"}
	}
	return e.runAt(p, 0, args)
}

// RunFunc is Run starting at the subprogram fn of p (a FuncBase+pc value, as
// ld_imm64 BPF_PSEUDO_FUNC produces) instead of its entry: how the kernel
// invokes an asynchronous callback such as a bpf_timer's, outside any run of
// the program that registered it.
func (e *Exec) RunFunc(p *Program, fn uint64, args ...uint64) (uint64, error) {
	if p == nil || len(p.code) == 0 {
		return 0, &Error{PC: -1, Msg: "program not loaded"}
	}
	pc := fn - FuncBase
	if fn < FuncBase || pc >= uint64(p.n) || !p.starts[pc] {
		return 0, &Error{Prog: p.Name, PC: -1, Addr: fn, Msg: fmt.Sprintf("invalid callback address %#x", fn)}
	}
	return e.runAt(p, int(pc), args)
}

func (e *Exec) runAt(p *Program, pc int, args []uint64) (ret uint64, err error) {
	if len(args) > 5 {
		return 0, &Error{Prog: p.Name, PC: -1, Msg: fmt.Sprintf("%d arguments, at most 5", len(args))}
	}
	if e.level >= maxNesting {
		return 0, &Error{Prog: p.Name, PC: -1, Msg: "program runs nested too deeply"}
	}
	if e.level == len(e.levels) {
		e.levels = append(e.levels, e.newRunState(e.level))
	}
	rs := e.levels[e.level]
	e.level++
	defer func() {
		if r := recover(); r != nil {
			ret, err = 0, &Error{Prog: p.Name, PC: -1, Msg: fmt.Sprintf("internal error: %v", r)}
		}
		e.lastSteps = rs.steps
		rs.prog = nil
		e.level--
	}()
	rs.prog = p
	rs.steps = 0
	rs.ceil = MaxBudget
	if e.Budget != 0 {
		rs.ceil = e.Budget
	}
	rs.limit = min(BaseBudget, rs.ceil)
	rs.depth = 0
	rs.frames[0] = frame{mayGoto: maxLoops}
	var a [5]uint64
	copy(a[:], args)
	return e.interp(rs, pc, 0, &a)
}

// Call runs the subprogram at fn (a FuncBase+pc value of the running
// program, as produced by ld_imm64 BPF_PSEUDO_FUNC) with r1..r5 = args, in a
// new call frame, and returns its r0. Helpers use it for callbacks. The
// instructions the callback executed are credited to the budget.
func (e *Exec) Call(fn uint64, args ...uint64) (uint64, error) {
	if e.level == 0 {
		return 0, &Error{PC: -1, Msg: "callback invoked with no program running"}
	}
	rs := e.levels[e.level-1]
	p := rs.prog
	pc := fn - FuncBase
	if fn < FuncBase || pc >= uint64(p.n) || !p.starts[pc] {
		return 0, &Error{Prog: p.Name, PC: -1, Addr: fn, Msg: fmt.Sprintf("invalid callback address %#x", fn)}
	}
	if len(args) > 5 {
		return 0, &Error{Prog: p.Name, PC: int(pc), Msg: fmt.Sprintf("%d arguments, at most 5", len(args))}
	}
	if rs.steps > rs.limit {
		return 0, &Error{Prog: p.Name, PC: int(pc), Msg: fmt.Sprintf("instruction budget exhausted (%d)", rs.limit)}
	}
	d := rs.depth + 1
	if d >= MaxCallFrames {
		return 0, &Error{Prog: p.Name, PC: int(pc), Msg: fmt.Sprintf("the call stack of %d frames is too deep", d+1)}
	}
	var a [5]uint64
	copy(a[:], args)
	// The caller's interp parked its pc and budget remainder in rs; the
	// callback's interp parks its own there too.
	saved, savedPC, savedRem := rs.depth, rs.pc, rs.rem
	rs.depth = d
	rs.frames[d] = frame{mayGoto: maxLoops, mark: rs.steps}
	start := rs.steps
	r0, err := e.interp(rs, int(pc), d, &a)
	rs.depth, rs.pc, rs.rem = saved, savedPC, savedRem
	if err == nil {
		e.credit(rs, rs.steps-start)
	}
	return r0, err
}

// Credit raises the running program's instruction allowance by n (up to the
// ceiling). Helpers that run one bounded iteration call it; see BaseBudget.
func (e *Exec) Credit(n uint64) {
	if e.level > 0 {
		e.credit(e.levels[e.level-1], n)
	}
}

func (e *Exec) credit(rs *runState, n uint64) {
	l := rs.limit + n
	if l < rs.limit || l > rs.ceil {
		l = rs.ceil
	}
	rs.limit = l
}

// Prog returns the running program, or nil outside a Run.
func (e *Exec) Prog() *Program {
	if e.level == 0 {
		return nil
	}
	return e.levels[e.level-1].prog
}

// Steps returns the instructions executed so far by the current Run, or by
// the last one if none is running.
func (e *Exec) Steps() uint64 {
	if e.level == 0 {
		return e.lastSteps
	}
	return e.levels[e.level-1].steps
}

// LastSteps returns the instructions executed by the most recently finished
// Run, whether it was nested in another or not (Steps, while an outer
// program runs, counts the outer one). Each Run counts only its own
// instructions, not those of Runs nested in it.
func (e *Exec) LastSteps() uint64 { return e.lastSteps }

// Slice returns the size bytes at addr for a helper to read or write: a
// region of Mem (the stack included) or, for arena addresses, a populated
// page of the running program's arena (not straddling pages).
func (e *Exec) Slice(addr uint64, size int, write bool) ([]byte, error) {
	if size < 0 {
		return nil, fmt.Errorf("invalid memory access at %#x (size %d)", addr, size)
	}
	if e.level > 0 {
		if a := e.levels[e.level-1].prog.Arena; a != nil {
			if ko, ok := arenaOffset(a, addr); ok {
				pg := (ko - uint32(a.UserBase)) >> 12
				o := ko & (PageSize - 1)
				if p := a.Page(pg); p != nil && int(o)+size <= PageSize {
					return p[o : int(o)+size : int(o)+size], nil
				}
				return nil, fmt.Errorf("invalid arena access at %#x (size %d)", addr, size)
			}
		}
	}
	return e.Mem.Slice(addr, size, write)
}

// arenaOffset returns the 32-bit arena offset (kernel form) of addr if addr
// is an arena address of a.
func arenaOffset(a *Arena, addr uint64) (uint32, bool) {
	hi := addr >> 32
	if hi == 0 || hi == a.UserBase>>32 {
		return uint32(addr), true
	}
	return 0, false
}

// Arena guard: the kernel surrounds the arena's kernel mapping with unmapped
// guard pages covering any 16-bit insn offset, so a kernel-form address a
// little outside [0, 4G) faults like an unpopulated page.
const arenaGuard = 1 << 15

var errNoArenaPage = errors.New("arena fault")

// resolve maps the size bytes at addr to at most two slices (two when an
// arena access straddles a page boundary). An arena fault is reported to
// the arena and returns errNoArenaPage; any other failure an *Error.
func (e *Exec) resolve(rs *runState, pc int, addr uint64, size int, want Perm) (b1, b2 []byte, err error) {
	d := addr - RegionBase
	id := d >> 32
	regs := e.Mem.regions
	if id != 0 && id < uint64(len(regs)) {
		r := &regs[id]
		off := uint64(uint32(d))
		if r.Perm&want == want && off+uint64(size) <= uint64(len(r.Data)) {
			return r.Data[off : off+uint64(size)], nil, nil
		}
		return nil, nil, e.memErr(rs, pc, addr, size, want, r)
	}
	if a := rs.prog.Arena; a != nil {
		write := want&PermWrite != 0
		ko, ok := arenaOffset(a, addr)
		if !ok {
			if addr >= ^uint64(arenaGuard-1) || addr-(1<<32) < arenaGuard {
				e.arenaFault(rs, a, pc, addr, size, write)
				return nil, nil, errNoArenaPage
			}
			return nil, nil, e.memErr(rs, pc, addr, size, want, nil)
		}
		if uint64(ko)+uint64(size) > 1<<32 {
			e.arenaFault(rs, a, pc, addr, size, write)
			return nil, nil, errNoArenaPage
		}
		p1 := a.page(ko)
		o := int(ko & (PageSize - 1))
		if p1 == nil {
			e.arenaFault(rs, a, pc, addr, size, write)
			return nil, nil, errNoArenaPage
		}
		if o+size <= PageSize {
			return p1[o : o+size], nil, nil
		}
		p2 := a.page(ko + uint32(PageSize-o))
		if p2 == nil {
			e.arenaFault(rs, a, pc, addr, size, write)
			return nil, nil, errNoArenaPage
		}
		return p1[o:], p2[:o+size-PageSize], nil
	}
	return nil, nil, e.memErr(rs, pc, addr, size, want, nil)
}

// page returns the populated page holding arena offset ko, or nil.
func (a *Arena) page(ko uint32) *[PageSize]byte {
	return a.Page((ko - uint32(a.UserBase)) >> 12)
}

// arenaFault reports an access to an unpopulated arena page. Like
// bpf_prog_report_arena_violation() it names the user address: a
// kernel-form address (the 32-bit offset, or a guard address just outside
// it) plus the user mapping's upper half.
func (e *Exec) arenaFault(rs *runState, a *Arena, pc int, addr uint64, size int, write bool) {
	if addr>>32 != a.UserBase>>32 {
		addr += a.UserBase &^ 0xffffffff
	}
	if a.Fault != nil {
		a.Fault(e, pc, addr, size, write)
		return
	}
	if e.Stream != nil {
		kind := "READ"
		if write {
			kind = "WRITE"
		}
		e.Stream(rs.prog.Name, 2, fmt.Sprintf("ERROR: Arena %s access at unmapped address 0x%x\n", kind, addr))
	}
}

func (e *Exec) memErr(rs *runState, pc int, addr uint64, size int, want Perm, r *Region) error {
	kind := "read"
	if want&PermWrite != 0 {
		kind = "write"
	}
	msg := fmt.Sprintf("invalid memory %s of %d bytes at %#x", kind, size, addr)
	if r != nil {
		msg += " (region " + r.Name + ")"
	}
	return &Error{Prog: rs.prog.Name, PC: pc, Addr: addr, Msg: msg}
}

// load reads a little-endian value of size bytes for the instruction before
// the parked rs.pc. On an arena fault ok is false: the caller then sets the
// destination to 0, or leaves it alone when keep is set (the fault fixup of
// STX-class instructions clears nothing).
func (e *Exec) load(rs *runState, addr uint64, size int, keep bool) (v uint64, ok bool, err error) {
	pc := rs.pc - 1
	if b := e.direct(rs, addr, size, PermRead); b != nil {
		return loadLE(b, size), true, nil
	}
	b1, b2, err := e.resolve(rs, pc, addr, size, PermRead)
	if err != nil {
		if err == errNoArenaPage {
			return 0, !keep, nil
		}
		return 0, false, err
	}
	return getLE(b1, b2), true, nil
}

// store writes a little-endian value of size bytes for the instruction
// before the parked rs.pc; an arena fault drops it.
func (e *Exec) store(rs *runState, addr uint64, size int, v uint64) error {
	pc := rs.pc - 1
	if b := e.direct(rs, addr, size, PermWrite); b != nil {
		storeLE(b, size, v)
		return nil
	}
	b1, b2, err := e.resolve(rs, pc, addr, size, PermWrite)
	if err != nil {
		if err == errNoArenaPage {
			return nil
		}
		return err
	}
	putLE(b1, b2, v)
	return nil
}

// direct is the common case of resolve: the size bytes at addr inside one
// region with permission want, or inside one populated arena page. It
// returns nil for anything else (errors, faults, page-straddling accesses),
// which resolve then handles.
func (e *Exec) direct(rs *runState, addr uint64, size int, want Perm) []byte {
	d := addr - RegionBase
	regs := e.Mem.regions
	if id := d >> 32; id < uint64(len(regs)) {
		r := &regs[id]
		off := uint64(uint32(d))
		if r.Perm&want != 0 && off+uint64(size) <= uint64(len(r.Data)) {
			return r.Data[off:]
		}
		return nil
	}
	a := rs.prog.Arena
	if a == nil || (addr>>32 != 0 && addr>>32 != a.UserBase>>32) {
		return nil
	}
	ko := uint32(addr)
	o := ko & (PageSize - 1)
	pg := (ko - uint32(a.UserBase)) >> 12
	p := a.Page(pg)
	if int(o)+size > PageSize || p == nil {
		return nil
	}
	return p[o:]
}

// castUser is addr_space_cast from address space 0 to 1: the low 32 bits
// with the arena's user upper half, except that 0 stays 0.
func castUser(a *Arena, v uint64) uint64 {
	v = uint64(uint32(v))
	if v != 0 && a != nil && !a.NoUserConv {
		v |= a.UserBase &^ 0xffffffff
	}
	return v
}

// helperErr wraps a helper's error with the program and instruction; an
// *Error (a nested run or callback failing) passes through unchanged.
func helperErr(p *Program, pc int, err error) error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Prog: p.Name, PC: pc, Msg: err.Error(), Err: err}
}

func getLE(b1, b2 []byte) uint64 {
	if b2 == nil {
		switch len(b1) {
		case 1:
			return uint64(b1[0])
		case 2:
			return uint64(binary.LittleEndian.Uint16(b1))
		case 4:
			return uint64(binary.LittleEndian.Uint32(b1))
		case 8:
			return binary.LittleEndian.Uint64(b1)
		}
	}
	var v uint64
	n := 0
	for _, c := range b1 {
		v |= uint64(c) << (8 * n)
		n++
	}
	for _, c := range b2 {
		v |= uint64(c) << (8 * n)
		n++
	}
	return v
}

func putLE(b1, b2 []byte, v uint64) {
	if b2 == nil {
		switch len(b1) {
		case 1:
			b1[0] = byte(v)
			return
		case 2:
			binary.LittleEndian.PutUint16(b1, uint16(v))
			return
		case 4:
			binary.LittleEndian.PutUint32(b1, uint32(v))
			return
		case 8:
			binary.LittleEndian.PutUint64(b1, v)
			return
		}
	}
	for i := range b1 {
		b1[i] = byte(v)
		v >>= 8
	}
	for i := range b2 {
		b2[i] = byte(v)
		v >>= 8
	}
}

// atomic executes the read-modify-write BPF_ATOMIC instruction before the
// parked rs.pc on the registers r. 32-bit forms operate on the low halves and zero-extend
// what they fetch. An arena fault drops the operation and leaves every
// register unchanged, as the JIT's fault fixup does for STX instructions.
func (e *Exec) atomic(rs *runState, r *[16]uint64) error {
	pc := rs.pc - 1
	in := &rs.prog.code[pc]
	size := 4
	if in.op == opAtomicDW {
		size = 8
	}
	b1, b2, err := e.resolve(rs, pc, r[in.dst&15]+uint64(int64(in.off)), size, PermRW)
	if err != nil {
		if err == errNoArenaPage {
			return nil
		}
		return err
	}
	old := getLE(b1, b2)
	src := r[in.src&15]
	var nv uint64
	switch in.imm &^ isa.FETCH {
	case isa.ADD:
		nv = old + src
	case isa.OR:
		nv = old | src
	case isa.AND:
		nv = old & src
	case isa.XOR:
		nv = old ^ src
	case isa.XCHG &^ isa.FETCH:
		nv = src
	default: // cmpxchg: compare with r0
		nv = old
		cmp := r[0]
		if size == 4 {
			cmp = uint64(uint32(cmp))
		}
		if old == cmp {
			nv = src
		}
	}
	putLE(b1, b2, nv)
	switch {
	case in.imm == isa.CMPXCHG:
		r[0] = old
	case in.imm&isa.FETCH != 0:
		r[in.src&15] = old
	}
	return nil
}

// The interpreter's failure exits. Each records the instructions executed
// (see interp for the accounting) and builds the error; they are out of
// line so that the hot loop keeps no value live across them.

func (rs *runState) fail(pc int, rem int64, err error) error {
	rs.steps = uint64(int64(rs.limit) - rem + int64(rs.prog.icount[pc]))
	return err
}

func (rs *runState) exhausted(pc int, rem int64) error {
	return rs.fail(pc, rem, &Error{Prog: rs.prog.Name, PC: pc, Msg: fmt.Sprintf("instruction budget exhausted (%d)", rs.limit)})
}

func (rs *runState) tooDeep(pc int, rem int64, frames int) error {
	return rs.fail(pc, rem, &Error{Prog: rs.prog.Name, PC: pc - 1, Msg: fmt.Sprintf("the call stack of %d frames is too deep !", frames)})
}

func (rs *runState) fellOff(pc int, rem int64) error {
	return rs.fail(pc, rem, &Error{Prog: rs.prog.Name, PC: pc - 1, Msg: "fell off the end of the program or into an ld_imm64"})
}
