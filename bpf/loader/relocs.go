package loader

import (
	"debug/elf"
	"fmt"
	"github.com/scxsim/scxsim/bpf/isa"
)

// relocKind mirrors libbpf's enum reloc_type.
type relocKind int

const (
	relMap         relocKind = iota // ld_imm64 of a map (RELO_LD64)
	relData                         // ld_imm64 of global data (RELO_DATA)
	relArena                        // ld_imm64 of an arena global
	relExternLd                     // ld_imm64 of an extern (RELO_EXTERN_LD64)
	relExternCall                   // call of a kfunc (RELO_EXTERN_CALL)
	relCall                         // bpf-to-bpf call (RELO_CALL)
	relSubprogAddr                  // ld_imm64 of a subprogram address (RELO_SUBPROG_ADDR)
)

// relocation is one recorded ELF relocation of a program instruction.
type relocation struct {
	kind   relocKind
	symOff uint64 // symbol value
	sym    string
	target *elfSection // section the symbol lives in (calls, subprog addresses)
	m      *mapDef     // relMap, relData
	ext    *extern     // relExternLd, relExternCall
}

const (
	opLdImm64 = isa.LD | isa.IMM | isa.DW
	opCall    = isa.JMP | isa.CALL
)

// collectRelocations mirrors libbpf's bpf_program__record_reloc() for every
// relocation of every program section.
func (s *Spec) collectRelocations() error {
	mapAt := func(off uint64) *mapDef {
		for _, m := range s.maps {
			if m.kind == kindBTF && m.secOff == off {
				return m
			}
		}
		return nil
	}
	for _, sec := range s.elf.sections {
		if !progSection(sec) {
			continue
		}
		insns := s.secInsns[sec.idx]
		recs := map[int]relocation{}
		for _, r := range s.elf.relocs[sec.idx] {
			sym := s.elf.symbols[r.sym]
			if r.off%8 != 0 || r.off/8 >= uint64(len(insns)) {
				return fmt.Errorf("sec '%s': invalid offset 0x%x for relocation", sec.name, r.off)
			}
			idx := int(r.off / 8)
			insn := insns[idx]
			name := sym.name
			if sym.typ == elf.STT_SECTION {
				if ts := s.elf.section(sym.shndx); ts != nil {
					name = ts.name
				}
			}
			if f := s.funcAt(sec, idx); f == nil {
				return fmt.Errorf("sec '%s': relo against '%s' at insn %d belongs to no program", sec.name, name, idx)
			}
			var rec relocation
			rec.sym, rec.symOff = name, sym.value
			isLd := insn.Op == opLdImm64
			if insn.Op != opCall && !isLd {
				return fmt.Errorf("sec '%s': invalid relo against '%s' for insns[%d].code 0x%x", sec.name, name, idx, insn.Op)
			}
			if isLd && idx+1 >= len(insns) {
				return fmt.Errorf("sec '%s': ldimm64 at insn %d is truncated", sec.name, idx)
			}
			if sym.shndx == elf.SHN_UNDEF {
				ext := s.externBy[sym.name]
				if ext == nil {
					return fmt.Errorf("sec '%s': extern relo failed to find extern for '%s'", sec.name, sym.name)
				}
				if insn.Op == opCall {
					if ext.kind != extKfunc {
						return fmt.Errorf("sec '%s': call to extern '%s' which is not a function", sec.name, ext.name)
					}
					rec.kind = relExternCall
				} else {
					rec.kind = relExternLd
				}
				rec.ext = ext
				recs[idx] = rec
				continue
			}
			target := s.elf.section(sym.shndx)
			if target == nil {
				return fmt.Errorf("sec '%s': relo against '%s' in invalid section %d", sec.name, name, sym.shndx)
			}
			rec.target = target
			if insn.Op == opCall {
				if insn.Src != 1 {
					return fmt.Errorf("sec '%s': incorrect bpf_call opcode at insn %d", sec.name, idx)
				}
				if !progSection(target) {
					return fmt.Errorf("sec '%s': bad call relo against '%s' in section '%s'", sec.name, name, target.name)
				}
				if sym.typ != elf.STT_SECTION && sym.typ != elf.STT_FUNC {
					return fmt.Errorf("sec '%s': bad call relo against '%s'", sec.name, name)
				}
				rec.kind = relCall
				recs[idx] = rec
				continue
			}
			switch {
			case progSection(target):
				rec.kind = relSubprogAddr
			case target.name == ".maps":
				m := mapAt(sym.value)
				if m == nil {
					return fmt.Errorf("sec '%s': map relo failed to find map for section '%s', off %d", sec.name, target.name, sym.value)
				}
				rec.kind, rec.m = relMap, m
			case target == s.arenaData:
				rec.kind = relArena
			case s.mapBySec[target.idx] != nil:
				rec.kind, rec.m = relData, s.mapBySec[target.idx]
			default:
				if _, ok := isDataSection(target); ok {
					// An empty data section has no map; nothing can point into it.
					return fmt.Errorf("sec '%s': relo against '%s' in empty section '%s'", sec.name, name, target.name)
				}
				return fmt.Errorf("sec '%s': bad map relo against '%s' in section '%s'", sec.name, name, target.name)
			}
			recs[idx] = rec
		}
		s.relos[sec.idx] = recs
	}
	return nil
}
