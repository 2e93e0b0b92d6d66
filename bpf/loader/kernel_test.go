package loader

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

// A small target kernel for the tests: its BTF is built here, with layouts
// that deliberately differ from the ones the test objects were compiled
// against, plus the helper and kfunc tables the objects call.

var (
	tInt  = &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	tU32  = &btf.Int{Name: "unsigned int", Size: 4}
	tU64  = &btf.Int{Name: "unsigned long long", Size: 8}
	tBool = &btf.Int{Name: "_Bool", Size: 1, Encoding: btf.Bool}
	tChar = &btf.Int{Name: "char", Size: 1, Encoding: btf.Char | btf.Signed}
)

func member(name string, t btf.Type, offBytes uint32) btf.Member {
	return btf.Member{Name: name, Type: t, Offset: btf.Bits(offBytes * 8)}
}

func bitfield(name string, t btf.Type, offBits, size uint32) btf.Member {
	return btf.Member{Name: name, Type: t, Offset: btf.Bits(offBits), BitfieldSize: btf.Bits(size)}
}

func kfunc(name string, ret btf.Type, params ...btf.Type) *btf.Func {
	proto := &btf.FuncProto{Return: ret}
	for i, p := range params {
		proto.Params = append(proto.Params, btf.FuncParam{Name: fmt.Sprintf("a%d", i), Type: p})
	}
	return &btf.Func{Name: name, Type: proto, Linkage: btf.GlobalFunc}
}

// Kernel layout of the test types (see testdata/*.bpf.c for the layouts the
// objects were compiled with).
const (
	ktaskPid       = 28
	ktaskFlags     = 24
	ktaskComm      = 8
	ktaskScx       = 32
	kscxWeight     = 0
	kscxSlice      = 16
	kscxDsqVtime   = 24
	ktaskBitfields = 64 // u32 container: bf_s:4 @0, bf_a:3 @4, bf_b:5 @7
	ktaskSize      = 72

	sliceDfl = 20_000_000
	dsqLocal = 1<<63 | 2
)

func testKernelTypes() []btf.Type {
	commArr := &btf.Array{Index: tU32, Type: tChar, Nelems: 16}
	scx := &btf.Struct{Name: "sched_ext_entity", Size: 32, Members: []btf.Member{
		member("weight", tU32, kscxWeight),
		member("extra", tU64, 8),
		member("slice", tU64, kscxSlice),
		member("dsq_vtime", tU64, kscxDsqVtime),
	}}
	task := &btf.Struct{Name: "task_struct", Size: ktaskSize, Members: []btf.Member{
		member("extra0", tU64, 0),
		member("comm", commArr, ktaskComm),
		member("flags", tU32, ktaskFlags),
		member("pid", tInt, ktaskPid),
		member("scx", scx, ktaskScx),
		bitfield("bf_s", tInt, ktaskBitfields*8, 4),
		bitfield("bf_a", tU32, ktaskBitfields*8+4, 3),
		bitfield("bf_b", tU32, ktaskBitfields*8+7, 5),
	}}
	taskPtr := &btf.Pointer{Target: task}
	opsProto := func(params ...btf.Type) *btf.Pointer {
		fp := &btf.FuncProto{Return: &btf.Void{}}
		for _, p := range params {
			fp.Params = append(fp.Params, btf.FuncParam{Type: p})
		}
		return &btf.Pointer{Target: fp}
	}
	name := &btf.Array{Index: tU32, Type: tChar, Nelems: 128}
	ops := &btf.Struct{Name: "sched_ext_ops", Size: 184, Members: []btf.Member{
		member("select_cpu", opsProto(taskPtr, tInt, tU64), 0),
		member("enqueue", opsProto(taskPtr, tU64), 8),
		member("dequeue", opsProto(taskPtr, tU64), 16),
		member("dispatch", opsProto(tInt, taskPtr), 24),
		member("dispatch_max_batch", tU32, 32),
		member("timeout_ms", tU32, 36),
		member("flags", tU64, 40),
		member("name", name, 48),
		member("hotplug_seq", tU64, 176),
	}}
	opsCid := &btf.Struct{Name: "sched_ext_ops_cid", Size: 8, Members: []btf.Member{
		member("select_cid", opsProto(taskPtr, tInt, tU64), 0),
	}}
	flags := &btf.Enum{Name: "scx_test_flags", Size: 4, Values: []btf.EnumValue{{Name: "TEST_B", Value: 20}, {Name: "TEST_A", Value: 10}}}
	consts := &btf.Enum{Name: "scx_public_consts", Size: 8, Values: []btf.EnumValue{{Name: "SCX_OPS_NAME_LEN", Value: 128}, {Name: "SCX_SLICE_DFL", Value: sliceDfl}}}
	dsq := &btf.Enum{Name: "scx_dsq_id_flags", Size: 8, Values: []btf.EnumValue{{Name: "SCX_DSQ_LOCAL", Value: dsqLocal}}}
	return []btf.Type{
		tInt, tU32, tU64, tBool, tChar, task, ops, opsCid, flags, consts, dsq,
		kfunc("scx_bpf_kick_cpu", &btf.Void{}, tInt, tU64),
		kfunc("scx_bpf_dsq_insert___v2", tBool, taskPtr, tU64, tU64, tU64),
		kfunc("bpf_arena_alloc_pages", &btf.Pointer{Target: &btf.Void{}}, tU64, tU64, tU32, tInt, tU64),
		&btf.Var{Name: "sd_llc_size", Type: tInt, Linkage: btf.GlobalVar},
		sizedKernelType(),
	}
}

