package vm

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/isa"
)

func ldxs(size, d, s uint8, off int16) Insn {
	return Insn{Op: isa.LDX | isa.MEMSX | size, Dst: d, Src: s, Off: off}
}

func atomicOp(size uint8, op int32, d, s uint8, off int16) Insn {
	return Insn{Op: isa.STX | isa.ATOMIC | size, Dst: d, Src: s, Off: off, Imm: op}
}

// TestStackLoadStore stores a known pattern byte-wise and reads it back in
// every size and signedness, checking little-endian layout.
func TestStackLoadStore(t *testing.T) {
	pattern := uint64(0x8182_8384_f5f6_37f8)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], pattern)
	type tc struct {
		name string
		ld   Insn
		want uint64
	}
	cases := []tc{
		{"ldxb", ldx(isa.B, 0, 10, -8), uint64(b[0])},
		{"ldxh", ldx(isa.H, 0, 10, -8), uint64(binary.LittleEndian.Uint16(b[:]))},
		{"ldxw", ldx(isa.W, 0, 10, -8), uint64(binary.LittleEndian.Uint32(b[:]))},
		{"ldxdw", ldx(isa.DW, 0, 10, -8), pattern},
		{"ldxb high", ldx(isa.B, 0, 10, -1), uint64(b[7])},
		{"ldxh unaligned", ldx(isa.H, 0, 10, -7), uint64(binary.LittleEndian.Uint16(b[1:]))},
		{"ldxsb", ldxs(isa.B, 0, 10, -8), uint64(int64(int8(b[0])))},
		{"ldxsh", ldxs(isa.H, 0, 10, -8), uint64(int64(int16(binary.LittleEndian.Uint16(b[:]))))},
		{"ldxsw", ldxs(isa.W, 0, 10, -4), uint64(int64(int32(binary.LittleEndian.Uint32(b[4:]))))},
		{"ldxsb positive", ldxs(isa.B, 0, 10, -7), uint64(b[1])},
	}
	// Store the pattern one byte at a time, so stores are tested
	// independently of the loads under test.
	var store []Insn
	for i, c := range b {
		store = append(store, st(isa.B, 10, int16(-8+i), int32(c)))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantR0(t, cat(store, c.ld, exit()), nil, c.want)
		})
	}
	// Stores of each size write exactly their bytes.
	stores := []struct {
		name string
		in   []Insn
		want uint64
	}{
		{"stb", []Insn{st(isa.B, 10, -8, 0x1ff)}, 0xffff_ffff_ffff_ffff&^0xff | 0xff},
		{"sth", []Insn{st(isa.H, 10, -8, 0x12345)}, 0xffff_ffff_ffff_0000 | 0x2345},
		{"stw", []Insn{st(isa.W, 10, -8, -2)}, 0xffff_ffff_ffff_fffe},
		{"stdw sign-extends imm", []Insn{st(isa.DW, 10, -8, -2)}, 0xffff_ffff_ffff_fffe},
		{"stxb", []Insn{mov64K(1, 0x0102), stx(isa.B, 10, 1, -8)}, 0xffff_ffff_ffff_ff02},
		{"stxh", []Insn{mov64K(1, 0x010203), stx(isa.H, 10, 1, -8)}, 0xffff_ffff_ffff_0203},
		{"stxw", []Insn{mov64K(1, 0x01020304), stx(isa.W, 10, 1, -8)}, 0xffff_ffff_0102_0304},
		{"stxdw", cat(ldConst(1, 0x0102030405060708), stx(isa.DW, 10, 1, -8)), 0x0102030405060708},
	}
	for _, c := range stores {
		t.Run(c.name, func(t *testing.T) {
			wantR0(t, cat(st(isa.DW, 10, -8, -1), c.in, ldx(isa.DW, 0, 10, -8), exit()), nil, c.want)
		})
	}
}

