package loader

import (
	"debug/elf"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// externKind is what an extern symbol refers to.
type externKind int

const (
	extKconfig externKind = iota // .kconfig: a Kconfig option or LINUX_* value
	extKsymVar                   // .ksyms variable: a kernel variable
	extKfunc                     // .ksyms function: a kfunc
)

// kcfgType classifies a .kconfig extern's type, as libbpf's find_kcfg_type().
type kcfgType int

const (
	kcfgUnknown kcfgType = iota
	kcfgChar
	kcfgBool
	kcfgInt
	kcfgTristate
	kcfgCharArr
)

// extern is one extern symbol of the object.
type extern struct {
	name  string
	idx   int // position in Spec.externs (libbpf's ext_idx)
	kind  externKind
	weak  bool
	typ   btf.Type // var type or func proto in the object's BTF
	typed bool     // ksym variable with a non-void type

	kcfg    kcfgType
	size    int
	align   int
	signed  bool
	dataOff int // offset in the .kconfig map
}

// essentialName strips a trailing "___flavor" suffix the way libbpf's
// bpf_core_essential_name_len() does: the last X___Y with X and Y not '_'.
func essentialName(name string) string {
	for i := len(name) - 5; i >= 0; i-- {
		if name[i] != '_' && name[i+1] == '_' && name[i+2] == '_' && name[i+3] == '_' && name[i+4] != '_' {
			return name[:i+1]
		}
	}
	return name
}

// collectExterns mirrors libbpf's bpf_object__collect_externs(): every
// undefined global symbol is an extern described by a BTF VAR or FUNC of
// extern linkage in DATASEC .kconfig or .ksyms.
func (s *Spec) collectExterns() error {
	secOf := map[btf.Type]string{}
	if ds := s.datasec(".kconfig"); ds != nil {
		for _, vs := range ds.Vars {
			secOf[vs.Type] = ".kconfig"
		}
	}
	byName := map[string]btf.Type{}
	for t, err := range s.btf.All() {
		if err != nil {
			// The btf package cannot inflate a .ksyms DATASEC holding typed
			// variables; externs outside .kconfig are ksyms anyway.
			continue
		}
		switch v := t.(type) {
		case *btf.Var:
			// The btf package turns .kconfig externs into globals.
			if v.Linkage == btf.ExternVar || secOf[v] == ".kconfig" {
				if _, dup := byName[v.Name]; !dup {
					byName[v.Name] = v
				}
			}
		case *btf.Func:
			if v.Linkage == btf.ExternFunc {
				if _, dup := byName[v.Name]; !dup {
					byName[v.Name] = v
				}
			}
		}
	}
	for _, sym := range s.elf.symbols[1:] {
		if sym.shndx != elf.SHN_UNDEF || sym.name == "" || (sym.bind != elf.STB_GLOBAL && sym.bind != elf.STB_WEAK) {
			continue
		}
		if _, dup := s.externBy[sym.name]; dup {
			continue
		}
		t := byName[sym.name]
		if t == nil {
			return fmt.Errorf("failed to find BTF for extern '%s'", sym.name)
		}
		ext := &extern{name: sym.name, weak: sym.bind == elf.STB_WEAK}
		switch secOf[t] {
		case ".kconfig":
			v, ok := t.(*btf.Var)
			if !ok {
				return fmt.Errorf("extern (kcfg) '%s': is not a variable", sym.name)
			}
			ext.kind, ext.typ = extKconfig, v.Type
			if err := ext.classifyKcfg(); err != nil {
				return err
			}
		default:
			switch v := t.(type) {
			case *btf.Func:
				ext.kind, ext.typ = extKfunc, v.Type
			case *btf.Var:
				ext.kind, ext.typ = extKsymVar, v.Type
				_, void := btf.UnderlyingType(v.Type).(*btf.Void)
				ext.typed = !void
			}
		}
		s.externBy[ext.name] = ext
		s.externs = append(s.externs, ext)
	}
	// Deterministic order and .kconfig layout: kconfig externs by decreasing
	// alignment then name, then ksyms by name (as libbpf's cmp_externs()).
	sort.SliceStable(s.externs, func(a, b int) bool {
		x, y := s.externs[a], s.externs[b]
		if (x.kind == extKconfig) != (y.kind == extKconfig) {
			return x.kind == extKconfig
		}
		if x.kind == extKconfig && x.align != y.align {
			return x.align > y.align
		}
		return x.name < y.name
	})
	off := 0
	for i, ext := range s.externs {
		ext.idx = i
		if ext.kind != extKconfig {
			continue
		}
		off = (off + ext.align - 1) / ext.align * ext.align
		ext.dataOff = off
		off += ext.size
	}
	if off > 0 {
		s.kcfgMap = &mapDef{
			name: ".kconfig", kind: kindKconfig, typ: mapTypeArray, keySize: 4,
			valueSize: uint32(off), maxEntries: 1, flags: flagMmapable | flagRdonlyProg,
			data: make([]byte, off), datasec: s.datasec(".kconfig"),
		}
		s.maps = append(s.maps, s.kcfgMap)
	}
	return nil
}

// classifyKcfg mirrors libbpf's find_kcfg_type().
func (ext *extern) classifyKcfg() error {
	t := btf.UnderlyingType(ext.typ)
	switch u := t.(type) {
	case *btf.Int:
		switch {
		case u.Size == 1 && u.Encoding&btf.Bool != 0:
			ext.kcfg = kcfgBool
		case u.Size == 1 && u.Encoding&btf.Char != 0:
			ext.kcfg = kcfgChar
		case u.Size >= 1 && u.Size <= 8 && u.Size&(u.Size-1) == 0:
			ext.kcfg = kcfgInt
			ext.signed = u.Encoding&btf.Signed != 0
		}
		ext.size, ext.align = int(u.Size), int(u.Size)
	case *btf.Enum:
		if u.Size == 4 && u.Name == "libbpf_tristate" {
			ext.kcfg, ext.size, ext.align = kcfgTristate, 4, 4
		}
	case *btf.Array:
		if el, ok := btf.UnderlyingType(u.Type).(*btf.Int); ok && el.Size == 1 && u.Nelems > 0 && u.Nelems < 1<<16 {
			ext.kcfg, ext.size, ext.align = kcfgCharArr, int(u.Nelems), 1
		}
	}
	if ext.kcfg == kcfgUnknown || ext.size == 0 {
		return fmt.Errorf("extern (kcfg) '%s': type is unsupported", ext.name)
	}
	return nil
}

// kernelVersionCode is KERNEL_VERSION(a, b, c).
func kernelVersionCode(a, b, c uint32) uint32 {
	if c > 255 {
		c = 255
	}
	return a<<16 | b<<8 | c
}

// resolveKconfig fills the .kconfig map image, mirroring libbpf's
// bpf_object__resolve_externs() for kcfg externs: LINUX_* virtual externs
// from the target kernel, CONFIG_* from opts.Kconfig, weak ones absent => 0.
func (ld *loadState) resolveKconfig() error {
	s := ld.spec
	for _, ext := range s.externs {
		if ext.kind != extKconfig {
			continue
		}
		buf := ld.kcfgData[ext.dataOff : ext.dataOff+ext.size]
		switch {
		case ext.name == "LINUX_KERNEL_VERSION":
			if ext.kcfg != kcfgInt || ext.size < 4 {
				return fmt.Errorf("extern (kcfg) '%s': value '%d' doesn't fit in %d bytes", ext.name, s.opts.KernelVersion, ext.size)
			}
			putLE(buf, uint64(s.opts.KernelVersion))
			ld.kcfgSet[ext.name] = true
		case ext.name == "LINUX_HAS_BPF_COOKIE" || ext.name == "LINUX_HAS_SYSCALL_WRAPPER":
			if err := setKcfgNum(ext, buf, 1); err != nil {
				return err
			}
			ld.kcfgSet[ext.name] = true
		case strings.HasPrefix(ext.name, "LINUX_"):
			if !ext.weak {
				return fmt.Errorf("extern (kcfg) '%s': unrecognized virtual extern", ext.name)
			}
		default:
			val, ok := s.opts.Kconfig[ext.name]
			if !ok {
				continue
			}
			if err := setKcfgValue(ext, buf, val); err != nil {
				return err
			}
			ld.kcfgSet[ext.name] = true
		}
	}
	for _, ext := range s.externs {
		if ext.kind == extKconfig && !ld.kcfgSet[ext.name] && !ext.weak {
			return fmt.Errorf("extern '%s' (strong): not resolved", ext.name)
		}
	}
	return nil
}

// setKcfgValue parses one Kconfig value ("y", "n", "m", a number or a quoted
// string) into buf, as libbpf's bpf_object__process_kconfig_line().
func setKcfgValue(ext *extern, buf []byte, val string) error {
	switch {
	case val == "y" || val == "n" || val == "m":
		c := val[0]
		switch ext.kcfg {
		case kcfgBool:
			if c == 'm' {
				return fmt.Errorf("extern (kcfg) '%s': value '%c' isn't supported for bool", ext.name, c)
			}
			buf[0] = b2u8(c == 'y')
		case kcfgTristate:
			putLE(buf, map[byte]uint64{'n': 0, 'y': 1, 'm': 2}[c])
		case kcfgChar:
			buf[0] = c
		default:
			return fmt.Errorf("extern (kcfg) '%s': value '%c' implies tristate or char type", ext.name, c)
		}
	case strings.HasPrefix(val, "\""):
		if ext.kcfg != kcfgCharArr {
			return fmt.Errorf("extern (kcfg) '%s': value '%s' implies char array type", ext.name, val)
		}
		if len(val) < 2 || val[len(val)-1] != '"' {
			return fmt.Errorf("extern (kcfg) '%s': invalid string config '%s'", ext.name, val)
		}
		str := val[1 : len(val)-1]
		if len(str) >= len(buf) {
			str = str[:len(buf)-1]
		}
		copy(buf, str)
	default:
		n, err := strconv.ParseInt(val, 0, 64)
		if err != nil {
			u, uerr := strconv.ParseUint(val, 0, 64)
			if uerr != nil {
				return fmt.Errorf("extern (kcfg) '%s': invalid value '%s'", ext.name, val)
			}
			n = int64(u)
		}
		return setKcfgNum(ext, buf, uint64(n))
	}
	return nil
}

// setKcfgNum mirrors libbpf's set_kcfg_value_num().
func setKcfgNum(ext *extern, buf []byte, v uint64) error {
	switch ext.kcfg {
	case kcfgInt, kcfgChar:
	case kcfgBool:
		if v > 1 {
			return fmt.Errorf("extern (kcfg) '%s': value '%d' isn't boolean compatible", ext.name, v)
		}
	default:
		return fmt.Errorf("extern (kcfg) '%s': value '%d' implies integer, char, or boolean type", ext.name, v)
	}
	if ext.size < 8 {
		bits := uint(ext.size * 8)
		hi := v >> bits
		if hi != 0 && !(ext.signed && int64(v)>>(bits-1) == -1) {
			return fmt.Errorf("extern (kcfg) '%s': value '%d' doesn't fit in %d bytes", ext.name, v, ext.size)
		}
	}
	putLE(buf, v)
	return nil
}

func b2u8(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// ksymResolution is how one .ksyms extern was resolved.
type ksymResolution struct {
	set      bool
	targetID btf.TypeID // kernel BTF id of the FUNC or VAR
	target   string     // kernel name it resolved to
	addr     uint64     // typeless ksym address
}

// resolveKsyms mirrors libbpf's bpf_object__resolve_ksyms_btf_id() and the
// kallsyms step: kfuncs by name minus the ___flavor suffix and typed
// variables by their full name in the target kernel BTF, with compatible
// types; typeless symbols by address from opts.KernelSymbols.
func (ld *loadState) resolveKsyms() error {
	s := ld.spec
	kbtf := s.opts.KernelBTF
	for _, ext := range s.externs {
		if ext.kind == extKconfig {
			continue
		}
		r := &ld.ksyms[ext.idx]
		ess := essentialName(ext.name)
		switch {
		case ext.kind == extKfunc:
			fn, id, err := findKernelType[*btf.Func](kbtf, ess)
			if err != nil {
				if ext.weak {
					continue
				}
				return fmt.Errorf("extern (func ksym) '%s': not found in kernel or module BTFs", ext.name)
			}
			if err := btf.CheckTypeCompatibility(ext.typ, fn.Type); err != nil {
				if ext.weak {
					continue
				}
				return fmt.Errorf("extern (func ksym) '%s': func_proto incompatible with %s [%d]", ext.name, fn.Name, id)
			}
			*r = ksymResolution{set: true, targetID: id, target: fn.Name}
		case ext.typed:
			// Variables are looked up by their full name: libbpf strips
			// the ___flavor suffix for kfuncs only.
			v, id, err := findKernelType[*btf.Var](kbtf, ext.name)
			if err != nil {
				if ext.weak {
					continue
				}
				return fmt.Errorf("extern (var ksym) '%s': not found in kernel BTF", ext.name)
			}
			if err := btf.CheckTypeCompatibility(ext.typ, v.Type); err != nil {
				return fmt.Errorf("extern (var ksym) '%s': incompatible types, expected %s, but kernel has %s", ext.name, typeString(ext.typ), typeString(v.Type))
			}
			*r = ksymResolution{set: true, targetID: id, target: v.Name}
		default:
			addr, ok := s.opts.KernelSymbols[ext.name]
			if !ok {
				if ext.weak {
					continue
				}
				return fmt.Errorf("extern '%s' (strong): not resolved", ext.name)
			}
			*r = ksymResolution{set: true, target: ext.name, addr: addr}
		}
	}
	return nil
}

// findKernelType finds the one type of kind T named name in the kernel BTF.
func findKernelType[T btf.Type](spec *btf.Spec, name string) (T, btf.TypeID, error) {
	var zero T
	if spec == nil {
		return zero, 0, errors.New("no kernel BTF")
	}
	types, err := spec.AnyTypesByName(name)
	if err != nil {
		return zero, 0, err
	}
	for _, t := range types {
		if x, ok := t.(T); ok {
			id, err := spec.TypeID(x)
			if err != nil {
				return zero, 0, err
			}
			return x, id, nil
		}
	}
	return zero, 0, fmt.Errorf("%s: %w", name, btf.ErrNotFound)
}

// typeString renders a BTF type briefly for error messages.
func typeString(t btf.Type) string {
	if n := t.TypeName(); n != "" {
		return kindName(t) + " " + n
	}
	if p, ok := t.(*btf.Pointer); ok {
		return typeString(p.Target) + " *"
	}
	return kindName(t)
}
