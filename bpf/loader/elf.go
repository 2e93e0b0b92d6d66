package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"sort"
)

// Limits that keep a hostile object from making the loader allocate without
// bound. Real sched_ext objects are far below each of them.
const (
	maxObjectSize   = 256 << 20 // whole ELF file
	maxSections     = 1 << 14
	maxSymbols      = 1 << 20
	maxSectionBytes = 64 << 20 // one section's data (also .bss size)
	maxRelocs       = 1 << 20  // relocation entries in one section
)

// BPF ELF relocation types (include/uapi/linux/bpf.h is silent on these; they
// are the LLVM BPF backend's R_BPF_* values).
const (
	rBPF64_64       = 1  // ld_imm64: map, global data, subprogram address, extern
	rBPF64_ABS64    = 2  // 64-bit data (struct_ops function pointers, .maps)
	rBPF64_ABS32    = 3  // 32-bit data (.BTF, .BTF.ext)
	rBPF64_NODYLD32 = 4  // 32-bit data not resolved at load (.BTF.ext)
	rBPF64_32       = 10 // call: bpf-to-bpf or kfunc
)

// elfSection is one section of the object with its data (nil for NOBITS).
type elfSection struct {
	idx   int
	name  string
	typ   elf.SectionType
	flags elf.SectionFlag
	size  uint64
	data  []byte
	link  uint32
	info  uint32
}

// elfSymbol is one symbol table entry; idx is its index in the symbol table
// (relocations refer to symbols by it).
type elfSymbol struct {
	idx     int
	name    string
	value   uint64
	size    uint64
	shndx   elf.SectionIndex
	bind    elf.SymBind
	typ     elf.SymType
	visible elf.SymVis
}

// elfReloc is one SHT_REL entry.
type elfReloc struct {
	off uint64
	sym int
	typ uint32
}

// elfFile is the parsed shape of a BPF object: its sections, symbols and the
// relocations of each section (keyed by the index of the section they apply
// to).
type elfFile struct {
	sections []*elfSection
	byName   map[string]*elfSection
	symbols  []elfSymbol // index 0 is the null symbol
	relocs   map[int][]elfReloc
}

