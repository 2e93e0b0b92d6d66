package bpfsched

import (
	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/loader"
	"github.com/scxsim/scxsim/bpf/vm"
)

// useObjectTypes lets bpf_obj_new_impl() and bpf_percpu_obj_new_impl()
// size their objects from the program-local type id the program passes,
// with the struct bpf_refcount offset of the type, as the verifier finds
// them (check_kfunc_call(): the type must be a struct of the object's BTF)
// before fixup_kfunc_call() rewrites the call's arguments.
func (env *Env) useObjectTypes(spec *loader.Spec) {
	local := func(id uint32) (*btf.Struct, bool) {
		t, err := spec.LocalType(btf.TypeID(id))
		if err != nil {
			return nil, false
		}
		s, ok := btf.UnderlyingType(t).(*btf.Struct)
		return s, ok
	}
	env.rt.ObjSize = func(_ *vm.Program, id uint32) (uint32, bool) {
		s, ok := local(id)
		if !ok {
			return 0, false
		}
		return s.Size, true
	}
	env.rt.ObjRefcountOff = func(_ *vm.Program, id uint32) int {
		s, ok := local(id)
		if !ok {
			return -1
		}
		for _, m := range s.Members {
			if r, ok := btf.UnderlyingType(m.Type).(*btf.Struct); ok && r.Name == "bpf_refcount" {
				return int(m.Offset.Bytes())
			}
		}
		return -1
	}
}
