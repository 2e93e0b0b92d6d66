package loader

import (
	"fmt"
	"sort"

	"github.com/cilium/ebpf/btf"
)

// Map types and flags the loader itself needs to know (include/uapi/linux/bpf.h).
const (
	mapTypeArray          = 2
	mapTypeProgArray      = 3
	mapTypePerfEventArray = 4
	mapTypeArrayOfMaps    = 12
	mapTypeHashOfMaps     = 13
	mapTypeArena          = 33

	flagRdonlyProg = 1 << 7  // BPF_F_RDONLY_PROG
	flagMmapable   = 1 << 10 // BPF_F_MMAPABLE
)

// mapKind says where a map comes from.
type mapKind int

const (
	kindBTF     mapKind = iota // declared in SEC(".maps")
	kindData                   // .data / .data.*
	kindRodata                 // .rodata / .rodata.*
	kindBSS                    // .bss / .bss.*
	kindKconfig                // .kconfig externs
)

func (k mapKind) String() string {
	return [...]string{"btf", "data", "rodata", "bss", "kconfig"}[k]
}

// mapDef is a map as the object declares it, before creation.
type mapDef struct {
	name       string
	kind       mapKind
	secOff     uint64 // offset of the map variable in .maps
	secSize    uint64 // size of the map variable in .maps
	typ        uint32
	keySize    uint32
	valueSize  uint32
	maxEntries uint32
	flags      uint32
	mapExtra   uint64
	numaNode   uint32
	key, value btf.Type
	inner      *mapDef
	valuesOff  uint64   // offset of the "values" member (map-in-map / prog array init)
	initSlots  []string // names of the maps or programs in the initial "values" slots
	data       []byte   // initial value of a global data map
	datasec    *btf.Datasec
}

// collectBTFMaps parses the BTF-defined maps of SEC(".maps"), as libbpf's
// bpf_object__init_user_btf_maps() does.
func (s *Spec) collectBTFMaps() error {
	sec := s.elf.byName[".maps"]
	if sec == nil {
		return nil
	}
	ds := s.datasec(".maps")
	if ds == nil {
		return fmt.Errorf("DATASEC '.maps' not found")
	}
	for _, vs := range ds.Vars {
		v, ok := vs.Type.(*btf.Var)
		if !ok {
			return fmt.Errorf("map #%d: unexpected var kind %T", len(s.maps), vs.Type)
		}
		if uint64(vs.Offset)+uint64(vs.Size) > sec.size {
			return fmt.Errorf("map '%s' BTF data is corrupted", v.Name)
		}
		m, err := parseMapDef(v.Name, v.Type, 0)
		if err != nil {
			return err
		}
		m.secOff, m.secSize = uint64(vs.Offset), uint64(vs.Size)
		s.maps = append(s.maps, m)
		if m.typ == mapTypeArena && s.arenaIdx < 0 {
			s.arenaIdx = len(s.maps) - 1
		}
	}
	sort.SliceStable(s.maps, func(a, b int) bool { return s.maps[a].secOff < s.maps[b].secOff })
	for i, m := range s.maps {
		if m.typ == mapTypeArena {
			s.arenaIdx = i
			break
		}
	}
	return s.collectMapInitSlots(sec)
}

