package loader

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/vm"
)

// Spec is an opened, not yet loaded object: its programs, maps, global
// variables, externs and struct_ops as the ELF describes them. Between Open
// and Load a caller may change global variables' initial values (SetGlobal),
// as a libbpf skeleton allows between open and load.
type Spec struct {
	opts Options

	elf      *elfFile
	btf      *btf.Spec
	ext      *btf.ExtInfos
	secInsns map[int][]vm.Insn // decoded instructions of each program section
	funcs    []*function       // every function, sorted by section then offset

	maps      []*mapDef // BTF maps, then data sections, then .kconfig
	mapBySec  map[int]*mapDef
	arenaIdx  int // index into maps of the arena map, -1 if none
	arenaData *elfSection

	globals   []*Global
	globalBy  map[string]*Global
	externs   []*extern
	externBy  map[string]*extern
	kcfgMap   *mapDef
	structOps []*structOpsDef
	relos     map[int]map[int]relocation // section index -> instruction index -> relocation
	license   string

	arenaBytes []byte      // initial image of .addr_space.1 (copied on first use)
	enums      []EnumValue // sched_ext enum values published into rodata
}

// Open parses a BPF ELF object without creating anything: programs, BTF,
// maps, global data, externs, struct_ops and relocations are read and
// checked. opts are kept for Load.
func Open(raw []byte, opts Options) (s *Spec, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("malformed BPF object: %v", r)
		}
	}()
	ef, err := parseELF(raw)
	if err != nil {
		return nil, err
	}
	s = &Spec{
		opts: opts, elf: ef, secInsns: map[int][]vm.Insn{}, mapBySec: map[int]*mapDef{},
		arenaIdx: -1, globalBy: map[string]*Global{}, externBy: map[string]*extern{},
		relos: map[int]map[int]relocation{},
	}
	if ef.byName["maps"] != nil {
		return nil, errors.New("elf: legacy map definitions in 'maps' section are not supported by libbpf v1.0+")
	}
	if ef.byName[".BTF"] == nil {
		return nil, errors.New("object has no BTF (.BTF section): build it with clang -g")
	}
	s.btf, s.ext, err = btf.LoadSpecAndExtInfosFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("object BTF: %w", err)
	}
	if lic := ef.byName["license"]; lic != nil {
		s.license = strings.TrimRight(string(lic.data), "\x00")
	}
	steps := []func() error{
		s.collectFunctions,
		s.collectBTFMaps,
		s.collectDataSections,
		s.collectExterns,
		s.collectStructOps,
		s.collectRelocations,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	s.publishSCXEnums()
	return s, nil
}

// datasec returns the BTF DATASEC describing section name, or nil.
func (s *Spec) datasec(name string) *btf.Datasec {
	var ds *btf.Datasec
	if err := s.btf.TypeByName(name, &ds); err != nil {
		return nil
	}
	return ds
}

// Programs lists the entry programs' names in section order.
func (s *Spec) Programs() []string {
	var out []string
	for _, f := range s.funcs {
		if !f.subprog {
			out = append(out, f.name)
		}
	}
	return out
}

// License is the object's license string (the "license" section).
func (s *Spec) License() string { return s.license }

// isDataSection reports whether a section is a global data section libbpf
// turns into an internal array map.
func isDataSection(sec *elfSection) (kind string, ok bool) {
	n := sec.name
	switch {
	case sec.typ == elf.SHT_PROGBITS && (n == ".data" || strings.HasPrefix(n, ".data.")):
		return "data", true
	case sec.typ == elf.SHT_PROGBITS && (n == ".rodata" || strings.HasPrefix(n, ".rodata.")):
		return "rodata", true
	case sec.typ == elf.SHT_NOBITS && (n == ".bss" || strings.HasPrefix(n, ".bss.")):
		return "bss", true
	}
	return "", false
}
