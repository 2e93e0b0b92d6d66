package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
	"syscall"

	"github.com/cilium/ebpf/btf"
)

// Form says which sched_ext ops table a struct_ops map fills.
type Form int

const (
	FormOther Form = iota // a struct_ops type that is not sched_ext's
	FormCPU               // struct sched_ext_ops
	FormCID               // struct sched_ext_ops_cid
)

func (f Form) String() string {
	switch f {
	case FormCPU:
		return "cpu"
	case FormCID:
		return "cid"
	}
	return "other"
}

// structOpsDef is one struct_ops variable as the object declares it.
type structOpsDef struct {
	name  string
	sec   *elfSection
	off   uint64
	typ   *btf.Struct // local type
	data  []byte      // local layout
	progs map[string]string
}

// collectStructOps reads the struct_ops variables of .struct_ops and
// .struct_ops.link and the programs their function-pointer members name (via
// relocations), as libbpf's bpf_object__init_struct_ops() and
// bpf_object__collect_st_ops_relos() do.
func (s *Spec) collectStructOps() error {
	for _, sec := range s.elf.sections {
		if sec.name != ".struct_ops" && sec.name != ".struct_ops.link" {
			continue
		}
		if sec.typ != elf.SHT_PROGBITS {
			continue
		}
		ds := s.datasec(sec.name)
		if ds == nil {
			return fmt.Errorf("struct_ops init: DATASEC %s not found", sec.name)
		}
		var defs []*structOpsDef
		for _, vs := range ds.Vars {
			v, ok := vs.Type.(*btf.Var)
			if !ok {
				return fmt.Errorf("struct_ops init: %s is not a variable", kindName(vs.Type))
			}
			st, ok := btf.UnderlyingType(v.Type).(*btf.Struct)
			if !ok {
				return fmt.Errorf("struct_ops init: %s is not a struct", v.Name)
			}
			if uint64(vs.Offset)+uint64(st.Size) > uint64(len(sec.data)) {
				return fmt.Errorf("struct_ops init: var %s is beyond the end of DATASEC %s", v.Name, sec.name)
			}
			d := &structOpsDef{name: v.Name, sec: sec, off: uint64(vs.Offset), typ: st, progs: map[string]string{}}
			d.data = bytes.Clone(sec.data[vs.Offset : uint64(vs.Offset)+uint64(st.Size)])
			defs = append(defs, d)
		}
		for _, r := range s.elf.relocs[sec.idx] {
			sym := s.elf.symbols[r.sym]
			var d *structOpsDef
			for _, c := range defs {
				if r.off >= c.off && r.off < c.off+uint64(c.typ.Size) {
					d = c
				}
			}
			if d == nil {
				return fmt.Errorf("struct_ops reloc: cannot find struct_ops map for offset %d", r.off)
			}
			moff := (r.off - d.off) * 8
			var mem *btf.Member
			for i := range d.typ.Members {
				if uint64(d.typ.Members[i].Offset) == moff {
					mem = &d.typ.Members[i]
				}
			}
			if mem == nil {
				return fmt.Errorf("struct_ops reloc %s: cannot find member at moff %d", d.name, moff/8)
			}
			if !isFuncPtr(mem.Type) {
				return fmt.Errorf("struct_ops reloc %s: cannot relocate non func ptr %s", d.name, mem.Name)
			}
			var fn *function
			for _, f := range s.funcs {
				if f.name == sym.name && !f.subprog && int(sym.shndx) == f.sec.idx {
					fn = f
				}
			}
			if fn == nil {
				return fmt.Errorf("struct_ops reloc %s: cannot find prog at shndx %d", d.name, sym.shndx)
			}
			if !strings.HasPrefix(strings.TrimPrefix(fn.sec.name, "?"), "struct_ops") {
				return fmt.Errorf("struct_ops reloc %s: prog %s is not a struct_ops BPF program (section '%s')", d.name, fn.name, fn.sec.name)
			}
			d.progs[mem.Name] = fn.name
		}
		s.structOps = append(s.structOps, defs...)
	}
	return nil
}

func isFuncPtr(t btf.Type) bool {
	p, ok := btf.UnderlyingType(t).(*btf.Pointer)
	if !ok {
		return false
	}
	_, ok = btf.UnderlyingType(p.Target).(*btf.FuncProto)
	return ok
}

