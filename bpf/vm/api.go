// Package vm executes eBPF bytecode the way the Linux kernel does.
//
// Programs are checked and decoded once (Load) into a compact internal form
// and executed many times (Exec.Run). Load rejects what the kernel refuses
// before verification proper: unknown opcodes, reserved fields in use, bad
// registers, jumps out of range or into an ld_imm64, subprograms that fall
// through their end, unknown helpers and kfuncs, constant division by zero
// and over-wide constant shifts. It does not verify memory safety or
// termination; the VM enforces both at run time instead.
//
// Semantics follow the kernel's interpreter and the verifier's rewrites:
// division by zero gives 0 and modulo by zero keeps the dividend (32-bit
// forms zero-extend it), INT_MIN/-1 gives INT_MIN and INT_MIN%-1 gives 0,
// register shift counts are masked to the operand width, 32-bit results
// zero-extend. may_goto falls through 8M times (BPF_MAX_LOOPS) per function
// invocation, then jumps. addr_space_cast to address space 0 is a 32-bit
// zero-extending move; to address space 1 it keeps 0 and otherwise puts the
// arena's user upper half over the low 32 bits.
//
// Every load and store goes through an address space (Memory) made of
// regions the embedder maps, the Exec's stack, or the running program's
// arena. An access to an unpopulated arena page (or to the guard just
// outside the arena's 4 GiB kernel window) is reported and then ignored, as
// the kernel's fault fixup does: LDX loads give 0, stores and atomics are
// dropped, and atomics and load-acquire leave their registers unchanged.
// Any other bad access stops the program with an *Error. Helpers and kfuncs
// are dispatched through tables the embedder provides in an Env. Nothing a
// program does can panic the Go process or touch host memory.
//
// Instruction budget: every executed instruction counts. A run may execute
// BaseBudget instructions (2^20, the verifier's complexity limit, which
// bounds any program whose loops the verifier unrolled) plus what it earns
// by bounded iteration: a may_goto that falls through credits the
// instructions its frame ran since its previous pass, Exec.Call credits the
// instructions of the callback it ran, and helpers grant Exec.Credit (for
// example IterCredit per successful iterator next). The allowance never
// exceeds Exec.Budget if set, else MaxBudget (2^32). Exceeding it stops the
// run with "instruction budget exhausted (N)". The check happens where
// control can loop (taken jumps, calls, helper returns), so a run may
// overshoot by less than the program's length. An endless loop without
// credit stops after about a million instructions, a few milliseconds.
//
// This file is the package's contract with the rest of scxsim (loader, maps,
// arena, sched_ext core): the exported types and their meaning.
package vm

// PageSize is the arena page size, the same as the kernel's PAGE_SIZE on x86-64.
const PageSize = 4096

// Address space layout. Addresses a program sees are 64-bit values; the VM
// routes each access by its value:
//
//   - [RegionBase, RegionBase + n<<32): region n (see Memory.Map), the offset
//     being the low 32 bits.
//   - addresses below 1<<32, and addresses whose upper 32 bits equal those of
//     the running program's arena UserBase: the arena (kernel form after
//     addr_space_cast to address space 0, and user form respectively).
//   - anything else: an invalid access, which stops the program with an *Error.
//
// FuncBase+pc is the value ld_imm64 BPF_PSEUDO_FUNC produces: the address of
// the subprogram starting at instruction index pc of the same Program.
const (
	RegionBase uint64 = 0xffff_a000_0000_0000
	FuncBase   uint64 = 0xffff_9000_0000_0000
)

// Limits the kernel imposes and the VM enforces.
const (
	StackSize     = 512 // bytes of stack per frame (MAX_BPF_STACK)
	MaxCallFrames = 8   // bpf-to-bpf call depth (MAX_CALL_FRAMES)
)

// Insn is one raw 8-byte eBPF instruction slot, as in struct bpf_insn. An
// ld_imm64 takes two slots; the second carries the upper 32 bits in Imm.
type Insn struct {
	Op  uint8
	Dst uint8 // 4 bits
	Src uint8 // 4 bits
	Off int16
	Imm int32
}

// Perm says what a program may do with a region.
type Perm uint8

const (
	PermRead  Perm = 1 << iota // loads allowed
	PermWrite                  // stores and atomics allowed
	PermRW    = PermRead | PermWrite
)

