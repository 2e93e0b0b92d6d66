package ktypes

import (
	"fmt"
)

// defs collects the declarative tables while the registry is built. The
// definitions read like C: d.def("list_head", m("next", ptr(...)), ...).
type defs struct {
	structs      map[string]*Struct
	structOrder  []*Struct
	typedefs     map[string]*Typedef
	typedefOrder []*Typedef
	enums        []*Enum
	enumNames    map[string]*Enum

	kfuncs []*Kfunc
	vars   []*KernelVar
	ops    map[string][]OpsMember // struct name -> members with prototypes
	stubs  []funcDecl

	// Base types.
	void                                  *Void
	char, schar, uchar                    *Int
	short, ushort, int_, uint             *Int
	long, ulong, llong, ullong, bool_     *Int
	arrayIndex                            *Int
	u8, u16, u32, u64, s8, s16, s32, s64  *Typedef
	bool, size_t, pid_t, umode_t, gfp_t   *Typedef
	atomic_t, atomic64_t, atomic_long_t   *Typedef
	refcount_t, raw_spinlock_t, cpumask_t *Typedef
	cpumask_var_t                         *Typedef
}

func newDefs() *defs {
	return &defs{
		structs:   map[string]*Struct{},
		typedefs:  map[string]*Typedef{},
		enumNames: map[string]*Enum{},
		ops:       map[string][]OpsMember{},
		void:      &Void{},
	}
}

// st returns the named struct, creating an incomplete one on first use.
func (d *defs) st(name string) *Struct {
	if s, ok := d.structs[name]; ok {
		if s.Union {
			panic("ktypes: " + name + " is a union")
		}
		return s
	}
	s := &Struct{Name: name}
	d.structs[name] = s
	d.structOrder = append(d.structOrder, s)
	return s
}

// un returns the named union, creating an incomplete one on first use.
func (d *defs) un(name string) *Struct {
	if s, ok := d.structs[name]; ok {
		if !s.Union {
			panic("ktypes: " + name + " is a struct")
		}
		return s
	}
	s := &Struct{Name: name, Union: true}
	d.structs[name] = s
	d.structOrder = append(d.structOrder, s)
	return s
}

// def gives the named struct its members.
func (d *defs) def(name string, ms ...Member) *Struct {
	return d.define(d.st(name), ms)
}

// defUnion gives the named union its members.
func (d *defs) defUnion(name string, ms ...Member) *Struct {
	return d.define(d.un(name), ms)
}

func (d *defs) define(s *Struct, ms []Member) *Struct {
	if s.defined {
		panic(fmt.Sprintf("ktypes: %s %s defined twice", s.Kind(), s.Name))
	}
	s.Members = ms
	s.defined = true
	return s
}

// typedef declares a named typedef.
func (d *defs) typedef(name string, t Type) *Typedef {
	if _, ok := d.typedefs[name]; ok {
		panic("ktypes: typedef " + name + " declared twice")
	}
	td := &Typedef{Name: name, Type: t}
	d.typedefs[name] = td
	d.typedefOrder = append(d.typedefOrder, td)
	return td
}

// enum declares an enum; name may be empty for an anonymous enum.
func (d *defs) enum(name string, vals ...Enumerator) *Enum {
	e := &Enum{Name: name, Values: vals}
	if name != "" {
		if _, ok := d.enumNames[name]; ok {
			panic("ktypes: enum " + name + " declared twice")
		}
		d.enumNames[name] = e
	}
	d.enums = append(d.enums, e)
	return e
}

// en returns a previously declared named enum.
func (d *defs) en(name string) *Enum {
	e, ok := d.enumNames[name]
	if !ok {
		panic("ktypes: enum " + name + " used before its declaration")
	}
	return e
}

func m(name string, t Type) Member        { return Member{Name: name, Type: t} }
func ptr(t Type) *Pointer                 { return &Pointer{Target: t} }
func arr(t Type, n int) *Array            { return &Array{Elem: t, Len: n} }
func cnst(t Type) *Const                  { return &Const{Type: t} }
func ev(name string, v uint64) Enumerator { return Enumerator{Name: name, Value: v} }
func p(name string, t Type) Param         { return Param{Name: name, Type: t} }
func fn(ret Type, ps ...Param) *FuncProto { return &FuncProto{Ret: ret, Params: ps} }
func fptr(ret Type, ps ...Param) *Pointer { return ptr(fn(ret, ps...)) }
func anon(ms ...Member) *Struct           { return &Struct{Members: ms, defined: true} }

