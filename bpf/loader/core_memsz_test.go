package loader

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/vm"
)

// sizedKernel is a struct sized instance in the test kernel's layout.
type sizedKernel struct {
	ptr, a uint64
	b      uint32
	c      uint8
	e      int32
	arr    [4]uint64
}

func (k sizedKernel) bytes() []byte {
	b := make([]byte, ksizedSize)
	for i := range b {
		b[i] = 0xee // padding and untouched fields show stray accesses
	}
	le := binary.LittleEndian
	le.PutUint64(b[ksizedPtr:], k.ptr)
	le.PutUint64(b[ksizedA:], k.a)
	le.PutUint32(b[ksizedB:], k.b)
	b[ksizedC] = k.c
	le.PutUint32(b[ksizedE:], uint32(k.e))
	for i, v := range k.arr {
		le.PutUint64(b[ksizedArr+8*i:], v)
	}
	return b
}

// runSized runs prog with ctx = {&kernel struct, args...}; data is the
// kernel struct, shared with the program.
func runSized(t *testing.T, obj *Object, prog string, data []byte, args ...uint64) (uint64, error) {
	t.Helper()
	p := obj.Program(prog)
	if p == nil {
		t.Fatalf("no program %s", prog)
	}
	ctx := binary.LittleEndian.AppendUint64(nil, mapRegion(obj.Memory, "sized", data))
	for _, a := range args {
		ctx = binary.LittleEndian.AppendUint64(ctx, a)
	}
	return vm.NewExec(obj.Memory).Run(p.VM, mapRegion(obj.Memory, "ctx", ctx))
}

func loadSized(t *testing.T) *Object {
	t.Helper()
	obj, err := Load(readObj(t, "coresize.bpf.o"), (&testKernel{}).options())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(obj.Close)
	return obj
}

// TestCOREMemSizeRelocations checks how each field access of
// coresize.bpf.c was relocated: resized where libbpf resizes, poisoned where
// it refuses.
func TestCOREMemSizeRelocations(t *testing.T) {
	obj := loadSized(t)
	tests := []struct {
		spec, fn       string
		orig, new      uint32
		poisoned       bool
		reasonContains string
	}{
		{"struct sized.a", "read_sized", 4, 8, false, ""},
		{"struct sized.b", "read_sized", 8, 4, false, ""},
		{"struct sized.c", "read_sized", 2, 1, false, ""},
		{"struct sized.e", "read_sized", 4, 4, false, ""},
		{"struct sized.ptr", "read_sized", 8, 8, false, ""},
		{"struct sized.arr[2]", "read_sized", 4, 8, false, ""},
		{"struct sized.a", "write_sized", 4, 8, false, ""},
		{"struct sized.b", "write_sized", 8, 4, false, ""},
		{"struct sized.c", "write_sized", 2, 1, false, ""},
		{"struct sized.arr[1]", "write_sized", 4, 8, false, ""},
		{"struct sized.d", "read_d", 4, 8, true, "4-byte signed integer here, 8-byte signed integer in the kernel"},
		{"struct sized.f", "read_f", 2, 4, true, "2-byte signed integer here, 4-byte signed integer in the kernel"},
		{"struct sized.st", "read_st", 4, 8, true, "4-byte enum sized_state here, 8-byte enum sized_state in the kernel"},
		{"struct sized.mid", "read_mid", 0, 1, true, "a bitfield here, 1-byte unsigned integer in the kernel"},
	}
	for _, tt := range tests {
		var r *CORERelo
		for i := range obj.CORE {
			if c := &obj.CORE[i]; c.Spec == tt.spec && c.Func == tt.fn && c.Kind == "byte_off" {
				r = c
			}
		}
		if r == nil {
			t.Errorf("%s in %s: no byte_off relocation", tt.spec, tt.fn)
			continue
		}
		if r.OrigSize != tt.orig || r.NewSize != tt.new || r.Poisoned != tt.poisoned {
			t.Errorf("%v: sizes %d->%d poisoned=%v, want %d->%d poisoned=%v", r, r.OrigSize, r.NewSize, r.Poisoned, tt.orig, tt.new, tt.poisoned)
		}
		if !strings.Contains(r.PoisonReason, tt.reasonContains) || (tt.reasonContains == "") != (r.PoisonReason == "") {
			t.Errorf("%v: reason %q, want one containing %q", r, r.PoisonReason, tt.reasonContains)
		}
		if !tt.poisoned && tt.orig != tt.new && !strings.HasSuffix(r.Fixup(), fmt.Sprintf("mem_sz=%d->%d", tt.orig, tt.new)) {
			t.Errorf("%v: Fixup() = %q does not show the resize", r, r.Fixup())
		}
	}
}