// StructOps is a loaded struct_ops map: which ops table it fills, the program
// each function member names and the value of every data member, laid out
// as the target kernel's type.
type StructOps struct {
	Name    string // the variable's name, e.g. "simple_ops"
	Section string // ".struct_ops" or ".struct_ops.link"
	// TypeName is the kernel struct the map fills, e.g. "sched_ext_ops":
	// the variable's type name without a ___flavor suffix.
	TypeName string
	Form     Form
	// Type is the kernel's struct type when the target BTF has it, otherwise
	// the object's.
	Type *btf.Struct
	// Data is the struct's bytes in Type's layout, function pointers zero.
	Data []byte
	// Members lists every member of Type in order.
	Members []OpsMember
}

// OpsMember is one member of a struct_ops value.
type OpsMember struct {
	Name   string
	Offset uint32 // bytes
	Size   uint32
	// Prog is the program a function-pointer member names, nil if unset.
	Prog *Program
	// Func is true for function-pointer members.
	Func bool
	// Int holds an integer or enum member's value (sign-extended when signed).
	Int uint64
	// IsInt is true for integer and enum members.
	IsInt bool
	// Str holds a char array member's text up to its first NUL.
	Str string
	// IsStr is true for char array members.
	IsStr bool
}

// Prog returns the program bound to op, or nil.
func (so *StructOps) Prog(op string) *Program {
	for _, m := range so.Members {
		if m.Name == op {
			return m.Prog
		}
	}
	return nil
}

// Member returns the member called name.
func (so *StructOps) Member(name string) (OpsMember, bool) {
	for _, m := range so.Members {
		if m.Name == name {
			return m, true
		}
	}
	return OpsMember{}, false
}

// bindStructOps settles which programs the struct_ops maps bind, before
// any program loads, as libbpf's bpf_map__init_kern_struct_ops() and
// bpf_object_adjust_struct_ops_autoload() do:
//   - a member the kernel's struct lacks loses its program; a program bound
//     to nothing else is not loaded (a program no struct_ops map names
//     still loads, unless its section starts with '?');
//   - a bound program loads even from a '?' section;
//   - a program may serve several maps only through the same member of the
//     same kernel struct (the kernel verifies it for one member).
//
// Without a kernel BTF the object's own struct types stand in.
func (ld *loadState) bindStructOps() error {
	ld.missingOps = map[*structOpsDef]map[string]bool{}
	ld.notLoaded = map[string]bool{}
	ld.bound = map[string]bool{}
	kb := ld.spec.opts.KernelBTF
	type attach struct {
		typeID btf.TypeID
		member int
	}
	first := map[string]attach{}
	dropped := map[string]bool{}
	for _, d := range ld.spec.structOps {
		kt, kid := d.typ, btf.TypeID(0)
		if kb != nil {
			var err error
			if kt, kid, err = findKernelType[*btf.Struct](kb, essentialName(d.typ.Name)); err != nil {
				continue // buildStructOps reports it
			}
		} else if id, err := ld.spec.btf.TypeID(d.typ); err == nil {
			kid = id
		}
		index := map[string]int{}
		for i, m := range kt.Members {
			index[m.Name] = i
		}
		for _, lm := range d.typ.Members {
			prog, bound := d.progs[lm.Name]
			if !bound {
				continue
			}
			idx, ok := index[lm.Name]
			if !ok {
				if ld.missingOps[d] == nil {
					ld.missingOps[d] = map[string]bool{}
				}
				ld.missingOps[d][lm.Name] = true
				dropped[prog] = true
				continue
			}
			at := attach{kid, idx}
			if prev, seen := first[prog]; !seen {
				first[prog] = at
			} else if prev != at {
				sec := ""
				if f := ld.spec.funcByName(prog); f != nil {
					sec = f.sec.name
				}
				return fmt.Errorf("struct_ops reloc %s: cannot use prog %s in sec %s with type %d attach_btf_id %d expected_attach_type %d for func ptr %s: %w",
					d.name, prog, sec, progTypeStructOps, prev.typeID, prev.member, lm.Name, syscall.EINVAL)
			}
			ld.bound[prog] = true
		}
	}
	for prog := range dropped {
		if !ld.bound[prog] {
			ld.notLoaded[prog] = true
		}
	}
	return nil
}

// progTypeStructOps is BPF_PROG_TYPE_STRUCT_OPS.
const progTypeStructOps = 27