// TestRegions checks loads and stores through mapped regions, permissions
// and the errors for accesses outside any region.
func TestRegions(t *testing.T) {
	mem := NewMemory()
	data := make([]byte, 64)
	binary.LittleEndian.PutUint64(data[8:], 0x1122334455667788)
	_, rw := mem.Map("rw", data, PermRW)
	_, ro := mem.Map("ro", make([]byte, 16), PermRead)
	_, wo := mem.Map("wo", make([]byte, 16), PermWrite)
	e := NewExec(mem)
	run := func(insns []Insn, args ...uint64) (uint64, error) {
		p, err := Load("regions", insns, nil)
		if err != nil {
			t.Fatal(err)
		}
		return e.Run(p, args...)
	}
	// Read, modify, write back through r1.
	r0, err := run(cat(ldx(isa.DW, 0, 1, 8), alu64K(isa.ADD, 0, 1), stx(isa.DW, 1, 0, 16), exit()), rw)
	if err != nil || r0 != 0x1122334455667789 {
		t.Fatalf("r0 = %#x, %v", r0, err)
	}
	if got := binary.LittleEndian.Uint64(data[16:]); got != 0x1122334455667789 {
		t.Errorf("stored %#x", got)
	}
	// The last bytes of a region are reachable, one past is not.
	if _, err := run(cat(ldx(isa.DW, 0, 1, 56), exit()), rw); err != nil {
		t.Errorf("last word: %v", err)
	}
	errCases := []struct {
		name string
		prog []Insn
		arg  uint64
		pc   int
		addr uint64
		msg  string
	}{
		{"read past end", cat(mov64K(0, 0), ldx(isa.DW, 0, 1, 57), exit()), rw, 1, rw + 57, "invalid memory read of 8 bytes"},
		{"write read-only", cat(mov64K(0, 0), st(isa.W, 1, 0, 1), exit()), ro, 1, ro, "invalid memory write of 4 bytes"},
		{"read write-only", cat(ldx(isa.B, 0, 1, 0), exit()), wo, 0, wo, "invalid memory read of 1 bytes"},
		{"atomic on read-only", cat(mov64K(2, 1), atomicOp(isa.DW, isa.ADD, 1, 2, 0), exit()), ro, 1, ro, "invalid memory write"},
		{"null", cat(ldx(isa.W, 0, 1, 0), exit()), 0x10_0000_0000, 0, 0x10_0000_0000, "invalid memory read"},
		{"region zero", cat(ldx(isa.W, 0, 1, 4), exit()), RegionBase, 0, RegionBase + 4, "invalid memory read"},
		{"unmapped id", cat(ldx(isa.W, 0, 1, 0), exit()), RegionAddr(99, 0), 0, RegionAddr(99, 0), "invalid memory read"},
		{"stack below frame", cat(ldx(isa.DW, 0, 10, -stackBytes-8), exit()), 0, 0, 0, "invalid memory read"},
		{"stack above top", cat(ldx(isa.B, 0, 10, 0), exit()), 0, 0, 0, "invalid memory read"},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := run(c.prog, c.arg)
			if err == nil {
				t.Fatal("no error")
			}
			ve := asVMError(t, err)
			if ve.PC != c.pc || ve.Prog != "regions" || !strings.Contains(ve.Msg, c.msg) {
				t.Errorf("got %v (pc %d), want pc %d and %q", err, ve.PC, c.pc, c.msg)
			}
			if c.addr != 0 && ve.Addr != c.addr {
				t.Errorf("addr %#x, want %#x", ve.Addr, c.addr)
			}
		})
	}
	// Unmapping makes a region fault.
	id, addr := mem.Map("gone", make([]byte, 8), PermRW)
	mem.Unmap(id)
	if _, err := run(cat(ldx(isa.B, 0, 1, 0), exit()), addr); err == nil {
		t.Error("unmapped region readable")
	}
}

