package loader

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// intArray reports whether t is a one-dimensional array of integers,
// bools or enums (the arrays a front end fills before load, e.g. const
// volatile u32 cpu_map[256]), with its element type and size.
func intArray(t btf.Type) (arr *btf.Array, elem btf.Type, size int, ok bool) {
	arr, ok = btf.UnderlyingType(t).(*btf.Array)
	if !ok {
		return nil, nil, 0, false
	}
	switch btf.UnderlyingType(arr.Type).(type) {
	case *btf.Int, *btf.Enum:
	default:
		return nil, nil, 0, false
	}
	n, err := btf.Sizeof(arr.Type)
	if err != nil || n < 1 || n > 8 {
		return nil, nil, 0, false
	}
	return arr, arr.Type, n, true
}

// isByteArray reports whether t is an array of 1-byte integers other than
// bools (char, u8), which NAME=VALUE fills with text.
func isByteArray(t btf.Type) bool {
	arr, elem, _, ok := intArray(t)
	if !ok || arr == nil {
		return false
	}
	i, isInt := btf.UnderlyingType(elem).(*btf.Int)
	return isInt && i.Size == 1 && i.Encoding&btf.Bool == 0 && i.Name != "_Bool"
}

// cutIndex splits "NAME[i]" into NAME and i.
func cutIndex(name string) (base string, idx uint64, ok bool, err error) {
	open := strings.IndexByte(name, '[')
	if open < 0 || !strings.HasSuffix(name, "]") {
		return name, 0, false, nil
	}
	idx, err = strconv.ParseUint(name[open+1:len(name)-1], 0, 32)
	if err != nil || open == 0 {
		return "", 0, true, fmt.Errorf("invalid array element %q: want NAME[INDEX]", name)
	}
	return name[:open], idx, true, nil
}

// encodeElem parses text as one element of type elem and encodes it.
func encodeElem(elem btf.Type, size int, text string) ([]byte, error) {
	v, err := parseValue(elem, strings.TrimSpace(text))
	if err != nil {
		return nil, err
	}
	return encodeValue(elem, size, v)
}

// setArrayString applies NAME=v1,v2,... to an integer array: element i
// takes the i-th value, the elements past the last value zero.
func (s *Spec) setArrayString(g *Global, val string) error {
	arr, elem, size, _ := intArray(g.Type)
	b := make([]byte, g.Size)
	if strings.TrimSpace(val) != "" {
		vals := strings.Split(val, ",")
		if uint64(len(vals)) > uint64(arr.Nelems) {
			return fmt.Errorf("global variable '%s': %d values for %d elements", g.Name, len(vals), arr.Nelems)
		}
		for i, text := range vals {
			e, err := encodeElem(elem, size, text)
			if err != nil {
				return fmt.Errorf("global variable '%s': element %d: %w", g.Name, i, err)
			}
			copy(b[i*size:], e)
		}
	}
	copy(s.initial(g), b)
	return nil
}

// setElementString applies NAME[i]=v to element i of an integer (or
// char) array, leaving the other elements as they are.
func (s *Spec) setElementString(base string, idx uint64, val string) error {
	g := s.globalBy[base]
	if g == nil {
		return fmt.Errorf("global variable '%s' not found", base)
	}
	arr, elem, size, ok := intArray(g.Type)
	if !ok {
		return fmt.Errorf("global variable '%s': a %s is not an array of integers", base, kindName(g.Type))
	}
	if idx >= uint64(arr.Nelems) || (idx+1)*uint64(size) > uint64(g.Size) {
		return fmt.Errorf("global variable '%s': index %d out of range [0, %d)", base, idx, arr.Nelems)
	}
	e, err := encodeElem(elem, size, val)
	if err != nil {
		return fmt.Errorf("global variable '%s[%d]': %w", base, idx, err)
	}
	copy(s.initial(g)[idx*uint64(size):], e)
	return nil
}
