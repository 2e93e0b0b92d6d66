package maps

import (
	"slices"
	"syscall"

	"github.com/cilium/ebpf/btf"
)

// FieldKind is the kind of a special field of a map value (enum
// btf_field_type): fields the kernel manages itself and never copies
// between user space and the map.
type FieldKind uint8

// Special field kinds.
const (
	FieldSpinLock    FieldKind = iota + 1 // struct bpf_spin_lock
	FieldResSpinLock                      // struct bpf_res_spin_lock
	FieldTimer                            // struct bpf_timer
	FieldWorkqueue                        // struct bpf_wq
	FieldTaskWork                         // struct bpf_task_work
	FieldKptrUnref                        // __kptr_untrusted pointer
	FieldKptrRef                          // __kptr pointer (owns a reference)
	FieldKptrPercpu                       // __percpu_kptr pointer
	FieldUptr                             // __uptr pointer
	FieldListHead                         // struct bpf_list_head
	FieldListNode                         // struct bpf_list_node
	FieldRBRoot                           // struct bpf_rb_root
	FieldRBNode                           // struct bpf_rb_node
	FieldRefcount                         // struct bpf_refcount
)

var fieldNames = [...]string{"", "bpf_spin_lock", "bpf_res_spin_lock", "bpf_timer", "bpf_wq",
	"bpf_task_work", "kptr_untrusted", "kptr", "percpu_kptr", "uptr", "bpf_list_head",
	"bpf_list_node", "bpf_rb_root", "bpf_rb_node", "bpf_refcount"}

func (k FieldKind) String() string {
	if int(k) < len(fieldNames) {
		return fieldNames[k]
	}
	return "field?"
}

// Field is one special field of a map value.
type Field struct {
	Kind   FieldKind
	Offset uint32
	Size   uint32
	// Target is the pointee type of a kptr or uptr field.
	Target btf.Type
}

// needsFree says whether bpf_obj_free_fields() does something for the kind.
func (k FieldKind) needsFree() bool {
	switch k {
	case FieldSpinLock, FieldResSpinLock, FieldListNode, FieldRBNode, FieldRefcount:
		return false
	}
	return true
}

// structKinds maps the kernel struct names that are special fields.
var structKinds = map[string]FieldKind{
	"bpf_spin_lock": FieldSpinLock, "bpf_res_spin_lock": FieldResSpinLock,
	"bpf_timer": FieldTimer, "bpf_wq": FieldWorkqueue, "bpf_task_work": FieldTaskWork,
	"bpf_list_head": FieldListHead, "bpf_list_node": FieldListNode,
	"bpf_rb_root": FieldRBRoot, "bpf_rb_node": FieldRBNode, "bpf_refcount": FieldRefcount,
}

// defaultSizes are the uapi sizes of the special structs.
var defaultSizes = map[FieldKind]uint32{
	FieldSpinLock: 4, FieldResSpinLock: 4, FieldTimer: 16, FieldWorkqueue: 16, FieldTaskWork: 8,
	FieldListHead: 16, FieldListNode: 24, FieldRBRoot: 16, FieldRBNode: 32, FieldRefcount: 4,
}

// parseFields finds the special fields of a value type, looking into nested
// structs and arrays as btf_parse_fields() does. Fields are sorted by offset.
func parseFields(t btf.Type) []Field {
	if t == nil {
		return nil
	}
	var out []Field
	walkFields(t, 0, 0, &out)
	slices.SortFunc(out, func(a, b Field) int { return int(a.Offset) - int(b.Offset) })
	return out
}

const maxFieldDepth = 8