// TestAtomics checks every read-modify-write atomic on the stack and in a
// region, 32 and 64 bits, with and without fetch.
func TestAtomics(t *testing.T) {
	old := uint64(0xf0f0_f0f0_0000_00ff)
	src := uint64(0x0ff0_0ff0_8000_0001)
	type tc struct {
		name     string
		op       int32
		size     uint8
		mem      uint64 // memory after
		fetched  uint64 // src register (or r0 for cmpxchg) after
		r0       uint64 // r0 before (cmpxchg comparand)
		fetchReg uint8
	}
	lo := func(v uint64) uint64 { return uint64(uint32(v)) }
	hi := old &^ 0xffff_ffff
	cases := []tc{
		{"add", isa.ADD, isa.DW, old + src, src, 0, 2},
		{"or", isa.OR, isa.DW, old | src, src, 0, 2},
		{"and", isa.AND, isa.DW, old & src, src, 0, 2},
		{"xor", isa.XOR, isa.DW, old ^ src, src, 0, 2},
		{"fetch add", isa.ADD | isa.FETCH, isa.DW, old + src, old, 0, 2},
		{"fetch or", isa.OR | isa.FETCH, isa.DW, old | src, old, 0, 2},
		{"fetch and", isa.AND | isa.FETCH, isa.DW, old & src, old, 0, 2},
		{"fetch xor", isa.XOR | isa.FETCH, isa.DW, old ^ src, old, 0, 2},
		{"xchg", isa.XCHG, isa.DW, src, old, 0, 2},
		{"cmpxchg hit", isa.CMPXCHG, isa.DW, src, old, old, 0},
		{"cmpxchg miss", isa.CMPXCHG, isa.DW, old, old, old + 1, 0},
		{"add32", isa.ADD, isa.W, hi | lo(old+src), src, 0, 2},
		{"fetch add32", isa.ADD | isa.FETCH, isa.W, hi | lo(old+src), lo(old), 0, 2},
		{"fetch or32", isa.OR | isa.FETCH, isa.W, hi | lo(old|src), lo(old), 0, 2},
		{"fetch and32", isa.AND | isa.FETCH, isa.W, hi | lo(old&src), lo(old), 0, 2},
		{"fetch xor32", isa.XOR | isa.FETCH, isa.W, hi | lo(old^src), lo(old), 0, 2},
		{"xchg32", isa.XCHG, isa.W, hi | lo(src), lo(old), 0, 2},
		{"cmpxchg32 hit ignores r0 upper half", isa.CMPXCHG, isa.W, hi | lo(src), lo(old), 0xdead_0000_0000_0000 | lo(old), 0},
		{"cmpxchg32 miss", isa.CMPXCHG, isa.W, old, lo(old), 5, 0},
	}
	for _, c := range cases {
		for _, where := range []string{"stack", "region"} {
			t.Run(c.name+" "+where, func(t *testing.T) {
				mem := NewMemory()
				buf := make([]byte, 16)
				_, addr := mem.Map("data", buf, PermRW)
				ptr := uint8(1)
				prefix := cat(ldConst(3, old), stx(isa.DW, 1, 3, 8))
				if where == "stack" {
					ptr = 10
					prefix = cat(ldConst(3, old), stx(isa.DW, 10, 3, -8))
				}
				off := int16(8)
				if where == "stack" {
					off = -8
				}
				prog := cat(prefix, ldConst(2, src), ldConst(0, c.r0),
					atomicOp(c.size, c.op, ptr, 2, off),
					ldx(isa.DW, 4, ptr, off),
					stx(isa.DW, 1, 4, 0),
					alu64X(isa.MOV, 0, c.fetchReg),
					exit())
				p := mustLoad(t, prog, nil)
				r0, err := NewExec(mem).Run(p, addr)
				if err != nil {
					t.Fatal(err)
				}
				if got := binary.LittleEndian.Uint64(buf); got != c.mem {
					t.Errorf("memory %#x, want %#x", got, c.mem)
				}
				if r0 != c.fetched {
					t.Errorf("fetched register %#x, want %#x", r0, c.fetched)
				}
			})
		}
	}
}

// TestLoadAcquireStoreRelease checks the BPF_LOAD_ACQ and BPF_STORE_REL
// forms of BPF_ATOMIC in all sizes.
func TestLoadAcquireStoreRelease(t *testing.T) {
	v := uint64(0x8877_6655_4433_2211)
	for _, c := range []struct {
		size uint8
		mask uint64
	}{{isa.B, 0xff}, {isa.H, 0xffff}, {isa.W, 0xffff_ffff}, {isa.DW, ^uint64(0)}} {
		prog := cat(
			st(isa.DW, 10, -16, 0),
			ldConst(1, v),
			atomicOp(c.size, isa.StoreRel, 10, 1, -16),
			mov64K(0, -1),
			atomicOp(c.size, isa.LoadAcq, 0, 10, -16),
			ldx(isa.DW, 2, 10, -16),
			alu64X(isa.XOR, 0, 2), // must be equal: load-acquire saw what store-release wrote
			alu64X(isa.ADD, 0, 2),
			exit(),
		)
		wantR0(t, prog, nil, v&c.mask)
	}
}

// TestMemoryExhaustion: the region table never wraps past the top of the
// address space; once full, unmapped ids are reused oldest first, and with
// none free Map reports failure with address 0.
func TestMemoryExhaustion(t *testing.T) {
	m := NewMemory()
	if MaxRegions != 0x6000 {
		t.Fatalf("MaxRegions = %#x, want 0x6000 for RegionBase %#x", MaxRegions, RegionBase)
	}
	buf := make([]byte, 8)
	var last uint64
	for i := 1; i < MaxRegions; i++ {
		id, a := m.Map("r", buf, PermRW)
		if id == 0 || a < RegionBase || a <= last {
			t.Fatalf("map %d: id %d addr %#x (previous %#x)", i, id, a, last)
		}
		last = a
	}
	if id, a := m.Map("one too many", buf, PermRW); id != 0 || a != 0 {
		t.Fatalf("full table: Map = %d, %#x; want 0, 0", id, a)
	}
	m.Unmap(7)
	m.Unmap(3)
	m.Unmap(3) // a second unmap frees nothing more
	if _, err := m.Slice(RegionAddr(7, 0), 1, false); err == nil {
		t.Fatal("unmapped region still readable")
	}
	for _, want := range []RegionID{7, 3, 0} {
		if id, _ := m.Map("reuse", buf, PermRW); id != want {
			t.Fatalf("reuse: got id %d, want %d", id, want)
		}
	}
}