// buildStructOps translates a struct_ops variable to the kernel's layout, as
// libbpf's bpf_map__init_kern_struct_ops() does: the kernel struct is the
// variable's type name without a ___flavor suffix (find_struct_ops_kern_types()),
// members are matched by name, a local member the kernel lacks is an error
// unless it is zero (a program bound to it is dropped, see
// bindStructOps), data member sizes must match.
func (ld *loadState) buildStructOps(d *structOpsDef) (*StructOps, error) {
	tname := essentialName(d.typ.Name)
	so := &StructOps{Name: d.name, Section: d.sec.name, TypeName: tname, Type: d.typ}
	if kt, _, err := findKernelType[*btf.Struct](ld.spec.opts.KernelBTF, tname); err == nil {
		so.Type = kt
	} else if ld.spec.opts.KernelBTF != nil {
		return nil, fmt.Errorf("struct_ops init_kern: struct %s is not found in kernel BTF", tname)
	}
	switch tname {
	case "sched_ext_ops":
		so.Form = FormCPU
	case "sched_ext_ops_cid":
		so.Form = FormCID
	}
	so.Data = make([]byte, so.Type.Size)
	kmem := map[string]btf.Member{}
	for _, m := range so.Type.Members {
		kmem[m.Name] = m
	}
	progOf := map[string]*Program{}
	for _, lm := range d.typ.Members {
		if lm.BitfieldSize != 0 || lm.Offset%8 != 0 {
			return nil, fmt.Errorf("struct_ops init_kern %s: bitfield %s is not supported", d.name, lm.Name)
		}
		lsz, err := btf.Sizeof(lm.Type)
		if err != nil {
			return nil, fmt.Errorf("struct_ops init_kern %s: member %s: %v", d.name, lm.Name, err)
		}
		loff := lm.Offset.Bytes()
		local := d.data[loff : loff+uint32(lsz)]
		km, ok := kmem[lm.Name]
		progName, hasProg := d.progs[lm.Name]
		if !ok {
			if allZero(local) {
				continue
			}
			return nil, fmt.Errorf("struct_ops init_kern %s: Cannot find member %s in kernel BTF", d.name, lm.Name)
		}
		if isFuncPtr(lm.Type) {
			if !isFuncPtr(km.Type) {
				return nil, fmt.Errorf("struct_ops init_kern %s: Unmatched member type %s %s != %s in kernel", d.name, lm.Name, kindName(lm.Type), kindName(km.Type))
			}
			if hasProg {
				p := ld.progByName[progName]
				if p == nil {
					return nil, fmt.Errorf("struct_ops init_kern %s: program %s for %s was not loaded", d.name, progName, lm.Name)
				}
				progOf[lm.Name] = p
			}
			continue
		}
		ksz, err := btf.Sizeof(km.Type)
		if err != nil || ksz != lsz {
			return nil, fmt.Errorf("struct_ops init_kern %s: size mismatch for member %s: %d != %d(kernel)", d.name, lm.Name, lsz, ksz)
		}
		copy(so.Data[km.Offset.Bytes():], local)
	}
	for _, km := range so.Type.Members {
		sz, _ := btf.Sizeof(km.Type)
		om := OpsMember{Name: km.Name, Offset: km.Offset.Bytes(), Size: uint32(sz)}
		if km.BitfieldSize != 0 || int(om.Offset)+sz > len(so.Data) {
			so.Members = append(so.Members, om)
			continue
		}
		raw := so.Data[om.Offset : om.Offset+om.Size]
		switch u := btf.UnderlyingType(km.Type).(type) {
		case *btf.Pointer:
			if isFuncPtr(km.Type) {
				om.Func = true
				om.Prog = progOf[km.Name]
			}
		case *btf.Int:
			om.IsInt, om.Int = true, readInt(raw, u.Encoding&btf.Signed != 0)
		case *btf.Enum:
			om.IsInt, om.Int = true, readInt(raw, u.Signed)
		case *btf.Array:
			if el, ok := btf.UnderlyingType(u.Type).(*btf.Int); ok && el.Size == 1 {
				om.IsStr = true
				if i := bytes.IndexByte(raw, 0); i >= 0 {
					om.Str = string(raw[:i])
				} else {
					om.Str = string(raw)
				}
			}
		}
		so.Members = append(so.Members, om)
	}
	return so, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// readInt reads a little-endian integer of len(b) bytes, sign-extending it.
func readInt(b []byte, signed bool) uint64 {
	var tmp [8]byte
	copy(tmp[:], b)
	v := binary.LittleEndian.Uint64(tmp[:])
	if signed && len(b) < 8 && len(b) > 0 {
		shift := uint(64 - 8*len(b))
		v = uint64(int64(v<<shift) >> shift)
	}
	return v
}