// parseMapDef mirrors libbpf's parse_btf_map_def(): a map definition is a
// struct whose members encode attributes as pointers to arrays (__uint),
// pointers to types (__type) or enums (__ulong).
func parseMapDef(name string, t btf.Type, depth int) (*mapDef, error) {
	def, ok := btf.UnderlyingType(t).(*btf.Struct)
	if !ok {
		return nil, fmt.Errorf("map '%s': unexpected def kind %s", name, kindName(t))
	}
	m := &mapDef{name: name, kind: kindBTF}
	var keySize, valueSize uint32
	var haveKeySize, haveValueSize bool
	for i, mem := range def.Members {
		switch mem.Name {
		case "type", "max_entries", "map_flags", "numa_node", "key_size", "value_size", "pinning":
			n, err := mapFieldInt(name, mem)
			if err != nil {
				return nil, err
			}
			switch mem.Name {
			case "type":
				m.typ = n
			case "max_entries":
				m.maxEntries = n
			case "map_flags":
				m.flags = n
			case "numa_node":
				m.numaNode = n
			case "key_size":
				keySize, haveKeySize = n, true
			case "value_size":
				valueSize, haveValueSize = n, true
			}
		case "map_extra":
			n, err := mapFieldLong(name, mem)
			if err != nil {
				return nil, err
			}
			m.mapExtra = n
		case "key", "value":
			ptr, ok := btf.UnderlyingType(mem.Type).(*btf.Pointer)
			if !ok {
				return nil, fmt.Errorf("map '%s': %s spec is not PTR: %s", name, mem.Name, kindName(mem.Type))
			}
			sz, err := btf.Sizeof(ptr.Target)
			if err != nil {
				return nil, fmt.Errorf("map '%s': can't determine %s size for type: %v", name, mem.Name, err)
			}
			if mem.Name == "key" {
				if haveKeySize && keySize != uint32(sz) {
					return nil, fmt.Errorf("map '%s': conflicting key size %d != %d", name, keySize, sz)
				}
				m.key, keySize, haveKeySize = ptr.Target, uint32(sz), true
			} else {
				if haveValueSize && valueSize != uint32(sz) {
					return nil, fmt.Errorf("map '%s': conflicting value size %d != %d", name, valueSize, sz)
				}
				m.value, valueSize, haveValueSize = ptr.Target, uint32(sz), true
			}
		case "values":
			if i != len(def.Members)-1 {
				return nil, fmt.Errorf("map '%s': '%s' member should be last", name, mem.Name)
			}
			arr, ok := btf.UnderlyingType(mem.Type).(*btf.Array)
			if !ok || arr.Nelems != 0 {
				return nil, fmt.Errorf("map '%s': multi-dimensional or non-zero-sized '%s' is not supported", name, mem.Name)
			}
			ptr, ok := btf.UnderlyingType(arr.Type).(*btf.Pointer)
			if !ok {
				return nil, fmt.Errorf("map '%s': %s elem type is not PTR", name, mem.Name)
			}
			m.valuesOff = uint64(mem.Offset.Bytes())
			switch target := btf.UnderlyingType(ptr.Target).(type) {
			case *btf.Struct:
				if depth > 0 {
					return nil, fmt.Errorf("map '%s': multi-level inner maps not supported", name)
				}
				inner, err := parseMapDef(name+".inner", target, depth+1)
				if err != nil {
					return nil, err
				}
				m.inner = inner
				if haveValueSize && valueSize != 4 {
					return nil, fmt.Errorf("map '%s': conflicting value size %d != 4", name, valueSize)
				}
				valueSize, haveValueSize = 4, true
			case *btf.FuncProto:
				if m.typ != mapTypeProgArray {
					return nil, fmt.Errorf("map '%s': should be map-in-map or prog-array", name)
				}
				if haveValueSize && valueSize != 4 {
					return nil, fmt.Errorf("map '%s': conflicting value size %d != 4", name, valueSize)
				}
				valueSize, haveValueSize = 4, true
			default:
				return nil, fmt.Errorf("map '%s': %s elem type is not a map definition or function prototype", name, mem.Name)
			}
		}
	}
	if m.typ == 0 {
		return nil, fmt.Errorf("map '%s': map type isn't specified", name)
	}
	m.keySize, m.valueSize = keySize, valueSize
	return m, nil
}

// mapFieldInt decodes __uint(name, val): a pointer to an array of val elements.
func mapFieldInt(mapName string, mem btf.Member) (uint32, error) {
	ptr, ok := btf.UnderlyingType(mem.Type).(*btf.Pointer)
	if !ok {
		return 0, fmt.Errorf("map '%s': attr '%s': expected PTR, got %s", mapName, mem.Name, kindName(mem.Type))
	}
	arr, ok := btf.UnderlyingType(ptr.Target).(*btf.Array)
	if !ok {
		return 0, fmt.Errorf("map '%s': attr '%s': type is not an array", mapName, mem.Name)
	}
	return arr.Nelems, nil
}

