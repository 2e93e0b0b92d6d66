package ktypes

import (
	"fmt"
	"strconv"
	"strings"
)

// Type is one C type of the simulated kernel. The concrete types below form
// a small C type system: enough to lay out kernel objects the way x86-64 gcc
// does, to emit them as BTF and to print them as C.
type Type interface{ isType() }

// Void is C's void.
type Void struct{}

// Int is a C integer type (including char and _Bool).
type Int struct {
	Name   string // C spelling, e.g. "long long unsigned int"
	Size   int    // bytes
	Signed bool
	Char   bool
	Bool   bool
}

// Pointer is a pointer to Target. Arena marks a pointer into a BPF arena:
// C declarations written for BPF programs spell it "T __arena *"; in BTF it
// is an ordinary pointer, as in the kernel's own BTF.
type Pointer struct {
	Target Type
	Arena  bool
}

// Array is Elem[Len]; Len 0 is a flexible array member (or "[0]" anchor).
type Array struct {
	Elem Type
	Len  int
}

// Const is a const-qualified type.
type Const struct{ Type Type }

// Volatile is a volatile-qualified type.
type Volatile struct{ Type Type }

// Typedef names another type.
type Typedef struct {
	Name string
	Type Type
}

// Struct is a struct or union. A Struct that is never given members is
// incomplete: it appears as a forward declaration (BTF FWD).
type Struct struct {
	Name    string // "" for an anonymous struct or union
	Union   bool
	Members []Member

	defined bool
	laid    bool
	size    int
	align   int
}

// Member is one field of a Struct. Offset is in bytes, filled by layout.
type Member struct {
	Name   string // "" for an anonymous struct/union member
	Type   Type
	Offset int
}

// Enum is a C enum. Its size and signedness follow the values, as gcc
// picks them: 8 bytes when a value needs more than 32 bits.
type Enum struct {
	Name     string // "" for an anonymous enum
	Values   []Enumerator
	IsSigned bool // values are signed (negative ones stored two's complement)
}

// Enumerator is one enumerator. Negative values are stored two's complement.
type Enumerator struct {
	Name  string
	Value uint64
}

// FuncProto is a function prototype.
type FuncProto struct {
	Ret    Type
	Params []Param
}

// Param is one named parameter of a FuncProto.
type Param struct {
	Name string
	Type Type
}

func (*Void) isType()      {}
func (*Int) isType()       {}
func (*Pointer) isType()   {}
func (*Array) isType()     {}
func (*Const) isType()     {}
func (*Volatile) isType()  {}
func (*Typedef) isType()   {}
func (*Struct) isType()    {}
func (*Enum) isType()      {}
func (*FuncProto) isType() {}

// Defined reports whether the struct has a definition (is not a forward).
func (s *Struct) Defined() bool { return s.defined }

// Size is the struct's byte size after layout.
func (s *Struct) Size() int { return s.size }

// Align is the struct's alignment after layout.
func (s *Struct) Align() int { return s.align }

// Kind returns "struct" or "union".
func (s *Struct) Kind() string {
	if s.Union {
		return "union"
	}
	return "struct"
}

// Size returns the enum's byte size (4 or 8).
func (e *Enum) Size() int {
	for _, v := range e.Values {
		if e.IsSigned {
			if int64(v.Value) < -1<<31 || int64(v.Value) > 1<<31-1 {
				return 8
			}
		} else if v.Value > 0xffffffff {
			return 8
		}
	}
	return 4
}

// Value returns the value of the enumerator name.
func (e *Enum) Value(name string) (uint64, bool) {
	for _, v := range e.Values {
		if v.Name == name {
			return v.Value, true
		}
	}
	return 0, false
}

// resolve strips typedefs and qualifiers.
func resolve(t Type) Type {
	for {
		switch v := t.(type) {
		case *Typedef:
			t = v.Type
		case *Const:
			t = v.Type
		case *Volatile:
			t = v.Type
		default:
			return t
		}
	}
}

// sizeAlign returns the size and alignment of t on x86-64.
func sizeAlign(t Type) (int, int) {
	switch v := t.(type) {
	case *Int:
		return v.Size, v.Size
	case *Pointer:
		return 8, 8
	case *Array:
		s, a := sizeAlign(v.Elem)
		return s * v.Len, a
	case *Const:
		return sizeAlign(v.Type)
	case *Volatile:
		return sizeAlign(v.Type)
	case *Typedef:
		return sizeAlign(v.Type)
	case *Enum:
		s := v.Size()
		return s, s
	case *Struct:
		if !v.defined {
			panic(fmt.Sprintf("ktypes: %s %s used by value but never defined", v.Kind(), v.Name))
		}
		v.layout()
		return v.size, v.align
	}
	panic(fmt.Sprintf("ktypes: type %T has no size", t))
}

