package ktypes

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// essentialName strips the last libbpf flavor suffix ("X___Y" -> "X").
func essentialName(name string) string {
	for i := len(name) - 5; i >= 0; i-- {
		if name[i] != '_' && name[i+1] == '_' && name[i+2] == '_' && name[i+3] == '_' && name[i+4] != '_' {
			return name[:i+1]
		}
	}
	return name
}

func TestEssentialName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"scx_bpf_dsq_insert___v2___compat", "scx_bpf_dsq_insert___v2"},
		{"scx_bpf_dsq_insert___compat", "scx_bpf_dsq_insert"},
		{"scx_bpf_kick_cpu", "scx_bpf_kick_cpu"},
		{"__scx_bpf_dsq_insert_vtime", "__scx_bpf_dsq_insert_vtime"},
		{"a____b", "a____b"}, // "X___Y" needs Y != '_'
	} {
		if got := essentialName(c.in); got != c.want {
			t.Errorf("essentialName(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func schedulerObjects(t *testing.T) []string {
	t.Helper()
	var objs []string
	root := filepath.Join(repoRoot(t), "schedulers")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".bpf.o") {
			objs = append(objs, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(objs)
	if len(objs) < 9 {
		t.Fatalf("found %d scheduler objects under %s, want the 9 the repository ships", len(objs), root)
	}
	return objs
}

// Every object built from the SDK must fit the simulated kernel's BTF as a
// libbpf-style loader sees it: each kfunc extern resolves (after flavor
// stripping) to a kernel FUNC with a compatible prototype, each CO-RE
// relocation resolves without poisoning, and the struct_ops value's
// members are members of the kernel's ops struct at the same offsets.
func TestSchedulerObjectsMatchKernelBTF(t *testing.T) {
	kernel, err := BTF()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range schedulerObjects(t) {
		name, _ := filepath.Rel(repoRoot(t), path)
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			spec, ext, err := btf.LoadSpecAndExtInfosFromReader(f)
			if err != nil {
				t.Fatal(err)
			}
			checkExterns(t, spec, kernel)
			checkCORE(t, spec, ext, kernel)
			checkStructOps(t, spec, kernel)
		})
	}
}

func checkExterns(t *testing.T, obj, kernel *btf.Spec) {
	n := 0
	for typ, err := range obj.All() {
		if err != nil {
			t.Fatal(err)
		}
		fn, ok := typ.(*btf.Func)
		if !ok || fn.Linkage != btf.ExternFunc {
			continue
		}
		n++
		kname := essentialName(fn.Name)
		var kfn *btf.Func
		if err := kernel.TypeByName(kname, &kfn); err != nil {
			t.Errorf("extern %s: kernel has no %s: %v", fn.Name, kname, err)
			continue
		}
		lp, kp := fn.Type.(*btf.FuncProto), kfn.Type.(*btf.FuncProto)
		if len(lp.Params) != len(kp.Params) {
			t.Errorf("extern %s: %d params, kernel %s has %d", fn.Name, len(lp.Params), kname, len(kp.Params))
		}
		_, lvoid := lp.Return.(*btf.Void)
		_, kvoid := kp.Return.(*btf.Void)
		if lvoid != kvoid {
			t.Errorf("extern %s: return type %v, kernel %s returns %v", fn.Name, lp.Return, kname, kp.Return)
		}
	}
	if n == 0 {
		t.Error("object calls no kfunc")
	}
}

func checkCORE(t *testing.T, obj *btf.Spec, ext *btf.ExtInfos, kernel *btf.Spec) {
	if ext == nil {
		return
	}
	secs := make([]string, 0, len(ext.CORERelos))
	for sec := range ext.CORERelos {
		secs = append(secs, sec)
	}
	sort.Strings(secs)
	for _, sec := range secs {
		var relos []*btf.CORERelocation
		for _, r := range ext.CORERelos[sec] {
			relos = append(relos, r.Relo)
		}
		fixups, err := btf.CORERelocate(relos, []*btf.Spec{kernel}, binary.LittleEndian, obj.TypeID)
		if err != nil {
			t.Errorf("%s: CO-RE: %v", sec, err)
			continue
		}
		for i, fx := range fixups {
			if strings.HasSuffix(fx.String(), "=poison") {
				t.Errorf("%s: CO-RE relocation %v does not resolve", sec, relos[i])
			}
		}
	}
}

func checkStructOps(t *testing.T, obj, kernel *btf.Spec) {
	var ds *btf.Datasec
	if err := obj.TypeByName(".struct_ops.link", &ds); err != nil {
		if errors.Is(err, btf.ErrNotFound) {
			t.Fatal("no .struct_ops.link section")
		}
		t.Fatal(err)
	}
	for _, vs := range ds.Vars {
		v := vs.Type.(*btf.Var)
		local, ok := btf.UnderlyingType(v.Type).(*btf.Struct)
		if !ok {
			t.Fatalf("struct_ops %s is %v", v.Name, v.Type)
		}
		var kst *btf.Struct
		if err := kernel.TypeByName(local.Name, &kst); err != nil {
			t.Fatalf("struct_ops type %s: %v", local.Name, err)
		}
		offs := map[string]btf.Bits{}
		for _, m := range kst.Members {
			offs[m.Name] = m.Offset
		}
		for _, m := range local.Members {
			if off, ok := offs[m.Name]; !ok || off != m.Offset {
				t.Errorf("%s.%s at bit %d, kernel has %v/%v", local.Name, m.Name, m.Offset, off, ok)
			}
		}
	}
}
