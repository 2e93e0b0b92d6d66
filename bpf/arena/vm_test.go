package arena

import (
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/asm"
	"github.com/scxsim/scxsim/bpf/stream"
	"github.com/scxsim/scxsim/bpf/vm"
)

// BTF ids the test programs use for the arena kfuncs.
var testKfuncIDs = map[int32]string{1: "bpf_arena_alloc_pages", 2: "bpf_arena_free_pages", 3: "bpf_arena_reserve_pages"}

var castRE = regexp.MustCompile(`(?m)^\s*cast_(kern|user) %r(\d+), %r(\d+)\s*$`)

// assemble accepts the conformance syntax plus "cast_kern %rD, %rS" and
// "cast_user %rD, %rS" for addr_space_cast, and MAP for the arena's
// struct bpf_map * address mapAddr.
func assemble(t testing.TB, src string, mapAddr uint64) []vm.Insn {
	t.Helper()
	src = strings.ReplaceAll(src, "MAP", fmt.Sprintf("%#x", mapAddr))
	src = castRE.ReplaceAllStringFunc(src, func(m string) string {
		p := castRE.FindStringSubmatch(m)
		var dst, srcReg, imm uint64
		fmt.Sscan(p[2], &dst)
		fmt.Sscan(p[3], &srcReg)
		imm = 1 // as1 -> as0
		if p[1] == "user" {
			imm = 1 << 16
		}
		// BPF_ALU64|BPF_MOV|BPF_X, off = BPF_ADDR_SPACE_CAST
		return fmt.Sprintf(".raw %#x", 0xbf|dst<<8|srcReg<<12|1<<16|imm<<32)
	})
	insns, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	return insns
}

// env binds the arena kfuncs (and the stream kfuncs of set) by test id.
func env(set *stream.Set) *vm.Env {
	kf := Kfuncs(nil)
	var sk map[string]vm.Helper
	if set != nil {
		sk = set.Kfuncs()
	}
	return &vm.Env{Kfunc: func(id int32, off int16) (vm.Helper, bool) {
		if id == 4 && sk != nil {
			return sk["bpf_stream_vprintk"], true
		}
		h, ok := kf[testKfuncIDs[id]]
		return h, ok
	}}
}

func load(t testing.TB, name, src string, a *Arena, set *stream.Set) *vm.Program {
	t.Helper()
	p, err := vm.Load(name, assemble(t, src, a.Addr()), env(set))
	if err != nil {
		t.Fatal(err)
	}
	p.Arena = a.VM()
	return p
}

func newExec(set *stream.Set) *vm.Exec {
	e := vm.NewExec(vm.NewMemory())
	if set != nil {
		e.Stream = set.Sink
	}
	return e
}