// TestCOREMemSizeRead runs loads whose field size differs in the kernel and
// checks every value read, including bits a wrongly sized load would lose
// or pick up from the neighbouring field.
func TestCOREMemSizeRead(t *testing.T) {
	obj := loadSized(t)
	tests := []sizedKernel{
		{ptr: 0xffff_8880_1234_5678, a: 0x1_0000_0005, b: 0xdead_beef, c: 0xab, e: -7, arr: [4]uint64{1, 2, 0x1_2345_6789_abcd, 4}},
		{ptr: 0, a: ^uint64(0), b: 0, c: 0, e: 0x7fff_ffff, arr: [4]uint64{0, 0, 0x8000_0000_0000_0000, 0}},
		{ptr: 1, a: 0, b: 0xffff_ffff, c: 0xff, e: -2147483648},
	}
	for _, k := range tests {
		if _, err := runSized(t, obj, "read_sized", k.bytes()); err != nil {
			t.Fatal(err)
		}
		raw, err := obj.ReadGlobal("out")
		if err != nil {
			t.Fatal(err)
		}
		want := []uint64{k.a, uint64(k.b), uint64(k.c), uint64(int64(k.e)), k.ptr, k.arr[2]}
		for i, w := range want {
			if got := le64(raw[8*i:]); got != w {
				t.Errorf("kernel %+v: out[%d] = %#x, want %#x", k, i, got, w)
			}
		}
	}
}

// TestCOREMemSizeWrite runs stores whose field size differs in the kernel
// and checks the kernel struct's bytes afterwards.
func TestCOREMemSizeWrite(t *testing.T) {
	obj := loadSized(t)
	tests := []struct {
		name         string
		arg1, arg2   uint64
		wantA, wantB uint64
	}{
		{"small values", 7, 0x1122_3344_5566_7788, 7, 0x5566_7788},
		{"zero", 0, 0, 0, 0},
		// A store resized from 4 to 8 bytes writes the whole register, as
		// it does in the kernel after libbpf's adjustment.
		{"register wider than the local field", 0xaaaa_bbbb_0000_0007, ^uint64(0), 0xaaaa_bbbb_0000_0007, 0xffff_ffff},
	}
	for _, tt := range tests {
		before := sizedKernel{a: ^uint64(0), b: 0x0101_0101, c: 0x55, arr: [4]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}}.bytes()
		after := slices.Clone(before)
		if _, err := runSized(t, obj, "write_sized", after, tt.arg1, tt.arg2); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		want := slices.Clone(before)
		le := binary.LittleEndian
		le.PutUint64(want[ksizedA:], tt.wantA)
		le.PutUint32(want[ksizedB:], uint32(tt.wantB))
		want[ksizedC] = 9
		le.PutUint64(want[ksizedArr+8:], tt.wantA)
		for i := range want {
			if after[i] != want[i] {
				t.Errorf("%s: byte %d = %#x, want %#x", tt.name, i, after[i], want[i])
			}
		}
	}
}

// TestCOREMemSizePoisoned runs the accesses libbpf refuses to resize: each
// stops the program naming its relocation and the reason.
func TestCOREMemSizePoisoned(t *testing.T) {
	obj := loadSized(t)
	for _, tt := range []struct{ prog, field string }{
		{"read_d", "d"}, {"read_f", "f"}, {"read_st", "st"}, {"read_mid", "mid"},
	} {
		_, err := runSized(t, obj, tt.prog, sizedKernel{}.bytes())
		if err == nil || !strings.Contains(err.Error(), "prog "+tt.prog+": insn 1: poisoned CO-RE relocation #") ||
			!strings.Contains(err.Error(), "byte_off struct sized."+tt.field+" (insn accesses field incorrectly") {
			t.Errorf("%s: error %v", tt.prog, err)
		}
	}
}

// TestCOREMemSizeUnexpected loads an object whose 4-byte load reads an
// 8-byte field the kernel shrank: libbpf fails the load.
func TestCOREMemSizeUnexpected(t *testing.T) {
	_, err := Load(readObj(t, "coresize_narrow.bpf.o"), (&testKernel{}).options())
	if err == nil || !errors.Is(err, syscall.EINVAL) ||
		!strings.Contains(err.Error(), "prog 'read_narrow': relo #0: insn #1 (LDX/ST/STX) unexpected mem size: got 4, exp 8") {
		t.Fatalf("error = %v", err)
	}
}

