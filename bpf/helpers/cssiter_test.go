package helpers

import (
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

// noWalker is a Kernel that cannot walk cgroups.
type noWalker struct{ Kernel }

func TestIterCSS(t *testing.T) {
	mem := vm.NewMemory()
	k := NewFakeKernel(mem, 2, Options{})
	// root ─┬─ a ─┬─ a1
	//       │     └─ a2
	//       └─ b ─── b1
	root := k.NewCgroup(1, 0)
	a := k.NewCgroup(2, root)
	b := k.NewCgroup(3, root)
	a1 := k.NewCgroup(4, a)
	b1 := k.NewCgroup(5, b)
	a2 := k.NewCgroup(6, a)
	names := map[uint64]string{root: "root", a: "a", b: "b", a1: "a1", a2: "a2", b1: "b1"}
	e := k.Exec(0)
	_, it := mem.Map("bpf_iter_css", make([]byte, 24), vm.PermRW)

	walk := func(start uint64, flags uint32) (int64, []string) {
		t.Helper()
		ret, err := iterCSSNew(e, it, start, uint64(flags), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for range 20 {
			pos, err := iterCSSNext(e, it, 0, 0, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if pos == 0 {
				break
			}
			out = append(out, names[pos])
		}
		if _, err := iterCSSDestroy(e, it, 0, 0, 0, 0); err != nil {
			t.Fatal(err)
		}
		return int64(ret), out
	}
	tests := []struct {
		start uint64
		flags uint32
		ret   int64
		want  string
	}{
		{root, CSSIterDescendantsPre, 0, "root a a1 a2 b b1"},
		{root, CSSIterDescendantsPost, 0, "a1 a2 a b1 b root"},
		{a, CSSIterDescendantsPre, 0, "a a1 a2"},
		{b, CSSIterDescendantsPost, 0, "b1 b"},
		{a1, CSSIterDescendantsPre, 0, "a1"},
		{a2, CSSIterAncestorsUp, 0, "a2 a root"},
		{root, CSSIterAncestorsUp, 0, "root"},
		{root, 0, -int64(syscall.EINVAL), ""}, // BPF_CGROUP_ITER_ORDER_UNSPEC
		{root, 1, -int64(syscall.EINVAL), ""}, // BPF_CGROUP_ITER_SELF_ONLY
		{root, 5, -int64(syscall.EINVAL), ""},
		{0, CSSIterDescendantsPre, 0, ""},
	}
	for _, tc := range tests {
		ret, got := walk(tc.start, tc.flags)
		if ret != tc.ret || strings.Join(got, " ") != tc.want {
			t.Errorf("from %s, order %d: ret %d, %q; want %d, %q", names[tc.start], tc.flags, ret, got, tc.ret, tc.want)
		}
	}
	// The css's first word points back at its cgroup (css->cgroup).
	for c := range names {
		if v, err := mem.ReadU64(c); err != nil || v != c {
			t.Errorf("cgroup %s: css->cgroup = %#x (%v)", names[c], v, err)
		}
	}
	if !slices.Equal(k.CgroupChildren(a), []uint64{a1, a2}) || k.CgroupParent(root) != 0 {
		t.Error("CgroupWalker of the fake kernel")
	}

	// A kernel that cannot walk cgroups stops the program.
	e.Ctx = noWalker{k}
	if _, err := iterCSSNew(e, it, root, CSSIterDescendantsPre, 0, 0); err == nil || !strings.Contains(err.Error(), "does not walk its cgroups") {
		t.Errorf("bpf_iter_css_new without a CgroupWalker: %v", err)
	}
}

// TestIdentityKfuncs covers the kfuncs with no simulated effect: the IRQ
// flags word is written as 0 (and must be valid memory), the casts return
// their pointer.
func TestIdentityKfuncs(t *testing.T) {
	v := newEnv(t, 1)
	flags, fb := v.buf(8)
	for i := range fb {
		fb[i] = 0xaa
	}
	if r := v.kcall(0, "bpf_local_irq_save", flags); r != 0 || fb[0] != 0 || fb[7] != 0 {
		t.Errorf("bpf_local_irq_save: %d, flags % x", r, fb)
	}
	if r := v.kcall(0, "bpf_local_irq_restore", flags); r != 0 {
		t.Errorf("bpf_local_irq_restore: %d", r)
	}
	for _, name := range []string{"bpf_cast_to_kern_ctx", "bpf_rdonly_cast"} {
		if r := v.kcall(0, name, flags, 7); r != flags {
			t.Errorf("%s(%#x) = %#x", name, flags, r)
		}
	}
	if h, _ := v.tab.Kfunc("bpf_local_irq_save"); h != nil {
		if _, err := h(v.k.Exec(0), 8, 0, 0, 0, 0); err == nil {
			t.Error("bpf_local_irq_save on a bad pointer did not stop the program")
		}
	}
}