// A program allocates a page, writes through it, and touches an
// unpopulated page: the load yields 0, the store is dropped, the program
// goes on, and each fault is reported once on its stderr.
func TestBPFFaults(t *testing.T) {
	a := mustNew(t, Spec{Name: "arena", MaxEntries: 4, Flags: mmapable, MapExtra: base})
	set := stream.NewSet()
	p := load(t, "faulty", `
		lddw %r1, MAP
		mov %r2, 0
		mov %r3, 1
		mov %r4, -1
		mov %r5, 0
		call kfunc 1
		jeq %r0, 0, fail
		mov %r6, %r0
		cast_kern %r6, %r6
		stdw [%r6+0], 7
		ldxdw %r7, [%r6+0]
		stdw [%r6+4096], 9
		mov %r8, 55
		ldxdw %r8, [%r6+4096]
		mul %r7, 100
		add %r7, %r8
		mov %r0, %r7
		exit
	fail:
		mov %r0, -1
		exit
	`, a, set)
	e := newExec(set)
	e.CPU = 1
	r0, err := e.Run(p)
	if err != nil || r0 != 700 {
		t.Fatalf("Run = %d, %v; want 700 (store kept, faulting load gave 0)", r0, err)
	}
	if a.Populated() != 1 || a.Violations() != 2 {
		t.Fatalf("populated %d violations %d", a.Populated(), a.Violations())
	}
	got := set.Prog("faulty").Stderr.ReadAll()
	want := fmt.Sprintf("ERROR: Arena WRITE access at unmapped address 0x%x\n"+
		"CPU: 1 UID: 0 PID: 0 Comm: swapper/1\nCall trace:\nbpf_prog_faulty+0x60/0xa8\n\n"+
		"ERROR: Arena READ access at unmapped address 0x%x\n"+
		"CPU: 1 UID: 0 PID: 0 Comm: swapper/1\nCall trace:\nbpf_prog_faulty+0x70/0xa8\n\n", page(1), page(1))
	if got != want {
		t.Fatalf("stderr:\n%s\nwant:\n%s", got, want)
	}
	if set.Prog("faulty").Stdout.Len() != 0 {
		t.Fatal("stdout written")
	}
	// The dropped store left page 1 unallocated: user space gets zeros.
	buf := make([]byte, 8)
	if err := a.UserRead(page(1), buf); err != nil || buf[0] != 0 {
		t.Fatalf("page 1 = %v %v", buf, err)
	}
	if err := a.UserRead(page(0), buf); err != nil || buf[0] != 7 {
		t.Fatalf("page 0 = %v %v", buf, err)
	}
}

// After kernel code scratched a page, BPF accesses there hit the scratch
// page instead of faulting.
func TestBPFOnScratch(t *testing.T) {
	a := mustNew(t, Spec{MaxEntries: 4, Flags: mmapable, MapExtra: base})
	set := stream.NewSet()
	if err := a.KernelWrite(2*PageSize, []byte{5}, OnBehalf{Prog: "p", Sink: set.Sink}); err != nil {
		t.Fatal(err)
	}
	p := load(t, "p", `
		lddw %r1, 0x2000
		ldxb %r0, [%r1+0]
		exit
	`, a, set)
	r0, err := newExec(set).Run(p)
	if err != nil || r0 != 5 || a.Violations() != 1 {
		t.Fatalf("r0 %d err %v violations %d", r0, err, a.Violations())
	}
	if n := strings.Count(set.Prog("p").Stderr.ReadAll(), "ERROR: Arena"); n != 1 {
		t.Fatalf("%d reports, want the kernel-side one only", n)
	}
}

// addr_space_cast through the VM, both ways and round trip.
func TestVMCasts(t *testing.T) {
	cases := []struct {
		name  string
		extra uint64
		flags uint32
		in    uint64 // r1
		kern  uint64 // cast_kern(in)
		user  uint64 // cast_user(in)
	}{
		{"aligned base, page 1", base, 0, page(1) + 8, PageSize + 8, page(1) + 8},
		{"aligned base, offset 0 is NULL", base, 0, base, 0, 0},
		{"unaligned base", 0x7f7d_2620_0000, 0, 0x7f7d_2620_2010, 0x2620_2010, 0x7f7d_2620_2010},
		{"kernel form to user", 0x7f7d_2620_0000, 0, 0x2620_2010, 0x2620_2010, 0x7f7d_2620_2010},
		{"NULL", 0x7f7d_2620_0000, 0, 0, 0, 0},
		{"no user conversion", 0x7f7d_2620_0000, FlagNoUserConv, 0x7f7d_2620_2010, 0x2620_2010, 0x2620_2010},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := mustNew(t, Spec{MaxEntries: 4, Flags: mmapable | c.flags, MapExtra: c.extra})
			kern := load(t, "k", "cast_kern %r0, %r1\nexit", a, nil)
			user := load(t, "u", "cast_user %r0, %r1\nexit", a, nil)
			round := load(t, "r", "cast_kern %r1, %r1\ncast_user %r0, %r1\nexit", a, nil)
			e := newExec(nil)
			k, _ := e.Run(kern, c.in)
			u, _ := e.Run(user, c.in)
			r, _ := e.Run(round, c.in)
			if k != c.kern || u != c.user || r != c.user {
				t.Fatalf("kern %#x user %#x round %#x; want %#x %#x %#x", k, u, r, c.kern, c.user, c.user)
			}
			if c.flags == 0 && (k != CastKern(c.in) || u != CastUser(a.UserBase(), c.in)) {
				t.Fatal("VM and package casts disagree")
			}
		})
	}
}

