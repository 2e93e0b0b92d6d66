package loader

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestStructOpsFlavorAndMissingMembers loads a struct_ops map typed as a
// ___flavor of sched_ext_ops that binds programs to members the kernel's
// struct lacks: it fills the kernel's struct, a program bound only to a
// missing member is not loaded (it could not be: it calls a helper the
// kernel lacks), one also bound to a present member is, and kfunc filters
// see the kernel's type and the present member.
func TestStructOpsFlavorAndMissingMembers(t *testing.T) {
	var seen []ProgContext
	opts := (&testKernel{}).options()
	opts.KfuncFilter = func(name string, pc ProgContext) bool {
		seen = append(seen, pc)
		return true
	}
	obj, err := Load(readObj(t, "opsdrop.bpf.o"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if !slices.Equal(obj.NotLoaded, []string{"drop_future"}) || obj.Program("drop_future") != nil {
		t.Errorf("NotLoaded = %v, drop_future loaded: %v", obj.NotLoaded, obj.Program("drop_future") != nil)
	}
	var names []string
	for _, p := range obj.Programs {
		names = append(names, p.Name)
	}
	// never (SEC("?...") and unbound) stays unloaded without being listed.
	if !slices.Equal(names, []string{"shared", "optional"}) {
		t.Fatalf("programs = %v, want shared and optional", names)
	}
	if len(obj.StructOps) != 1 {
		t.Fatalf("%d struct_ops", len(obj.StructOps))
	}
	so := obj.StructOps[0]
	if so.TypeName != "sched_ext_ops" || so.Form != FormCPU || so.Type.Name != "sched_ext_ops" || len(so.Data) != 184 {
		t.Errorf("struct_ops %s: type %s (%s) form %v, %d bytes", so.Name, so.TypeName, so.Type.Name, so.Form, len(so.Data))
	}
	if p := so.Prog("enqueue"); p == nil || p.Name != "shared" {
		t.Errorf("enqueue bound to %v", p)
	}
	if p := so.Prog("select_cpu"); p == nil || p.Name != "optional" || p.Section != "?struct_ops/optional" {
		t.Errorf("select_cpu bound to %+v", p)
	}
	for _, m := range so.Members {
		if m.Name == "future_op" || m.Name == "also_future" {
			t.Errorf("member %s in the kernel's struct", m.Name)
		}
	}
	if m, ok := so.Member("timeout_ms"); !ok || m.Int != 3000 {
		t.Errorf("timeout_ms = %+v", m)
	}
	if m, ok := so.Member("name"); !ok || m.Str != "flavored" {
		t.Errorf("name = %+v", m)
	}
	want := ProgContext{Name: "shared", Section: "struct_ops/shared", StructOps: "sched_ext_ops", Op: "enqueue"}
	if len(seen) == 0 || slices.ContainsFunc(seen, func(pc ProgContext) bool { return pc != want }) {
		t.Errorf("kfunc filter saw %+v, want only %+v", seen, want)
	}
	if s, err := Open(readObj(t, "opsdrop.bpf.o"), opts); err != nil {
		t.Error(err)
	} else if got := s.Programs(); !slices.Equal(got, []string{"drop_future", "shared", "optional", "never"}) {
		t.Errorf("opened programs: %v", got)
	}

	// On a kernel whose struct has future_op, drop_future is bound, loaded
	// and refused for its helper.
	withFuture := opts
	withFuture.KernelBTF = kernelBTFWith(t, func(types []btf.Type) {
		for _, typ := range types {
			if st, ok := typ.(*btf.Struct); ok && st.Name == "sched_ext_ops" {
				fp := &btf.Pointer{Target: &btf.FuncProto{Return: &btf.Void{}, Params: []btf.FuncParam{{Type: tU64}}}}
				st.Members = append(st.Members, member("future_op", fp, st.Size))
				st.Size += 8
			}
		}
	})
	_, err = Load(readObj(t, "opsdrop.bpf.o"), withFuture)
	if err == nil || !strings.Contains(err.Error(), "prog drop_future: insn ") || !strings.Contains(err.Error(), "cannot use helper bpf_get_prandom_u32#7") {
		t.Errorf("load on a kernel with future_op: %v", err)
	}
}

// kernelBTFWith builds the test kernel's BTF after edit changed its types.
func kernelBTFWith(t *testing.T, edit func([]btf.Type)) *btf.Spec {
	t.Helper()
	types := testKernelTypes()
	edit(types)
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestStructOpsProgReuse binds one program to enqueue in two maps (allowed)
// and to dispatch in a third: the load fails naming the third map, as
// libbpf's init_kern step does.
func TestStructOpsProgReuse(t *testing.T) {
	_, err := Load(readObj(t, "opsreuse.bpf.o"), (&testKernel{}).options())
	ops, opsID, ferr := findKernelType[*btf.Struct](testKernelBTF, "sched_ext_ops")
	if ferr != nil {
		t.Fatal(ferr)
	}
	enqueue := slices.IndexFunc(ops.Members, func(m btf.Member) bool { return m.Name == "enqueue" })
	want := fmt.Sprintf("struct_ops reloc ops_c: cannot use prog reused in sec struct_ops/reused with type 27 attach_btf_id %d expected_attach_type %d for func ptr dispatch", opsID, enqueue)
	if err == nil || !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
}