func alignUp(n, a int) int { return (n + a - 1) / a * a }

// layout assigns member offsets with the C ABI rules of x86-64.
func (s *Struct) layout() {
	if s.laid {
		return
	}
	off, size, align := 0, 0, 1
	for i := range s.Members {
		m := &s.Members[i]
		ms, ma := sizeAlign(m.Type)
		if ma > align {
			align = ma
		}
		if s.Union {
			m.Offset = 0
			if ms > size {
				size = ms
			}
			continue
		}
		off = alignUp(off, ma)
		m.Offset = off
		off += ms
	}
	if !s.Union {
		size = off
	}
	s.size = alignUp(size, align)
	s.align = align
	s.laid = true
}

// member finds a field by name, looking through anonymous members as C
// does. It returns the byte offset relative to s and the field's type.
func (s *Struct) member(name string) (int, Type, bool) {
	for _, m := range s.Members {
		if m.Name == name {
			return m.Offset, m.Type, true
		}
		if m.Name == "" {
			if in, ok := resolve(m.Type).(*Struct); ok {
				if off, t, ok := in.member(name); ok {
					return m.Offset + off, t, true
				}
			}
		}
	}
	return 0, nil, false
}

// fieldOffset resolves a C member path such as "scx.dsq_vtime" or
// "kf_tasks[1]" relative to s.
func fieldOffset(s *Struct, path string) (int, Type, error) {
	var cur Type = s
	off := 0
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			n, err := strconv.Atoi(part[i+1 : len(part)-1])
			if err != nil || n < 0 {
				return 0, nil, fmt.Errorf("bad index in %q", part)
			}
			name, idx = part[:i], n
		}
		st, ok := resolve(cur).(*Struct)
		if !ok || !st.defined {
			return 0, nil, fmt.Errorf("%q: not a struct member path", path)
		}
		moff, mt, ok := st.member(name)
		if !ok {
			return 0, nil, fmt.Errorf("%s %s has no member %q", st.Kind(), st.Name, name)
		}
		off += moff
		cur = mt
		if idx >= 0 {
			arr, ok := resolve(cur).(*Array)
			if !ok {
				return 0, nil, fmt.Errorf("%q is not an array", name)
			}
			if arr.Len != 0 && idx >= arr.Len {
				return 0, nil, fmt.Errorf("index %d out of range for %q", idx, name)
			}
			es, _ := sizeAlign(arr.Elem)
			off += idx * es
			cur = arr.Elem
		}
	}
	return off, cur, nil
}

// cName is the C spelling of a type used as a base type.
func cName(t Type) string {
	switch v := t.(type) {
	case *Void:
		return "void"
	case *Int:
		return v.Name
	case *Typedef:
		return v.Name
	case *Struct:
		return v.Kind() + " " + v.Name
	case *Enum:
		return "enum " + v.Name
	}
	panic(fmt.Sprintf("ktypes: %T is not a base type", t))
}

// cDecl renders "T name" in C declarator syntax; name may be empty.
func cDecl(t Type, name string) string {
	base, d := cSplit(t, name)
	if d == "" {
		return base
	}
	return base + " " + d
}

func cSplit(t Type, d string) (string, string) {
	switch v := t.(type) {
	case *Pointer:
		p := "*" + d
		switch v.Target.(type) {
		case *Array, *FuncProto:
			p = "(" + p + ")"
		}
		b, o := cSplit(v.Target, p)
		if v.Arena {
			b += " __arena"
		}
		return b, o
	case *Array:
		return cSplit(v.Elem, d+"["+strconv.Itoa(v.Len)+"]")
	case *FuncProto:
		return cSplit(v.Ret, d+"("+cParams(v)+")")
	case *Const:
		if _, ok := v.Type.(*Pointer); ok {
			return cSplit(v.Type, "const "+d)
		}
		b, o := cSplit(v.Type, d)
		return "const " + b, o
	case *Volatile:
		if _, ok := v.Type.(*Pointer); ok {
			return cSplit(v.Type, "volatile "+d)
		}
		b, o := cSplit(v.Type, d)
		return "volatile " + b, o
	}
	return cName(t), d
}

func cParams(f *FuncProto) string {
	if len(f.Params) == 0 {
		return "void"
	}
	ps := make([]string, len(f.Params))
	for i, p := range f.Params {
		ps[i] = cDecl(p.Type, p.Name)
	}
	return strings.Join(ps, ", ")
}