func walkFields(t btf.Type, off uint32, depth int, out *[]Field) {
	if depth > maxFieldDepth {
		return
	}
	switch v := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		if k, ok := structKinds[v.Name]; ok {
			*out = append(*out, Field{Kind: k, Offset: off, Size: sizeOr(v, defaultSizes[k])})
			return
		}
		for _, m := range v.Members {
			if m.BitfieldSize != 0 {
				continue
			}
			walkFields(m.Type, off+m.Offset.Bytes(), depth+1, out)
		}
	case *btf.Array:
		n := v.Nelems
		sz, err := btf.Sizeof(v.Type)
		if err != nil || sz <= 0 || n == 0 {
			return
		}
		var one []Field
		walkFields(v.Type, 0, depth+1, &one)
		if len(one) == 0 {
			return
		}
		for i := range n {
			for _, f := range one {
				f.Offset += off + i*uint32(sz)
				*out = append(*out, f)
			}
		}
	case *btf.Pointer:
		if k, target, ok := kptrKind(t); ok {
			*out = append(*out, Field{Kind: k, Offset: off, Size: 8, Target: target})
		}
	}
}

// kptrKind recognizes a pointer member carrying a kptr type tag.
func kptrKind(t btf.Type) (FieldKind, btf.Type, bool) {
	// Skip typedefs and qualifiers down to the pointer.
	for {
		switch v := t.(type) {
		case *btf.Typedef:
			t = v.Type
			continue
		case *btf.Const:
			t = v.Type
			continue
		case *btf.Volatile:
			t = v.Type
			continue
		case *btf.Restrict:
			t = v.Type
			continue
		}
		break
	}
	p, ok := t.(*btf.Pointer)
	if !ok {
		return 0, nil, false
	}
	for target := p.Target; ; {
		tag, ok := target.(*btf.TypeTag)
		if !ok {
			return 0, nil, false
		}
		switch tag.Value {
		case "kptr_untrusted":
			return FieldKptrUnref, tag.Type, true
		case "kptr":
			return FieldKptrRef, tag.Type, true
		case "percpu_kptr":
			return FieldKptrPercpu, tag.Type, true
		case "uptr":
			return FieldUptr, tag.Type, true
		}
		target = tag.Type
	}
}

func sizeOr(t btf.Type, def uint32) uint32 {
	if n, err := btf.Sizeof(t); err == nil && n > 0 {
		return uint32(n)
	}
	return def
}

// checkFieldsAllowed mirrors the map-type restrictions of map_check_btf().
func checkFieldsAllowed(typ uint32, fields []Field) error {
	for _, f := range fields {
		var ok bool
		switch f.Kind {
		case FieldSpinLock, FieldResSpinLock:
			ok = typ == TypeHash || typ == TypeArray || typ == TypeTaskStorage || typ == TypeCgrpStorage
		case FieldTimer, FieldWorkqueue, FieldTaskWork:
			ok = typ == TypeHash || typ == TypeLRUHash || typ == TypeArray
		case FieldKptrUnref, FieldKptrRef, FieldKptrPercpu, FieldRefcount:
			switch typ {
			case TypeHash, TypePercpuHash, TypeLRUHash, TypeLRUPercpuHash, TypeArray,
				TypePercpuArray, TypeTaskStorage, TypeCgrpStorage:
				ok = true
			}
		case FieldUptr:
			ok = typ == TypeTaskStorage
		case FieldListHead, FieldRBRoot:
			ok = typ == TypeHash || typ == TypeLRUHash || typ == TypeArray
		default:
			ok = true
		}
		if !ok {
			return syscall.EOPNOTSUPP
		}
	}
	return nil
}

// segment is a byte range [lo, hi) of a value that user copies move.
type segment struct{ lo, hi uint32 }

// copySegments is the complement of the special fields in [0, size).
func copySegments(size uint32, fields []Field) []segment {
	var segs []segment
	pos := uint32(0)
	for _, f := range fields {
		if f.Offset > pos {
			segs = append(segs, segment{pos, min(f.Offset, size)})
		}
		pos = max(pos, f.Offset+f.Size)
	}
	if pos < size {
		segs = append(segs, segment{pos, size})
	}
	return segs
}
