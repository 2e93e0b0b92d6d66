package ktypes

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// The BTF must carry the model: same struct sizes and member offsets, enum
// values, one FUNC per kfunc with its parameters, and the per-CPU DATASEC.
func TestBTFMatchesModel(t *testing.T) {
	spec, err := BTF()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range reg().structOrder {
		if !s.Defined() {
			var fwd *btf.Fwd
			if err := spec.TypeByName(s.Name, &fwd); err != nil {
				t.Errorf("forward %s: %v", s.Name, err)
			}
			continue
		}
		var members []btf.Member
		var size uint32
		if s.Union {
			var u *btf.Union
			if err := spec.TypeByName(s.Name, &u); err != nil {
				t.Errorf("union %s: %v", s.Name, err)
				continue
			}
			members, size = u.Members, u.Size
		} else {
			var st *btf.Struct
			if err := spec.TypeByName(s.Name, &st); err != nil {
				t.Errorf("struct %s: %v", s.Name, err)
				continue
			}
			members, size = st.Members, st.Size
		}
		if int(size) != s.Size() || len(members) != len(s.Members) {
			t.Errorf("%s: BTF size %d with %d members, model %d with %d", s.Name, size, len(members), s.Size(), len(s.Members))
			continue
		}
		for i, m := range members {
			if m.Name != s.Members[i].Name || int(m.Offset) != 8*s.Members[i].Offset {
				t.Errorf("%s member %d: BTF %s@%d, model %s@%d", s.Name, i, m.Name, m.Offset/8, s.Members[i].Name, s.Members[i].Offset)
			}
		}
	}

	var dsq *btf.Enum
	if err := spec.TypeByName("scx_dsq_id_flags", &dsq); err != nil {
		t.Fatal(err)
	}
	want, _ := EnumValue("SCX_DSQ_LOCAL_ON")
	found := false
	for _, v := range dsq.Values {
		if v.Name == "SCX_DSQ_LOCAL_ON" {
			found = v.Value == want
		}
	}
	if !found || dsq.Size != 8 {
		t.Errorf("scx_dsq_id_flags in BTF: size %d, SCX_DSQ_LOCAL_ON ok=%v", dsq.Size, found)
	}

	for _, k := range Kfuncs() {
		var f *btf.Func
		if err := spec.TypeByName(k.Name, &f); err != nil {
			t.Errorf("kfunc %s: %v", k.Name, err)
			continue
		}
		proto := f.Type.(*btf.FuncProto)
		if len(proto.Params) != len(k.Proto.Params) || f.Linkage != btf.GlobalFunc {
			t.Errorf("kfunc %s: %d params linkage %v, want %d global", k.Name, len(proto.Params), f.Linkage, len(k.Proto.Params))
			continue
		}
		for i, pr := range proto.Params {
			if pr.Name != k.Proto.Params[i].Name {
				t.Errorf("kfunc %s param %d named %q, want %q", k.Name, i, pr.Name, k.Proto.Params[i].Name)
			}
		}
	}

	var ds *btf.Datasec
	if err := spec.TypeByName(PerCPUSection, &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Vars) != len(KernelVars()) || int(ds.Size) != PerCPUSize() {
		t.Errorf("%s: %d vars size %d", PerCPUSection, len(ds.Vars), ds.Size)
	}
	for i, vs := range ds.Vars {
		v := vs.Type.(*btf.Var)
		kv := KernelVars()[i]
		if v.Name != kv.Name || int(vs.Offset) != kv.Offset || int(vs.Size) != kv.Size {
			t.Errorf("datasec var %d: %s@%d+%d, want %s@%d+%d", i, v.Name, vs.Offset, vs.Size, kv.Name, kv.Offset, kv.Size)
		}
	}

	// The struct_ops value wrapper libbpf looks up must exist.
	for _, n := range []string{"bpf_struct_ops_sched_ext_ops", "bpf_struct_ops_sched_ext_ops_cid"} {
		var st *btf.Struct
		if err := spec.TypeByName(n, &st); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	// So must the cfi stubs carrying __nullable argument names.
	var stub *btf.Func
	if err := spec.TypeByName("sched_ext_ops__dispatch", &stub); err != nil {
		t.Fatal(err)
	}
	if got := stub.Type.(*btf.FuncProto).Params[1].Name; got != "prev__nullable" {
		t.Errorf("dispatch stub arg 1 named %q", got)
	}
}

func TestRawBTFIsStable(t *testing.T) {
	a, err := RawBTF()
	if err != nil {
		t.Fatal(err)
	}
	b, err := marshalBTF(build())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two builds of the kernel BTF differ")
	}
	a[0] ^= 0xff // RawBTF hands out a copy
	c, _ := RawBTF()
	if bytes.Equal(a, c) {
		t.Error("RawBTF returned shared memory")
	}
}

