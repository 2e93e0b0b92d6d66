package vm

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/scxsim/scxsim/bpf/isa"
)

type fault struct {
	pc    int
	addr  uint64
	size  int
	write bool
}

// arenaOf builds an arena view at base whose page i is pages[i] (nil: not
// populated).
func arenaOf(base uint64, pages ...*[PageSize]byte) *Arena {
	a := &Arena{UserBase: base, Dir: NewArenaDir(uint32(len(pages)))}
	for i, pg := range pages {
		if a.Dir[i>>LeafShift] == nil {
			a.Dir[i>>LeafShift] = new(ArenaLeaf)
		}
		a.Dir[i>>LeafShift][i&(LeafPages-1)] = pg
	}
	return a
}

// testArena builds a 4-page arena at user address 0x7f12_0000_3000 (page 0)
// with pages 0 and 1 populated, 2 not, 3 populated; it records faults.
func testArena(faults *[]fault) *Arena {
	a := &Arena{UserBase: 0x7f12_0000_3000, Dir: NewArenaDir(4)}
	l := new(ArenaLeaf)
	l[0], l[1], l[3] = new([PageSize]byte), new([PageSize]byte), new([PageSize]byte)
	a.Dir[0] = l
	a.Fault = func(e *Exec, pc int, addr uint64, size int, write bool) {
		*faults = append(*faults, fault{pc, addr, size, write})
	}
	return a
}

func castKern(d, s uint8) Insn {
	return Insn{Op: isa.ALU64 | isa.MOV | isa.X, Dst: d, Src: s, Off: 1, Imm: 1}
}
func castUserInsn(d, s uint8) Insn {
	return Insn{Op: isa.ALU64 | isa.MOV | isa.X, Dst: d, Src: s, Off: 1, Imm: 1 << 16}
}