// mapFieldLong decodes __ulong(name, val) (an enum whose only value is val)
// and also accepts the __uint form.
func mapFieldLong(mapName string, mem btf.Member) (uint64, error) {
	if e, ok := btf.UnderlyingType(mem.Type).(*btf.Enum); ok {
		if len(e.Values) != 1 {
			return 0, fmt.Errorf("map '%s': attr '%s': invalid __ulong", mapName, mem.Name)
		}
		return e.Values[0].Value, nil
	}
	n, err := mapFieldInt(mapName, mem)
	return uint64(n), err
}

// collectMapInitSlots records the initial "values" of map-in-map and
// prog-array maps: relocations in .maps pointing at other maps or programs.
func (s *Spec) collectMapInitSlots(sec *elfSection) error {
	for _, r := range s.elf.relocs[sec.idx] {
		sym := s.elf.symbols[r.sym]
		var m *mapDef
		for _, c := range s.maps {
			if r.off >= c.secOff && r.off < c.secOff+c.secSize {
				m = c
			}
		}
		if m == nil || (m.inner == nil && m.typ != mapTypeProgArray) {
			return fmt.Errorf(".maps relo #%d: cannot find map for offset %d", r.sym, r.off)
		}
		if r.off < m.secOff+m.valuesOff || (r.off-m.secOff-m.valuesOff)%8 != 0 {
			return fmt.Errorf("map '%s': invalid relo offset %d", m.name, r.off)
		}
		slot := int((r.off - m.secOff - m.valuesOff) / 8)
		if m.maxEntries == 0 || slot >= int(m.maxEntries) {
			return fmt.Errorf("map '%s': slot [%d] is out of bounds", m.name, slot)
		}
		for len(m.initSlots) <= slot {
			m.initSlots = append(m.initSlots, "")
		}
		m.initSlots[slot] = sym.name
	}
	return nil
}

// collectDataSections creates the internal single-element array map of each
// global data section, as libbpf's bpf_object__init_global_data_maps() does.
func (s *Spec) collectDataSections() error {
	for _, sec := range s.elf.sections {
		if sec.name == ".addr_space.1" {
			s.arenaData = sec
			continue
		}
		k, ok := isDataSection(sec)
		if !ok || sec.size == 0 {
			continue
		}
		m := &mapDef{
			name: sec.name, typ: mapTypeArray, keySize: 4, valueSize: uint32(sec.size),
			maxEntries: 1, flags: flagMmapable, datasec: s.datasec(sec.name),
		}
		switch k {
		case "data":
			m.kind = kindData
		case "rodata":
			m.kind, m.flags = kindRodata, flagMmapable|flagRdonlyProg
		case "bss":
			m.kind = kindBSS
		}
		m.data = make([]byte, sec.size)
		copy(m.data, sec.data)
		s.maps = append(s.maps, m)
		s.mapBySec[sec.idx] = m
		if err := s.addGlobals(m, sec); err != nil {
			return err
		}
	}
	if s.arenaData != nil {
		if s.arenaIdx < 0 {
			return fmt.Errorf("elf: sec '%s': to use global __arena variables the ARENA map should be explicitly declared in SEC(\".maps\")", s.arenaData.name)
		}
		if err := s.addGlobals(nil, s.arenaData); err != nil {
			return err
		}
	}
	return nil
}

func kindName(t btf.Type) string {
	switch btf.UnderlyingType(t).(type) {
	case *btf.Int:
		return "int"
	case *btf.Pointer:
		return "ptr"
	case *btf.Array:
		return "array"
	case *btf.Struct:
		return "struct"
	case *btf.Union:
		return "union"
	case *btf.Enum:
		return "enum"
	case *btf.Func:
		return "func"
	case *btf.FuncProto:
		return "func_proto"
	case *btf.Var:
		return "var"
	case *btf.Datasec:
		return "datasec"
	case *btf.Float:
		return "float"
	case *btf.Fwd:
		return "fwd"
	case *btf.Void:
		return "void"
	}
	return fmt.Sprintf("%T", t)
}
