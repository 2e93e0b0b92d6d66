package loader

import (
	"debug/elf"
	"fmt"
	"sort"
	"strings"

	"github.com/scxsim/scxsim/bpf/vm"
)

// function is one BPF function of the object: an entry program (a function
// in a program section) or a subprogram (a function in .text).
type function struct {
	name    string
	sec     *elfSection
	secOff  int  // first instruction index within the section
	n       int  // instruction slots
	subprog bool // lives in .text
	global  bool // STB_GLOBAL (global subprograms are verified separately by the kernel)
}

// progSection says whether a section holds entry programs and what kind.
func progSection(sec *elfSection) bool {
	return sec.typ == elf.SHT_PROGBITS && sec.flags&elf.SHF_EXECINSTR != 0 && len(sec.data) > 0
}

// collectFunctions finds every function symbol of every executable section,
// as libbpf's bpf_object__add_programs() does.
func (s *Spec) collectFunctions() error {
	for _, sec := range s.elf.sections {
		if !progSection(sec) {
			continue
		}
		if len(sec.data)%8 != 0 {
			return fmt.Errorf("sec '%s': corrupted program section, size %d is not a multiple of 8", sec.name, len(sec.data))
		}
		all, err := vm.DecodeBytes(sec.data)
		if err != nil {
			return fmt.Errorf("sec '%s': %w", sec.name, err)
		}
		s.secInsns[sec.idx] = all
		text := sec.name == ".text"
		for _, sym := range s.elf.symbolsIn(sec.idx) {
			if sym.typ != elf.STT_FUNC {
				continue
			}
			if sym.value%8 != 0 || sym.size%8 != 0 || sym.size == 0 || sym.value+sym.size > uint64(len(sec.data)) {
				return fmt.Errorf("sec '%s': corrupted program '%s', offset %d, size %d", sec.name, sym.name, sym.value, sym.size)
			}
			if !text && sym.bind == elf.STB_LOCAL {
				return fmt.Errorf("sec '%s': program '%s' is static and not supported", sec.name, sym.name)
			}
			f := &function{
				name: sym.name, sec: sec, secOff: int(sym.value / 8),
				subprog: text, global: sym.bind == elf.STB_GLOBAL,
			}
			f.n = int(sym.size / 8)
			s.funcs = append(s.funcs, f)
		}
	}
	// Functions of one section must not overlap.
	sort.SliceStable(s.funcs, func(a, b int) bool {
		if s.funcs[a].sec.idx != s.funcs[b].sec.idx {
			return s.funcs[a].sec.idx < s.funcs[b].sec.idx
		}
		return s.funcs[a].secOff < s.funcs[b].secOff
	})
	for i := 1; i < len(s.funcs); i++ {
		p, f := s.funcs[i-1], s.funcs[i]
		if p.sec == f.sec && p.secOff+p.n > f.secOff {
			return fmt.Errorf("sec '%s': programs '%s' and '%s' overlap", f.sec.name, p.name, f.name)
		}
	}
	return nil
}

// funcAt returns the function of section sec containing instruction idx.
func (s *Spec) funcAt(sec *elfSection, idx int) *function {
	i := sort.Search(len(s.funcs), func(i int) bool {
		f := s.funcs[i]
		if f.sec.idx != sec.idx {
			return f.sec.idx > sec.idx
		}
		return f.secOff+f.n > idx
	})
	if i < len(s.funcs) {
		f := s.funcs[i]
		if f.sec == sec && f.secOff <= idx && idx < f.secOff+f.n {
			return f
		}
	}
	return nil
}

// sectionKind classifies a program section name the way sched_ext objects
// use them.
func sleepableSection(name string) bool {
	name = strings.TrimPrefix(name, "?")
	return strings.HasPrefix(name, "struct_ops.s/") || strings.Contains(name, ".s/") || name == "syscall"
}

// funcByName returns the entry program called name, or nil.
func (s *Spec) funcByName(name string) *function {
	for _, f := range s.funcs {
		if !f.subprog && f.name == name {
			return f
		}
	}
	return nil
}