// TestArena checks routing of kernel-form and user-form arena addresses,
// address-space casts, faults on unpopulated and out-of-range pages, and
// accesses straddling a page boundary.
func TestArena(t *testing.T) {
	ub := uint64(0x7f12_0000_3000)
	kern := func(pg int, off uint64) uint64 { return uint64(uint32(ub)) + uint64(pg)*PageSize + off }
	user := func(pg int, off uint64) uint64 { return ub + uint64(pg)*PageSize + off }
	run := func(t *testing.T, prog []Insn, args ...uint64) (uint64, *Arena, []fault) {
		t.Helper()
		var faults []fault
		a := testArena(&faults)
		p := mustLoad(t, prog, nil)
		p.Arena = a
		r0, err := NewExec(NewMemory()).Run(p, args...)
		if err != nil {
			t.Fatal(err)
		}
		return r0, a, faults
	}

	t.Run("casts", func(t *testing.T) {
		for _, c := range []struct {
			in   Insn
			x    uint64
			want uint64
		}{
			{castUserInsn(0, 1), 0, 0},
			{castUserInsn(0, 1), 0xffff_ffff_0000_0000, 0},
			{castUserInsn(0, 1), kern(1, 8), user(1, 8)},
			{castUserInsn(0, 1), 0xdead_beef_0000_1000, ub&^0xffff_ffff | 0x1000},
			{castKern(0, 1), user(2, 16), kern(2, 16)},
			{castKern(0, 1), 0, 0},
		} {
			if r0, _, _ := run(t, cat(ldConst(1, c.x), c.in, exit())); r0 != c.want {
				t.Errorf("%+v on %#x: %#x, want %#x", c.in, c.x, r0, c.want)
			}
		}
		// Without an arena, or with BPF_F_NO_USER_CONV, cast_user only
		// zero-extends.
		p := mustLoad(t, cat(ldConst(1, user(1, 8)), castUserInsn(0, 1), exit()), nil)
		if r0, err := NewExec(NewMemory()).Run(p); err != nil || r0 != kern(1, 8) {
			t.Errorf("no arena: %#x %v", r0, err)
		}
		p.Arena = &Arena{UserBase: ub, NoUserConv: true}
		if r0, err := NewExec(NewMemory()).Run(p); err != nil || r0 != kern(1, 8) {
			t.Errorf("no user conv: %#x %v", r0, err)
		}
	})

	t.Run("kernel and user forms reach the same page", func(t *testing.T) {
		prog := cat(
			ldConst(3, 0x1122_3344_5566_7788),
			stx(isa.DW, 1, 3, 16), // kernel form store
			ldx(isa.DW, 0, 2, 16), // user form load
			exit(),
		)
		r0, a, faults := run(t, prog, kern(1, 0), user(1, 0))
		if r0 != 0x1122_3344_5566_7788 || len(faults) != 0 {
			t.Errorf("r0 %#x faults %v", r0, faults)
		}
		if got := binary.LittleEndian.Uint64(a.Page(1)[16:]); got != r0 {
			t.Errorf("page holds %#x", got)
		}
	})

	t.Run("unpopulated page", func(t *testing.T) {
		prog := cat(
			mov64K(0, 7),
			ldx(isa.W, 0, 1, 4), // r0 = 0
			st(isa.DW, 1, 8, 5), // dropped
			mov64K(3, 9),
			atomicOp(isa.DW, isa.ADD|isa.FETCH, 1, 3, 0), // dropped, r3 unchanged
			alu64X(isa.ADD, 0, 3),
			mov64K(4, 11),
			atomicOp(isa.W, isa.LoadAcq, 4, 1, 0), // faulting load-acquire keeps r4
			alu64X(isa.ADD, 0, 4),
			exit(),
		)
		r0, _, faults := run(t, prog, kern(2, 0))
		if r0 != 20 {
			t.Errorf("r0 = %d, want 20", r0)
		}
		want := []fault{{1, user(2, 4), 4, false}, {2, user(2, 8), 8, true}, {4, user(2, 0), 8, true}, {7, user(2, 0), 4, false}}
		if len(faults) != len(want) {
			t.Fatalf("faults %v, want %v", faults, want)
		}
		for i := range want {
			if faults[i] != want[i] {
				t.Errorf("fault %d: %+v, want %+v", i, faults[i], want[i])
			}
		}
	})

	t.Run("outside the arena's pages and guard", func(t *testing.T) {
		for _, addr := range []uint64{
			kern(4, 0),  // index == max_entries
			kern(-1, 0), // below page 0 wraps to a huge index
			0xffff_fff8, // kernel form, top of 4G: index beyond max_entries
			^uint64(7),  // NULL - 8: guard page below the kernel mapping
			1 << 32,     // just above the 4G kernel window: guard
		} {
			r0, _, faults := run(t, cat(mov64K(0, 3), ldx(isa.DW, 0, 1, 0), exit()), addr)
			if r0 != 0 || len(faults) != 1 {
				t.Errorf("%#x: r0 %d faults %v", addr, r0, faults)
			}
		}
	})

	t.Run("straddling pages", func(t *testing.T) {
		v := uint64(0x0102_0304_0506_0708)
		prog := cat(ldConst(3, v), stx(isa.DW, 1, 3, PageSize-3), ldx(isa.DW, 0, 1, PageSize-3), exit())
		r0, a, faults := run(t, prog, kern(0, 0))
		if r0 != v || len(faults) != 0 {
			t.Fatalf("r0 %#x faults %v", r0, faults)
		}
		var b [8]byte
		copy(b[:3], a.Page(0)[PageSize-3:])
		copy(b[3:], a.Page(1)[:5])
		if binary.LittleEndian.Uint64(b[:]) != v {
			t.Errorf("bytes %x", b)
		}
		// Into the unpopulated page 2: all or nothing.
		r0, a, faults = run(t, cat(mov64K(3, -1), stx(isa.DW, 1, 3, PageSize-3), mov64K(0, 1), ldx(isa.DW, 0, 1, PageSize-3), exit()), kern(1, 0))
		if r0 != 0 || len(faults) != 2 || a.Page(1)[PageSize-1] != 0 {
			t.Errorf("r0 %#x faults %v", r0, faults)
		}
	})

	t.Run("stream report", func(t *testing.T) {
		var got []string
		var faults []fault
		p := mustLoad(t, cat(mov64K(1, 0), st(isa.W, 1, -8, 1), ldx(isa.B, 0, 2, 0), exit()), nil)
		p.Arena = testArena(&faults)
		p.Arena.Fault = nil // the VM reports when the arena does not
		e := NewExec(NewMemory())
		e.Stream = func(prog string, fd int, msg string) { got = append(got, fmt.Sprintf("%s/%d: %s", prog, fd, msg)) }
		if _, err := e.Run(p, 0, user(2, 5)); err != nil {
			t.Fatal(err)
		}
		want := []string{
			fmt.Sprintf("%s/2: ERROR: Arena WRITE access at unmapped address %#x\n", p.Name, ub&^0xffff_ffff-8),
			fmt.Sprintf("%s/2: ERROR: Arena READ access at unmapped address %#x\n", p.Name, user(2, 5)),
		}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("stream got %q\nwant %q", got, want)
		}
	})

	t.Run("no arena", func(t *testing.T) {
		_, err := runProg(t, cat(ldx(isa.DW, 0, 1, 0), exit()), nil, kern(0, 0))
		if err == nil {
			t.Error("arena address without an arena did not fail")
		}
	})

	t.Run("helper slice", func(t *testing.T) {
		var faults []fault
		a := testArena(&faults)
		var okSlice, badSlice error
		env := &Env{Helper: func(int32) (Helper, bool) {
			return func(e *Exec, r1, r2, _, _, _ uint64) (uint64, error) {
				var b []byte
				b, okSlice = e.Slice(r1, 8, true)
				if okSlice == nil {
					b[0] = 0xaa
				}
				_, badSlice = e.Slice(r2, 8, false)
				return 0, nil
			}, true
		}}
		p := mustLoad(t, cat(call(1), exit()), env)
		p.Arena = a
		if _, err := NewExec(NewMemory()).Run(p, user(3, 100), kern(2, 0)); err != nil {
			t.Fatal(err)
		}
		if okSlice != nil || a.Page(3)[100] != 0xaa || badSlice == nil {
			t.Errorf("populated: %v, unpopulated: %v", okSlice, badSlice)
		}
	})
}