// The kfuncs' argument handling as programs see it.
func TestKfuncs(t *testing.T) {
	a := mustNew(t, Spec{MaxEntries: 4, Flags: mmapable, MapExtra: base})
	testMapAddr := a.Addr()
	kf := Kfuncs(nil)
	e := newExec(nil)
	// Kfuncs find their arena through the running program: call them from
	// a hook the program invokes.
	var results []uint64
	calls := []struct {
		name string
		args [5]uint64
		want uint64
	}{
		{"bpf_arena_alloc_pages", [5]uint64{testMapAddr, 0, 1, uint64(^uint32(0)), 0}, page(0)},
		{"bpf_arena_alloc_pages", [5]uint64{testMapAddr, 0, 1, uint64(^uint32(0)), 1}, 0},                // flags
		{"bpf_arena_alloc_pages", [5]uint64{testMapAddr, 0, 1 << 32, uint64(^uint32(0)), 0}, 0},          // u32 page_cnt = 0
		{"bpf_arena_alloc_pages", [5]uint64{testMapAddr + 8, 0, 1, uint64(^uint32(0)), 0}, 0},            // not this map
		{"bpf_arena_alloc_pages", [5]uint64{testMapAddr, page(2), 1, 0xffff_ffff_0000_0000, 0}, page(2)}, // node 0 in the low half
		{"bpf_arena_reserve_pages", [5]uint64{testMapAddr, page(2), 1}, negErrno(syscall.EBUSY)},         // allocated
		{"bpf_arena_reserve_pages", [5]uint64{testMapAddr, page(3), 2}, negErrno(syscall.EINVAL)},        // past the end
		{"bpf_arena_reserve_pages", [5]uint64{testMapAddr + 8, page(3), 1}, negErrno(syscall.EINVAL)},    // not an arena
		{"bpf_arena_reserve_pages", [5]uint64{testMapAddr, page(3), 0}, 0},
		{"bpf_arena_free_pages", [5]uint64{testMapAddr, 0, 1}, 0}, // NULL: ignored
		{"bpf_arena_free_pages", [5]uint64{testMapAddr, page(2), 1}, 0},
		{"bpf_arena_alloc_pages", [5]uint64{testMapAddr, 0, 2, uint64(^uint32(0)), 0}, page(1)}, // freed page 2 merged with 1 and 3
	}
	hook := func(e *vm.Exec, _, _, _, _, _ uint64) (uint64, error) {
		for _, c := range calls {
			r, err := kf[c.name](e, c.args[0], c.args[1], c.args[2], c.args[3], c.args[4])
			if err != nil {
				return 0, err
			}
			results = append(results, r)
		}
		return 0, nil
	}
	q, err := vm.Load("k", assemble(t, "call kfunc 9\nexit", 0), &vm.Env{Kfunc: func(id int32, _ int16) (vm.Helper, bool) { return hook, id == 9 }})
	if err != nil {
		t.Fatal(err)
	}
	q.Arena = a.VM()
	if _, err := e.Run(q); err != nil {
		t.Fatal(err)
	}
	for i, c := range calls {
		if results[i] != c.want {
			t.Errorf("call %d %s%v = %#x, want %#x", i, c.name, c.args, results[i], c.want)
		}
	}
	// Outside a run there is no program, hence no arena.
	if r, _ := kf["bpf_arena_alloc_pages"](e, testMapAddr, 0, 1, uint64(^uint32(0)), 0); r != 0 {
		t.Fatalf("kfunc without a running program = %#x", r)
	}
}