// parseELF reads a relocatable little-endian 64-bit EM_BPF object. Every
// malformed input yields an error; debug/elf is used for headers and tables
// and any panic it raises on hostile input is turned into an error by the
// caller's recover.
func parseELF(raw []byte) (*elfFile, error) {
	if len(raw) > maxObjectSize {
		return nil, fmt.Errorf("object is %d bytes, more than the %d allowed", len(raw), maxObjectSize)
	}
	if len(raw) < 4 || !bytes.Equal(raw[:4], []byte(elf.ELFMAG)) {
		return nil, fmt.Errorf("not an ELF object (bad magic)")
	}
	f, err := elf.NewFile(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("malformed ELF: %w", err)
	}
	if f.Class != elf.ELFCLASS64 {
		return nil, fmt.Errorf("unsupported ELF class %s, want ELFCLASS64", f.Class)
	}
	if f.Data != elf.ELFDATA2LSB {
		return nil, fmt.Errorf("unsupported ELF byte order %s, want little-endian", f.Data)
	}
	if f.Machine != elf.EM_BPF {
		return nil, fmt.Errorf("ELF machine is %s, not EM_BPF", f.Machine)
	}
	if f.Type != elf.ET_REL {
		return nil, fmt.Errorf("ELF type is %s, not a relocatable object (ET_REL)", f.Type)
	}
	if len(f.Sections) > maxSections {
		return nil, fmt.Errorf("ELF has %d sections, more than the %d allowed", len(f.Sections), maxSections)
	}
	ef := &elfFile{byName: map[string]*elfSection{}, relocs: map[int][]elfReloc{}}
	for i, s := range f.Sections {
		sec := &elfSection{idx: i, name: s.Name, typ: s.Type, flags: s.Flags, size: s.Size, link: s.Link, info: s.Info}
		if s.Type != elf.SHT_NOBITS && s.Type != elf.SHT_NULL {
			if s.Size > maxSectionBytes {
				return nil, fmt.Errorf("section %q is %d bytes, more than the %d allowed", s.Name, s.Size, maxSectionBytes)
			}
			if s.Offset > uint64(len(raw)) || s.Size > uint64(len(raw))-s.Offset {
				return nil, fmt.Errorf("section %q (offset %d, size %d) lies outside the %d-byte file", s.Name, s.Offset, s.Size, len(raw))
			}
			sec.data = raw[s.Offset : s.Offset+s.Size : s.Offset+s.Size]
		} else if s.Type == elf.SHT_NOBITS && s.Size > maxSectionBytes {
			return nil, fmt.Errorf("section %q is %d bytes, more than the %d allowed", s.Name, s.Size, maxSectionBytes)
		}
		ef.sections = append(ef.sections, sec)
		if _, dup := ef.byName[s.Name]; !dup {
			ef.byName[s.Name] = sec
		}
	}
	if err := ef.readSymbols(f); err != nil {
		return nil, err
	}
	for _, sec := range ef.sections {
		if sec.typ != elf.SHT_REL {
			continue
		}
		if int(sec.info) >= len(ef.sections) || sec.info == 0 {
			return nil, fmt.Errorf("relocation section %q applies to invalid section %d", sec.name, sec.info)
		}
		if len(sec.data)%16 != 0 {
			return nil, fmt.Errorf("relocation section %q has size %d, not a multiple of 16", sec.name, len(sec.data))
		}
		n := len(sec.data) / 16
		if n > maxRelocs {
			return nil, fmt.Errorf("relocation section %q has %d entries, more than the %d allowed", sec.name, n, maxRelocs)
		}
		rels := make([]elfReloc, 0, n)
		for i := 0; i < n; i++ {
			b := sec.data[i*16:]
			info := binary.LittleEndian.Uint64(b[8:])
			r := elfReloc{off: binary.LittleEndian.Uint64(b), sym: int(info >> 32), typ: uint32(info)}
			if r.sym <= 0 || r.sym >= len(ef.symbols) {
				return nil, fmt.Errorf("relocation section %q entry %d: invalid symbol index %d", sec.name, i, r.sym)
			}
			rels = append(rels, r)
		}
		sort.SliceStable(rels, func(a, b int) bool { return rels[a].off < rels[b].off })
		ef.relocs[int(sec.info)] = append(ef.relocs[int(sec.info)], rels...)
	}
	return ef, nil
}

func (ef *elfFile) readSymbols(f *elf.File) error {
	var symtab *elf.Section
	for _, s := range f.Sections {
		if s.Type == elf.SHT_SYMTAB {
			if symtab != nil {
				return fmt.Errorf("ELF has more than one symbol table")
			}
			symtab = s
		}
	}
	if symtab == nil {
		return fmt.Errorf("ELF has no symbol table (SHT_SYMTAB)")
	}
	if symtab.Size/24 > maxSymbols {
		return fmt.Errorf("symbol table has %d entries, more than the %d allowed", symtab.Size/24, maxSymbols)
	}
	syms, err := f.Symbols()
	if err != nil {
		return fmt.Errorf("malformed ELF symbol table: %w", err)
	}
	ef.symbols = make([]elfSymbol, 0, len(syms)+1)
	ef.symbols = append(ef.symbols, elfSymbol{})
	for i, s := range syms {
		ef.symbols = append(ef.symbols, elfSymbol{
			idx: i + 1, name: s.Name, value: s.Value, size: s.Size, shndx: s.Section,
			bind: elf.ST_BIND(s.Info), typ: elf.ST_TYPE(s.Info), visible: elf.ST_VISIBILITY(s.Other),
		})
	}
	return nil
}

// section returns the section with index idx, or nil.
func (ef *elfFile) section(idx elf.SectionIndex) *elfSection {
	if idx == elf.SHN_UNDEF || int(idx) >= len(ef.sections) || idx >= elf.SHN_LORESERVE {
		return nil
	}
	return ef.sections[idx]
}

// symbolsIn returns the symbols defined in section idx, sorted by value then
// name so that every later step is deterministic.
func (ef *elfFile) symbolsIn(idx int) []elfSymbol {
	var out []elfSymbol
	for _, s := range ef.symbols[1:] {
		if int(s.shndx) == idx && s.shndx < elf.SHN_LORESERVE {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].value != out[b].value {
			return out[a].value < out[b].value
		}
		return out[a].name < out[b].name
	})
	return out
}
