package loader

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// Global is a global variable of the object: a variable of a .data, .bss,
// .rodata (or .data.*/.rodata.*) section, or an arena global of
// .addr_space.1.
type Global struct {
	Name    string
	Section string
	Offset  uint32 // within the section
	Size    uint32
	Type    btf.Type // the variable's BTF type (from the object's BTF)
	// ReadOnly is true for .rodata variables: programs cannot write them and
	// they cannot change after load.
	ReadOnly bool

	m *mapDef // owning data map; nil for arena globals
}

// addGlobals records the variables of a data section from its DATASEC.
func (s *Spec) addGlobals(m *mapDef, sec *elfSection) error {
	ds := s.datasec(sec.name)
	if ds == nil {
		return nil
	}
	for _, vs := range ds.Vars {
		v, ok := vs.Type.(*btf.Var)
		if !ok {
			return fmt.Errorf("sec '%s': unexpected DATASEC member %s", sec.name, kindName(vs.Type))
		}
		if uint64(vs.Offset)+uint64(vs.Size) > sec.size {
			return fmt.Errorf("sec '%s': variable '%s' (offset %d, size %d) lies outside the %d-byte section", sec.name, v.Name, vs.Offset, vs.Size, sec.size)
		}
		g := &Global{Name: v.Name, Section: sec.name, Offset: vs.Offset, Size: vs.Size, Type: v.Type, m: m}
		g.ReadOnly = m != nil && m.kind == kindRodata
		s.globals = append(s.globals, g)
		if _, dup := s.globalBy[g.Name]; !dup {
			s.globalBy[g.Name] = g
		}
	}
	return nil
}

// Globals lists the object's global variables in section order.
func (s *Spec) Globals() []*Global { return s.globals }

// initial returns the bytes holding g's initial value in the spec.
func (s *Spec) initial(g *Global) []byte {
	if g.m != nil {
		return g.m.data[g.Offset : g.Offset+g.Size]
	}
	return s.arenaInit()[g.Offset : g.Offset+g.Size]
}

// arenaInit is the initial image of .addr_space.1 (copied once, so that
// SetGlobal never writes into the caller's ELF bytes).
func (s *Spec) arenaInit() []byte {
	if s.arenaBytes == nil && s.arenaData != nil {
		s.arenaBytes = make([]byte, s.arenaData.size)
		copy(s.arenaBytes, s.arenaData.data)
	}
	return s.arenaBytes
}

// SetGlobal sets the initial value of global variable name before Load, as a
// libbpf skeleton's rodata/bss/data pointers allow between open and load.
// value may be a Go bool, integer, string (char arrays, enumerator names) or
// []byte of the variable's exact size.
func (s *Spec) SetGlobal(name string, value any) error {
	g := s.globalBy[name]
	if g == nil {
		return fmt.Errorf("global variable '%s' not found", name)
	}
	b, err := encodeValue(g.Type, int(g.Size), value)
	if err != nil {
		return fmt.Errorf("global variable '%s': %w", name, err)
	}
	copy(s.initial(g), b)
	return nil
}

// SetGlobalString applies an override of the form NAME=VALUE, VALUE being
// parsed according to the variable's BTF type: integers (decimal, 0x, 0o,
// 0b, negative), bools (true/false/1/0), enums (enumerator name or number),
// char arrays (the text, optionally in double quotes), arrays of wider
// integers, bools or enums (comma-separated values, one per element from
// the first, the rest zero). NAME[i]=VALUE sets element i of an integer
// or char array alone.
func (s *Spec) SetGlobalString(assign string) error {
	name, val, ok := strings.Cut(assign, "=")
	if !ok || name == "" {
		return fmt.Errorf("global override %q: want NAME=VALUE", assign)
	}
	base, idx, isElem, err := cutIndex(name)
	if err != nil {
		return fmt.Errorf("global override %q: %w", assign, err)
	}
	if isElem {
		return s.setElementString(base, idx, val)
	}
	g := s.globalBy[name]
	if g == nil {
		return fmt.Errorf("global variable '%s' not found", name)
	}
	if _, _, _, ok := intArray(g.Type); ok && !isByteArray(g.Type) {
		return s.setArrayString(g, val)
	}
	v, err := parseValue(g.Type, val)
	if err != nil {
		return fmt.Errorf("global variable '%s': %w", name, err)
	}
	return s.SetGlobal(name, v)
}