func TestKfuncBTFID(t *testing.T) {
	spec, err := BTF()
	if err != nil {
		t.Fatal(err)
	}
	id, err := KfuncBTFID("scx_bpf_kick_cpu")
	if err != nil {
		t.Fatal(err)
	}
	typ, err := spec.TypeByID(id)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := typ.(*btf.Func); !ok || f.Name != "scx_bpf_kick_cpu" {
		t.Errorf("id %d is %v", id, typ)
	}
	if _, err := KfuncBTFID("scx_bpf_nosuch"); !errors.Is(err, btf.ErrNotFound) {
		t.Errorf("unknown kfunc: %v", err)
	}
}

func TestKfuncAllowed(t *testing.T) {
	for _, c := range []struct {
		kfunc string
		prog  ProgType
		op    string
		cid   bool
		want  bool
	}{
		{"scx_bpf_dsq_insert___v2", ProgStructOps, "enqueue", false, true},
		{"scx_bpf_dsq_insert___v2", ProgStructOps, "select_cpu", false, true},
		{"scx_bpf_dsq_insert___v2", ProgStructOps, "dispatch", false, true},
		{"scx_bpf_dsq_insert___v2", ProgStructOps, "running", false, false},
		{"scx_bpf_dsq_insert___v2", ProgStructOps, "sub_ecaps_updated", true, true},
		{"scx_bpf_dsq_move_to_local___v2", ProgStructOps, "dispatch", false, true},
		{"scx_bpf_dsq_move_to_local___v2", ProgStructOps, "enqueue", false, false},
		{"scx_bpf_create_dsq", ProgStructOps, "init", false, true},
		{"scx_bpf_create_dsq", ProgStructOps, "init", true, true},
		{"scx_bpf_create_dsq", ProgStructOps, "enqueue", false, false},
		{"scx_bpf_create_dsq", ProgSyscall, "", false, true},
		{"scx_bpf_create_dsq", ProgTracing, "", false, false},
		{"scx_bpf_reenqueue_local___compat", ProgStructOps, "cpu_release", false, false}, // not a kernel name
		{"scx_bpf_reenqueue_local", ProgStructOps, "cpu_release", false, true},
		{"scx_bpf_reenqueue_local", ProgStructOps, "dispatch", false, false},
		{"scx_bpf_kick_cpu", ProgStructOps, "enqueue", false, true},
		{"scx_bpf_kick_cpu", ProgStructOps, "enqueue", true, false}, // cpu-only in cid form
		{"scx_bpf_kick_cid", ProgStructOps, "enqueue", true, true},
		{"scx_bpf_kick_cid", ProgStructOps, "enqueue", false, true}, // cpu form may use cid kfuncs
		{"scx_bpf_select_cpu_dfl", ProgStructOps, "select_cpu", false, true},
		{"scx_bpf_select_cpu_dfl", ProgStructOps, "select_cid", true, false},
		{"scx_bpf_pick_idle_cpu", ProgStructOps, "dispatch", false, true}, // idle set: any op
		{"scx_bpf_pick_idle_cpu", ProgStructOps, "dispatch", true, false},
		{"scx_bpf_pick_idle_cpu", ProgTracing, "", false, true},
		{"scx_bpf_cid_override", ProgStructOps, "init_cids", true, true},
		{"scx_bpf_cid_override", ProgStructOps, "init", true, false},
		{"scx_bpf_cid_to_cpu", ProgTracing, "", false, true},
		{"scx_bpf_now", ProgStructOps, "", false, false}, // non-SCX struct_ops
		{"bpf_cpumask_create", ProgStructOps, "", false, true},
		{"bpf_cpumask_create", ProgTracing, "", true, true},
		{"scx_bpf_dsq_insert___v2", ProgStructOps, "no_such_op", false, false},
	} {
		k, ok := LookupKfunc(c.kfunc)
		if !ok {
			if c.want {
				t.Errorf("no kfunc %s", c.kfunc)
			}
			continue
		}
		if got := KfuncAllowed(k, c.prog, c.op, c.cid); got != c.want {
			t.Errorf("KfuncAllowed(%s, %d, %q, cid=%v) = %v, want %v", c.kfunc, c.prog, c.op, c.cid, got, c.want)
		}
	}
}

func TestKfuncDeclName(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"scx_bpf_kick_cpu", "scx_bpf_kick_cpu"},
		{"scx_bpf_dsq_insert___v2", "scx_bpf_dsq_insert___v2___compat"},
		{"scx_bpf_dsq_insert", "scx_bpf_dsq_insert___compat"}, // deprecated
		{"__scx_bpf_dsq_insert_vtime", "__scx_bpf_dsq_insert_vtime"},
		{"bpf_stream_vprintk_impl", "bpf_stream_vprintk_impl___compat"},
	} {
		k, ok := LookupKfunc(c.name)
		if !ok {
			t.Fatalf("no kfunc %s", c.name)
		}
		if got := KfuncDeclName(k); got != c.want {
			t.Errorf("KfuncDeclName(%s) = %s, want %s", c.name, got, c.want)
		}
	}
}