// TestMemSizeAdjustable checks libbpf's rule for which field types a load
// or store may be resized for.
func TestMemSizeAdjustable(t *testing.T) {
	u32 := &btf.Int{Size: 4}
	u64 := &btf.Int{Size: 8}
	s32 := &btf.Int{Size: 4, Encoding: btf.Signed}
	s64 := &btf.Int{Size: 8, Encoding: btf.Signed}
	schar := &btf.Int{Size: 1, Encoding: btf.Signed | btf.Char}
	boolean := &btf.Int{Size: 1, Encoding: btf.Bool}
	ptr := &btf.Pointer{Target: &btf.Void{}}
	enum := &btf.Enum{Name: "e", Size: 4}
	tests := []struct {
		name        string
		local, targ btf.Type
		want        bool
	}{
		{"unsigned to unsigned", u32, u64, true},
		{"pointer to pointer", ptr, ptr, true},
		{"bool to unsigned", boolean, u32, true},
		// libbpf compares the whole encoding with BTF_INT_SIGNED.
		{"signed char encoding", schar, u32, true},
		{"signed to signed", s32, s64, false},
		{"unsigned to signed", u32, s64, false},
		{"signed to unsigned", s64, u32, false},
		{"enum", enum, enum, false},
		{"pointer to integer", ptr, u64, false},
		{"integer to pointer", u64, ptr, false},
	}
	for _, tt := range tests {
		if got := memSizeAdjustable(tt.local, tt.targ); got != tt.want {
			t.Errorf("%s: memSizeAdjustable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestCOREFieldMatch walks field accesses through anonymous members,
// arrays and flexible arrays on a local and a target layout, as libbpf's
// spec parsing and matching do, and checks the target offset, size and
// whether the access matched at all.
func TestCOREFieldMatch(t *testing.T) {
	u16 := &btf.Int{Size: 2}
	u64 := &btf.Int{Size: 8}
	ptr := &btf.Pointer{Target: &btf.Void{}}
	// local: struct s { u32 x; union { u32 a; u16 b; }; u32 arr[2]; u32 tail[]; }
	localUnion := &btf.Union{Size: 4, Members: []btf.Member{member("a", tU32, 0), member("b", u16, 0)}}
	local := &btf.Struct{Name: "s", Size: 16, Members: []btf.Member{
		member("x", tU32, 0),
		member("", localUnion, 4),
		member("arr", &btf.Array{Index: tU32, Type: tU32, Nelems: 2}, 8),
		member("tail", &btf.Array{Index: tU32, Type: tU32, Nelems: 0}, 16),
	}}
	// target: struct s { u64 pad; struct { u64 a; ptr b; }; u64 arr[1]; u64 x; u64 tail[]; }
	targStruct := &btf.Struct{Size: 16, Members: []btf.Member{member("a", u64, 0), member("b", ptr, 8)}}
	targ := &btf.Struct{Name: "s", Size: 40, Members: []btf.Member{
		member("pad", u64, 0),
		member("", targStruct, 8),
		member("arr", &btf.Array{Index: tU32, Type: u64, Nelems: 1}, 24),
		member("x", u64, 32),
		member("tail", &btf.Array{Index: tU32, Type: u64, Nelems: 0}, 40),
	}}
	tests := []struct {
		access        string
		match         bool
		off, size     uint32
		localSizeWant uint32
	}{
		{"0:0", true, 32, 8, 4},   // x moved and grew
		{"0:1:0", true, 8, 8, 4},  // a through anonymous members
		{"0:1:1", false, 0, 0, 2}, // b: u16 here, pointer there
		{"0:2:0", true, 24, 8, 4}, // arr[0]
		{"0:2:1", false, 0, 0, 4}, // arr[1] is out of the target's bounds
		{"0:3:5", true, 80, 8, 4}, // flexible array: any index
		{"1:0", true, 72, 8, 4},   // s[1].x
	}
	for _, tt := range tests {
		raw, err := parseAccessString(tt.access)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := parseCOREFieldSpec(local, raw)
		if err != nil {
			t.Fatalf("%s: %v", tt.access, err)
		}
		if _, lsz, _, err := ls.memAccess(); err != nil || lsz != tt.localSizeWant {
			t.Errorf("%s: local size %d (%v), want %d", tt.access, lsz, err, tt.localSizeWant)
		}
		ts, ok, err := matchCOREFieldSpec(ls, targ)
		if err != nil || ok != tt.match {
			t.Errorf("%s: matched %v (%v), want %v", tt.access, ok, err, tt.match)
			continue
		}
		if !ok {
			continue
		}
		off, sz, _, err := ts.memAccess()
		if err != nil || off != tt.off || sz != tt.size {
			t.Errorf("%s: target off %d size %d (%v), want %d %d", tt.access, off, sz, err, tt.off, tt.size)
		}
	}
	for _, bad := range []string{"", ":0", "0:x", "0:-1", "0:9", "0:0:0"} {
		raw, err := parseAccessString(bad)
		if err == nil {
			_, err = parseCOREFieldSpec(local, raw)
		}
		if err == nil {
			t.Errorf("access %q parsed", bad)
		}
	}
}
