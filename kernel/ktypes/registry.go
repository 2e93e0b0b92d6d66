package ktypes

import (
	"fmt"
	"sync"
)

// funcDecl is a kernel function present in BTF that BPF does not call
// (struct_ops cfi stubs).
type funcDecl struct {
	name  string
	proto *FuncProto
}

type enumEntry struct {
	enum  *Enum
	value uint64
}

// registry is the built, laid-out set of definitions. It is built once and
// read-only afterwards.
type registry struct {
	structs      map[string]*Struct
	structOrder  []*Struct
	typedefs     map[string]*Typedef
	typedefOrder []*Typedef
	enums        []*Enum
	enumNames    map[string]*Enum
	enumVals     map[string]enumEntry

	kfuncs      []*Kfunc
	kfuncByName map[string]*Kfunc
	stubs       []funcDecl
	vars        []*KernelVar
	perCPUSize  int
	ops         map[string][]OpsMember
}

var (
	regOnce sync.Once
	theReg  *registry
)

func reg() *registry {
	regOnce.Do(func() { theReg = build() })
	return theReg
}

// build runs the declarative tables and lays every type out. A mistake in
// the tables (a duplicate name, a by-value use of an undefined struct) is a
// programming error and panics; the package tests run build.
func build() *registry {
	d := newDefs()
	d.base()
	d.scxEnums()
	d.kernelTypes()
	d.bpfTypes()
	d.scxTypes()
	d.opsTypes()
	d.scxKfuncs()
	d.genericKfuncs()
	d.kernelVars()

	r := &registry{
		structs:      d.structs,
		structOrder:  d.structOrder,
		typedefs:     d.typedefs,
		typedefOrder: d.typedefOrder,
		enums:        d.enums,
		enumNames:    d.enumNames,
		enumVals:     map[string]enumEntry{},
		kfuncs:       d.kfuncs,
		kfuncByName:  map[string]*Kfunc{},
		stubs:        d.stubs,
		vars:         d.vars,
		ops:          d.ops,
	}
	for _, s := range r.structOrder {
		if s.defined {
			s.layout()
		}
	}
	for _, e := range r.enums {
		for _, v := range e.Values {
			if prev, ok := r.enumVals[v.Name]; ok && prev.value != v.Value {
				panic(fmt.Sprintf("ktypes: enumerator %s has two values", v.Name))
			}
			r.enumVals[v.Name] = enumEntry{e, v.Value}
		}
	}
	for _, k := range r.kfuncs {
		if _, ok := r.kfuncByName[k.Name]; ok {
			panic("ktypes: kfunc " + k.Name + " declared twice")
		}
		r.kfuncByName[k.Name] = k
	}
	off := 0
	for _, v := range r.vars {
		size, align := sizeAlign(v.Type)
		off = alignUp(off, align)
		v.Offset, v.Size = off, size
		off += size
	}
	r.perCPUSize = off
	return r
}

// EnumValue returns the value of a sched_ext (or other kernel) enumerator,
// e.g. EnumValue("SCX_DSQ_LOCAL_ON").
func EnumValue(name string) (uint64, bool) {
	e, ok := reg().enumVals[name]
	return e.value, ok
}

// LookupEnum returns a named enum.
func LookupEnum(name string) (*Enum, bool) {
	e, ok := reg().enumNames[name]
	return e, ok
}

// LookupStruct returns a named struct or union with its laid-out members.
// The returned value is shared and must not be modified.
func LookupStruct(name string) (*Struct, bool) {
	s, ok := reg().structs[name]
	return s, ok
}

// Sizeof returns the byte size of a struct, union or typedef by name.
func Sizeof(name string) (int, error) {
	r := reg()
	if s, ok := r.structs[name]; ok {
		if !s.defined {
			return 0, fmt.Errorf("%s %s is incomplete", s.Kind(), name)
		}
		return s.size, nil
	}
	if t, ok := r.typedefs[name]; ok {
		size, _ := sizeAlign(t)
		return size, nil
	}
	return 0, fmt.Errorf("no type named %q", name)
}

// Offsetof returns the byte offset of a member path (e.g. "scx.dsq_vtime",
// "cpus_mask.bits[2]") in the named struct.
func Offsetof(structName, path string) (int, error) {
	s, ok := reg().structs[structName]
	if !ok {
		return 0, fmt.Errorf("no struct named %q", structName)
	}
	off, _, err := fieldOffset(s, path)
	return off, err
}

// MustOffsetof is Offsetof for member paths known to exist; it panics
// otherwise. Meant for package-level layout tables of the kernel layer.
func MustOffsetof(structName, path string) int {
	off, err := Offsetof(structName, path)
	if err != nil {
		panic("ktypes: " + err.Error())
	}
	return off
}

// PerCPUSize is the size of one CPU's copy of all kernel variables.
func PerCPUSize() int { return reg().perCPUSize }
