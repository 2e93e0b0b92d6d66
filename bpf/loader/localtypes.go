package loader

import "github.com/cilium/ebpf/btf"

// LocalType returns the type of the object's BTF with id: the id a CO-RE
// local_type_id relocation (bpf_core_type_id_local()) leaves in a program,
// as bpf_obj_new() passes it to bpf_obj_new_impl(). The kernel layer sizes
// such allocations with it, as the verifier does before rewriting the call.
func (s *Spec) LocalType(id btf.TypeID) (btf.Type, error) { return s.btf.TypeByID(id) }