func (d *defs) cstr() *Pointer           { return ptr(cnst(d.char)) }
func (d *defs) sp(name string) *Pointer  { return ptr(d.st(name)) }
func (d *defs) csp(name string) *Pointer { return ptr(cnst(d.st(name))) }
func (d *defs) vp() *Pointer             { return ptr(d.void) }
func (d *defs) cvp() *Pointer            { return ptr(cnst(d.void)) }
func (d *defs) tp(name string) *Typedef  { return d.typedefs[name] }

// base declares the C base types and the kernel's integer typedefs.
func (d *defs) base() {
	d.char = &Int{Name: "char", Size: 1, Signed: true, Char: true}
	d.schar = &Int{Name: "signed char", Size: 1, Signed: true}
	d.uchar = &Int{Name: "unsigned char", Size: 1}
	d.short = &Int{Name: "short int", Size: 2, Signed: true}
	d.ushort = &Int{Name: "short unsigned int", Size: 2}
	d.int_ = &Int{Name: "int", Size: 4, Signed: true}
	d.uint = &Int{Name: "unsigned int", Size: 4}
	d.long = &Int{Name: "long int", Size: 8, Signed: true}
	d.ulong = &Int{Name: "long unsigned int", Size: 8}
	d.llong = &Int{Name: "long long int", Size: 8, Signed: true}
	d.ullong = &Int{Name: "long long unsigned int", Size: 8}
	d.bool_ = &Int{Name: "_Bool", Size: 1, Bool: true}
	d.arrayIndex = &Int{Name: "__ARRAY_SIZE_TYPE__", Size: 4, Signed: true}

	s8 := d.typedef("__s8", d.schar)
	u8 := d.typedef("__u8", d.uchar)
	s16 := d.typedef("__s16", d.short)
	u16 := d.typedef("__u16", d.ushort)
	s32 := d.typedef("__s32", d.int_)
	u32 := d.typedef("__u32", d.uint)
	s64 := d.typedef("__s64", d.llong)
	u64 := d.typedef("__u64", d.ullong)
	d.s8 = d.typedef("s8", s8)
	d.u8 = d.typedef("u8", u8)
	d.s16 = d.typedef("s16", s16)
	d.u16 = d.typedef("u16", u16)
	d.s32 = d.typedef("s32", s32)
	d.u32 = d.typedef("u32", u32)
	d.s64 = d.typedef("s64", s64)
	d.u64 = d.typedef("u64", u64)
	d.bool = d.typedef("bool", d.bool_)
	ksize := d.typedef("__kernel_size_t", d.ulong)
	d.size_t = d.typedef("size_t", ksize)
	kpid := d.typedef("__kernel_pid_t", d.int_)
	d.pid_t = d.typedef("pid_t", kpid)
	d.umode_t = d.typedef("umode_t", d.ushort)
	d.gfp_t = d.typedef("gfp_t", d.uint)
	d.typedef("__be16", u16)
	d.typedef("__be32", u32)
	d.typedef("__wsum", u32)

	d.atomic_t = d.typedef("atomic_t", anon(m("counter", d.int_)))
	d.atomic64_t = d.typedef("atomic64_t", anon(m("counter", d.s64)))
	d.atomic_long_t = d.typedef("atomic_long_t", d.atomic64_t)
	d.refcount_t = d.typedef("refcount_t", d.def("refcount_struct", m("refs", d.atomic_t)))
	d.def("qspinlock", m("val", d.atomic_t))
	d.typedef("arch_spinlock_t", d.st("qspinlock"))
	d.raw_spinlock_t = d.typedef("raw_spinlock_t", d.def("raw_spinlock", m("raw_lock", d.tp("arch_spinlock_t"))))
	d.typedef("spinlock_t", d.def("spinlock", m("rlock", d.st("raw_spinlock"))))
	d.typedef("seqcount_t", d.def("seqcount", m("sequence", d.uint)))

	// The anonymous enum giving bool its constants, as vmlinux.h has it.
	d.enum("", ev("false", 0), ev("true", 1))
}