// RegionID names a mapped region; its address is RegionBase + id<<32.
type RegionID uint32

// Pseudo source-register values of ld_imm64 and call, as in the kernel's
// include/uapi/linux/bpf.h.
const (
	PseudoMapFD       = 1 // ld_imm64: imm = map fd
	PseudoMapValue    = 2 // ld_imm64: imm = map fd, second imm = value offset
	PseudoBTFID       = 3 // ld_imm64: imm = BTF id of a kernel variable
	PseudoFunc        = 4 // ld_imm64: imm = relative insn offset of a subprogram
	PseudoMapIdx      = 5 // ld_imm64: imm = map index
	PseudoMapIdxValue = 6 // ld_imm64: imm = map index, second imm = value offset

	PseudoCall       = 1 // call: imm = relative offset of a bpf-to-bpf callee
	PseudoKfuncCall  = 2 // call: imm = kfunc BTF id, off = module BTF fd index
	HelperCallSrcReg = 0 // call: imm = helper id
)

// Helper implements a BPF helper or kfunc. It receives the running execution
// (memory, CPU, embedder context, callbacks) and r1..r5, and returns r0. A
// non-nil error stops the program; the VM wraps it with the program name and
// instruction index.
type Helper func(e *Exec, r1, r2, r3, r4, r5 uint64) (uint64, error)

// Env is what the embedder provides when a program is loaded. Lookups happen
// once, at Load; an unknown helper or kfunc fails the load in the kernel
// verifier's words.
type Env struct {
	// Helper returns the implementation of helper id (BPF_FUNC_*).
	Helper func(id int32) (Helper, bool)
	// Kfunc returns the implementation of the kfunc with this BTF id (and
	// module BTF fd index off, 0 for vmlinux).
	Kfunc func(id int32, off int16) (Helper, bool)
	// LdImm64 resolves the pseudo forms of ld_imm64 other than PseudoFunc:
	// src is the pseudo value, imm and imm2 the two immediates. It returns
	// the 64-bit value the register receives.
	LdImm64 func(src uint8, imm, imm2 int32) (uint64, error)
}

// Arena is the VM's view of one BPF arena (the arena package owns its
// allocation and lifetime). Its page table has two levels, so that it
// costs memory for the pages in use rather than for max_entries (an arena
// may span 4 GiB): page pg, numbered from UserBase, is
// Dir[pg>>LeafShift][pg&(LeafPages-1)]; a nil leaf or entry is an
// unpopulated page.
type Arena struct {
	// UserBase is user_vm_start: the user address of page 0.
	UserBase uint64
	// Dir holds one leaf pointer per LeafPages pages of max_entries;
	// leaves are allocated as pages in their span are populated.
	Dir []*ArenaLeaf
	// Fault is called when a program loads from or stores to an unpopulated
	// arena address (addr in user form). The VM then continues as the
	// kernel does: a load yields 0 and a store is dropped. pc is the
	// faulting instruction index. Fault reports the violation; if it is
	// nil the VM writes the first line of the kernel's report ("ERROR: Arena
	// READ access at unmapped address 0x...") to Exec.Stream itself.
	Fault func(e *Exec, pc int, addr uint64, size int, write bool)
	// NoUserConv mirrors BPF_F_NO_USER_CONV: addr_space_cast to the user
	// address space then keeps only the low 32 bits.
	NoUserConv bool
}

// Arena page table geometry: a leaf maps LeafPages pages (2 MiB).
const (
	LeafShift = 9
	LeafPages = 1 << LeafShift
)

// ArenaLeaf is one leaf of an arena's page table.
type ArenaLeaf [LeafPages]*[PageSize]byte

// NewArenaDir returns an empty page table for pages arena pages.
func NewArenaDir(pages uint32) []*ArenaLeaf {
	return make([]*ArenaLeaf, (uint64(pages)+LeafPages-1)>>LeafShift)
}

// Page returns populated page pg, or nil.
func (a *Arena) Page(pg uint32) *[PageSize]byte {
	if i := uint64(pg >> LeafShift); i < uint64(len(a.Dir)) {
		if l := a.Dir[i]; l != nil {
			return l[pg&(LeafPages-1)]
		}
	}
	return nil
}
