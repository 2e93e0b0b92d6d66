package ktypes

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/cilium/ebpf/btf"
)

var btfCache struct {
	once sync.Once
	raw  []byte
	spec *btf.Spec
	err  error
}

// BTF returns the simulated kernel's BTF (its "vmlinux" BTF): every type,
// the kfuncs as FUNCs, the struct_ops cfi stubs and the per-CPU kernel
// variables. It is marshalled with cilium/ebpf's btf.Builder and parsed
// back, so callers get an ordinary *btf.Spec. The Spec is built once and
// shared; use Spec.Copy before modifying it.
func BTF() (*btf.Spec, error) {
	loadBTF()
	return btfCache.spec, btfCache.err
}

// RawBTF returns the raw BTF blob (little-endian) behind BTF().
func RawBTF() ([]byte, error) {
	loadBTF()
	if btfCache.err != nil {
		return nil, btfCache.err
	}
	return bytes.Clone(btfCache.raw), nil
}

// KfuncBTFID returns the BTF type ID of a kfunc's FUNC in BTF(): the value
// a resolved kfunc call carries in its imm field.
func KfuncBTFID(name string) (btf.TypeID, error) {
	spec, err := BTF()
	if err != nil {
		return 0, err
	}
	var f *btf.Func
	if err := spec.TypeByName(name, &f); err != nil {
		return 0, fmt.Errorf("kfunc %s: %w", name, err)
	}
	return spec.TypeID(f)
}

func loadBTF() {
	btfCache.once.Do(func() {
		raw, err := marshalBTF(reg())
		if err != nil {
			btfCache.err = fmt.Errorf("marshal kernel BTF: %w", err)
			return
		}
		spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
		if err != nil {
			btfCache.err = fmt.Errorf("parse kernel BTF: %w", err)
			return
		}
		btfCache.raw, btfCache.spec = raw, spec
	})
}

// btfConv converts model types to cilium/ebpf btf types, one btf.Type per
// model type so shared types stay shared.
type btfConv struct {
	m     map[Type]btf.Type
	index *btf.Int
}

func (c *btfConv) conv(t Type) btf.Type {
	if bt, ok := c.m[t]; ok {
		return bt
	}
	var out btf.Type
	switch v := t.(type) {
	case *Void:
		return &btf.Void{}
	case *Int:
		enc := btf.Unsigned
		switch {
		case v.Bool:
			enc = btf.Bool
		case v.Char:
			enc = btf.Char
		case v.Signed:
			enc = btf.Signed
		}
		out = &btf.Int{Name: v.Name, Size: uint32(v.Size), Encoding: enc}
		c.m[t] = out
	case *Pointer:
		bp := &btf.Pointer{}
		c.m[t] = bp
		bp.Target = c.conv(v.Target)
		out = bp
	case *Array:
		out = &btf.Array{Index: c.index, Type: c.conv(v.Elem), Nelems: uint32(v.Len)}
		c.m[t] = out
	case *Const:
		bc := &btf.Const{}
		c.m[t] = bc
		bc.Type = c.conv(v.Type)
		out = bc
	case *Volatile:
		bv := &btf.Volatile{}
		c.m[t] = bv
		bv.Type = c.conv(v.Type)
		out = bv
	case *Typedef:
		bt := &btf.Typedef{Name: v.Name}
		c.m[t] = bt
		bt.Type = c.conv(v.Type)
		out = bt
	case *Enum:
		be := &btf.Enum{Name: v.Name, Size: uint32(v.Size()), Signed: v.IsSigned}
		for _, ev := range v.Values {
			be.Values = append(be.Values, btf.EnumValue{Name: ev.Name, Value: ev.Value})
		}
		c.m[t] = be
		out = be
	case *Struct:
		if !v.defined {
			kind := btf.FwdStruct
			if v.Union {
				kind = btf.FwdUnion
			}
			out = &btf.Fwd{Name: v.Name, Kind: kind}
			c.m[t] = out
			break
		}
		members := make([]btf.Member, len(v.Members))
		if v.Union {
			bu := &btf.Union{Name: v.Name, Size: uint32(v.size)}
			c.m[t] = bu
			bu.Members = members
			out = bu
		} else {
			bs := &btf.Struct{Name: v.Name, Size: uint32(v.size)}
			c.m[t] = bs
			bs.Members = members
			out = bs
		}
		for i, mem := range v.Members {
			members[i] = btf.Member{Name: mem.Name, Type: c.conv(mem.Type), Offset: btf.Bits(mem.Offset * 8)}
		}
	case *FuncProto:
		out = c.proto(v)
		c.m[t] = out
	default:
		panic(fmt.Sprintf("ktypes: cannot convert %T to BTF", t))
	}
	return out
}

func (c *btfConv) proto(f *FuncProto) *btf.FuncProto {
	bp := &btf.FuncProto{Return: c.conv(f.Ret)}
	for _, pr := range f.Params {
		bp.Params = append(bp.Params, btf.FuncParam{Name: pr.Name, Type: c.conv(pr.Type)})
	}
	return bp
}

// marshalBTF emits the registry as raw BTF. Types are added in definition
// order (base types, typedefs, enums, structs), then kfuncs, stubs and
// variables, so type IDs are stable from run to run.
func marshalBTF(r *registry) ([]byte, error) {
	c := &btfConv{m: map[Type]btf.Type{}, index: &btf.Int{Name: "__ARRAY_SIZE_TYPE__", Size: 4, Encoding: btf.Signed}}
	var types []btf.Type
	for _, td := range r.typedefOrder {
		types = append(types, c.conv(td))
	}
	for _, e := range r.enums {
		types = append(types, c.conv(e))
	}
	for _, s := range r.structOrder {
		types = append(types, c.conv(s))
	}
	for _, k := range r.kfuncs {
		types = append(types, &btf.Func{Name: k.Name, Type: c.proto(k.Proto), Linkage: btf.GlobalFunc})
	}
	for _, s := range r.stubs {
		types = append(types, &btf.Func{Name: s.name, Type: c.proto(s.proto), Linkage: btf.StaticFunc})
	}
	var secinfos []btf.VarSecinfo
	for _, v := range r.vars {
		bv := &btf.Var{Name: v.Name, Type: c.conv(v.Type), Linkage: btf.GlobalVar}
		types = append(types, bv)
		secinfos = append(secinfos, btf.VarSecinfo{Type: bv, Offset: uint32(v.Offset), Size: uint32(v.Size)})
	}
	types = append(types, &btf.Datasec{Name: PerCPUSection, Size: uint32(r.perCPUSize), Vars: secinfos})

	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		return nil, err
	}
	return b.Marshal(nil, &btf.MarshalOptions{Order: binary.LittleEndian})
}