// encodeValue encodes v as a value of BTF type t occupying size bytes.
func encodeValue(t btf.Type, size int, v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		if len(b) != size {
			return nil, fmt.Errorf("value has %d bytes, variable has %d", len(b), size)
		}
		return b, nil
	}
	out := make([]byte, size)
	switch u := btf.UnderlyingType(t).(type) {
	case *btf.Int, *btf.Enum:
		signed := false
		if i, ok := u.(*btf.Int); ok {
			signed = i.Encoding&btf.Signed != 0
		} else {
			signed = u.(*btf.Enum).Signed
		}
		if e, ok := u.(*btf.Enum); ok {
			if name, ok := v.(string); ok {
				found := false
				for _, ev := range e.Values {
					if ev.Name == name {
						v, found = ev.Value, true
						if e.Signed {
							v = int64(ev.Value)
						}
						break
					}
				}
				if !found {
					return nil, fmt.Errorf("enum %s has no value %q", e.Name, name)
				}
			}
		}
		n, err := intBits(v, size, signed)
		if err != nil {
			return nil, err
		}
		putLE(out, n)
		return out, nil
	case *btf.Array:
		if el, ok := btf.UnderlyingType(u.Type).(*btf.Int); ok && el.Size == 1 {
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("char array needs a string, got %T", v)
			}
			if len(str) >= size {
				return nil, fmt.Errorf("string of %d bytes does not fit in char[%d] with its NUL", len(str), size)
			}
			copy(out, str)
			return out, nil
		}
	}
	return nil, fmt.Errorf("cannot set a %s variable from %T (use []byte)", kindName(t), v)
}

// intBits converts a Go bool or integer into the low size*8 bits, checking
// that it fits the variable's width and signedness.
func intBits(v any, size int, signed bool) (uint64, error) {
	var neg bool
	var mag uint64
	switch x := v.(type) {
	case bool:
		if x {
			mag = 1
		}
	case int:
		neg, mag = x < 0, uint64(absInt(int64(x)))
	case int8:
		neg, mag = x < 0, uint64(absInt(int64(x)))
	case int16:
		neg, mag = x < 0, uint64(absInt(int64(x)))
	case int32:
		neg, mag = x < 0, uint64(absInt(int64(x)))
	case int64:
		neg, mag = x < 0, uint64(absInt(x))
	case uint:
		mag = uint64(x)
	case uint8:
		mag = uint64(x)
	case uint16:
		mag = uint64(x)
	case uint32:
		mag = uint64(x)
	case uint64:
		mag = x
	default:
		return 0, fmt.Errorf("cannot set an integer from %T", v)
	}
	if size < 1 || size > 8 {
		return 0, fmt.Errorf("integer of %d bytes is not supported", size)
	}
	bits := uint(size * 8)
	if neg {
		limit := uint64(1) << (bits - 1)
		if !signed || mag > limit {
			return 0, fmt.Errorf("value -%d out of range for %d-byte %s integer", mag, size, signWord(signed))
		}
		return -mag, nil
	}
	max := uint64(math.MaxUint64)
	if bits < 64 {
		max = uint64(1)<<bits - 1
	}
	if signed {
		max >>= 1
	}
	if mag > max {
		return 0, fmt.Errorf("value %d out of range for %d-byte %s integer", mag, size, signWord(signed))
	}
	return mag, nil
}

// absInt returns |x| as an unsigned magnitude (math.MinInt64 included).
func absInt(x int64) uint64 {
	if x < 0 {
		return uint64(-(x + 1)) + 1
	}
	return uint64(x)
}

func signWord(signed bool) string {
	if signed {
		return "signed"
	}
	return "unsigned"
}

func putLE(b []byte, v uint64) {
	var tmp [8]byte
	binary.LittleEndian.PutUint64(tmp[:], v)
	copy(b, tmp[:])
}

// parseValue turns the text of a NAME=VALUE override into a Go value that
// encodeValue accepts for type t.
func parseValue(t btf.Type, text string) (any, error) {
	switch u := btf.UnderlyingType(t).(type) {
	case *btf.Int:
		if u.Encoding&btf.Bool != 0 || (u.Size == 1 && u.Name == "_Bool") {
			switch strings.ToLower(text) {
			case "true", "1", "y", "yes":
				return true, nil
			case "false", "0", "n", "no":
				return false, nil
			}
			return nil, fmt.Errorf("invalid bool %q", text)
		}
		return parseInt(text)
	case *btf.Enum:
		if n, err := parseInt(text); err == nil {
			return n, nil
		}
		return text, nil
	case *btf.Array:
		if el, ok := btf.UnderlyingType(u.Type).(*btf.Int); ok && el.Size == 1 {
			if len(text) >= 2 && text[0] == '"' && text[len(text)-1] == '"' {
				unq, err := strconv.Unquote(text)
				if err != nil {
					return nil, fmt.Errorf("invalid string %s: %v", text, err)
				}
				return unq, nil
			}
			return text, nil
		}
	}
	return nil, fmt.Errorf("cannot parse a value for a %s variable", kindName(t))
}

func parseInt(text string) (any, error) {
	if strings.HasPrefix(text, "-") {
		n, err := strconv.ParseInt(text, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid integer %q", text)
		}
		return n, nil
	}
	n, err := strconv.ParseUint(text, 0, 64)
	if err != nil {
		return nil, fmt.Errorf("invalid integer %q", text)
	}
	return n, nil
}
