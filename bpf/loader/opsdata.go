package loader

import (
	"fmt"
	"syscall"

	"github.com/cilium/ebpf/btf"
)

// StructOpsMember reads the initial value of integer data member member
// of struct_ops variable ops ("" for the first one the object declares),
// as the object sets it and a skeleton's struct_ops pointer reads it
// before load (skel->struct_ops.ops->exit_dump_len).
func (s *Spec) StructOpsMember(ops, member string) (uint64, error) {
	var d *structOpsDef
	for _, c := range s.structOps {
		if ops == "" || c.name == ops {
			d = c
			break
		}
	}
	if d == nil {
		return 0, fmt.Errorf("struct_ops '%s' not found: %w", ops, syscall.ENOENT)
	}
	for _, m := range d.typ.Members {
		if m.Name != member {
			continue
		}
		size, err := btf.Sizeof(m.Type)
		if err != nil {
			return 0, fmt.Errorf("struct_ops %s.%s: %w", d.name, member, err)
		}
		switch btf.UnderlyingType(m.Type).(type) {
		case *btf.Int, *btf.Enum:
		default:
			return 0, fmt.Errorf("struct_ops %s.%s is a %s, not an integer", d.name, member, kindName(m.Type))
		}
		off := int(m.Offset.Bytes())
		if m.BitfieldSize != 0 || size > 8 || off+size > len(d.data) {
			return 0, fmt.Errorf("struct_ops %s.%s: unsupported layout", d.name, member)
		}
		var v uint64
		for i := size - 1; i >= 0; i-- {
			v = v<<8 | uint64(d.data[off+i])
		}
		return v, nil
	}
	return 0, fmt.Errorf("struct_ops %s has no member %s: %w", d.name, member, syscall.ENOENT)
}