// Kernel layout of struct sized (testdata/coresize.bpf.c has the object's
// view, with other field sizes).
const (
	ksizedPtr  = 0  // void *
	ksizedA    = 8  // u64 (object: u32)
	ksizedB    = 16 // u32 (object: u64)
	ksizedC    = 20 // u8 (object: u16)
	ksizedE    = 24 // s32 (object: s32)
	ksizedD    = 32 // s64 (object: s32)
	ksizedF    = 40 // s32 (object: short)
	ksizedSt   = 48 // 8-byte enum (object: 4-byte enum)
	ksizedArr  = 56 // u64[4] (object: u32[4])
	ksizedWide = 88 // u32 (coresize_narrow.bpf.c: u64)
	ksizedMid  = 92 // u8 (object: an 8-bit bitfield)
	ksizedSize = 96
)

func sizedKernelType() *btf.Struct {
	s64 := &btf.Int{Name: "long long", Size: 8, Encoding: btf.Signed}
	u8 := &btf.Int{Name: "unsigned char", Size: 1}
	state := &btf.Enum{Name: "sized_state", Size: 8, Values: []btf.EnumValue{{Name: "SIZED_IDLE", Value: 0}, {Name: "SIZED_BUSY", Value: 1 << 40}}}
	return &btf.Struct{Name: "sized", Size: ksizedSize, Members: []btf.Member{
		member("ptr", &btf.Pointer{Target: &btf.Void{}}, ksizedPtr),
		member("a", tU64, ksizedA),
		member("b", tU32, ksizedB),
		member("c", u8, ksizedC),
		member("e", tInt, ksizedE),
		member("d", s64, ksizedD),
		member("f", tInt, ksizedF),
		member("st", state, ksizedSt),
		member("arr", &btf.Array{Index: tU32, Type: tU64, Nelems: 4}, ksizedArr),
		member("wide", tU32, ksizedWide),
		member("mid", u8, ksizedMid),
	}}
}

var testKernelBTF = func() *btf.Spec {
	b, err := btf.NewBuilder(testKernelTypes(), nil)
	if err != nil {
		panic(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		panic(err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		panic(err)
	}
	return spec
}()

// kcall records one kfunc call.
type kcall struct {
	name string
	args [5]uint64
}

// testKernel is the per-test state of the fake kernel.
type testKernel struct {
	calls []kcall
}

const sdLLCSizeAddr = 0xffff_ffff_8300_1000

func (k *testKernel) options() Options {
	return Options{
		KernelBTF:     testKernelBTF,
		KernelVersion: kernelVersionCode(7, 0, 0),
		Kconfig:       map[string]string{"CONFIG_NR_CPUS": "64", "CONFIG_PREEMPT_RCU": "y"},
		KernelSymbols: map[string]uint64{"sd_llc_size": sdLLCSizeAddr},
		NumCPU:        4,
		Helpers: func(id int32) (vm.Helper, bool) {
			switch id {
			case 1:
				return helperMapLookup, true
			case 5:
				return func(*vm.Exec, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 1000, nil }, true
			case 181:
				return helperLoop, true
			}
			return nil, false
		},
		Kfuncs: func(name string) (vm.Helper, bool) {
			switch name {
			case "scx_bpf_kick_cpu", "scx_bpf_dsq_insert___v2":
				return func(e *vm.Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) {
					k.calls = append(k.calls, kcall{name, [5]uint64{r1, r2, r3, r4, r5}})
					return 1, nil
				}, true
			}
			return nil, false
		},
	}
}

func helperMapLookup(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	m, ok := maps.RegistryOf(e.Mem).Lookup(r1)
	if !ok {
		return 0, errors.New("not a map")
	}
	key, err := e.Slice(r2, int(m.Spec().KeySize), false)
	if err != nil {
		return 0, err
	}
	return m.LookupElem(e.CPU, key), nil
}

func helperLoop(e *vm.Exec, n, fn, ctx, _, _ uint64) (uint64, error) {
	for i := uint64(0); i < n; i++ {
		ret, err := e.Call(fn, i, ctx)
		if err != nil {
			return 0, err
		}
		if ret == 1 {
			return i + 1, nil
		}
	}
	return n, nil
}

func readObj(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// mapRegion maps data into mem and returns its address.
func mapRegion(mem *vm.Memory, name string, data []byte) uint64 {
	_, addr := mem.Map(name, data, vm.PermRW)
	return addr
}

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

type vmHelper = vm.Helper

func nopHelper(*vm.Exec, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, nil }
