package loader

import (
	"fmt"

	"github.com/scxsim/scxsim/bpf/vm"
)

// image is one entry program with every subprogram it reaches appended, as
// libbpf's bpf_object__relocate() builds it.
type image struct {
	main   *function
	insns  []vm.Insn
	placed map[*function]int // function -> first instruction in insns
	order  []*function       // functions in placement order
}

// link builds the image of entry program main: it copies main, then
// appends each subprogram the code calls or takes the address of (once),
// fixing call and ld_imm64 PSEUDO_FUNC offsets, and patches map, global
// data and extern references. Mirrors bpf_object__reloc_code() and
// bpf_object__relocate_data().
func (ld *loadState) link(main *function) (*image, error) {
	im := &image{main: main, placed: map[*function]int{}}
	im.place(main, ld.sec[main.sec.idx])
	for q := 0; q < len(im.order); q++ {
		f := im.order[q]
		base := im.placed[f]
		recs := ld.spec.relos[f.sec.idx]
		for j := 0; j < f.n; j++ {
			p := base + j
			in := &im.insns[p]
			rec, hasRec := recs[f.secOff+j]
			switch {
			case hasRec && (rec.kind == relCall || rec.kind == relSubprogAddr):
				var target int
				if rec.kind == relCall {
					target = int(rec.symOff/8) + int(in.Imm) + 1
				} else {
					if (rec.symOff+uint64(int64(in.Imm)))%8 != 0 {
						return nil, fmt.Errorf("prog '%s': bad subprog addr relo against '%s' at insn %d", main.name, rec.sym, p)
					}
					target = int((int64(rec.symOff) + int64(in.Imm)) / 8)
				}
				callee := ld.spec.funcAt(rec.target, target)
				if callee == nil {
					return nil, fmt.Errorf("prog '%s': no program found at %s+%d for call at insn %d", main.name, rec.target.name, target, p)
				}
				at := im.place(callee, ld.sec[callee.sec.idx]) + (target - callee.secOff)
				in = &im.insns[p] // place may have grown the slice
				in.Imm = int32(at - p - 1)
				if rec.kind == relSubprogAddr {
					in.Src = vm.PseudoFunc
					im.insns[p+1].Imm = 0
				}
			case !hasRec && in.Op == opCall && in.Src == vm.PseudoCall:
				// A call within the same section needs no ELF relocation.
				target := f.secOff + j + int(in.Imm) + 1
				callee := ld.spec.funcAt(f.sec, target)
				if callee == nil {
					return nil, fmt.Errorf("prog '%s': no program found at %s+%d for call at insn %d", main.name, f.sec.name, target, p)
				}
				at := im.place(callee, ld.sec[callee.sec.idx]) + (target - callee.secOff)
				in = &im.insns[p]
				in.Imm = int32(at - p - 1)
			case !hasRec && in.Op == opLdImm64 && in.Src == vm.PseudoFunc:
				target := f.secOff + j + int(in.Imm) + 1
				callee := ld.spec.funcAt(f.sec, target)
				if callee == nil {
					return nil, fmt.Errorf("prog '%s': bad subprog addr at insn %d", main.name, p)
				}
				at := im.place(callee, ld.sec[callee.sec.idx]) + (target - callee.secOff)
				in = &im.insns[p]
				in.Imm = int32(at - p - 1)
			case hasRec:
				if err := ld.relocateData(main, im, p, rec); err != nil {
					return nil, err
				}
			}
		}
	}
	return im, nil
}

// place appends f to the image unless it is already there and returns its
// first instruction index.
func (im *image) place(f *function, sec []vm.Insn) int {
	if at, ok := im.placed[f]; ok {
		return at
	}
	at := len(im.insns)
	im.insns = append(im.insns, sec[f.secOff:f.secOff+f.n]...)
	im.placed[f] = at
	im.order = append(im.order, f)
	return at
}

// relocateData patches a map, global data or extern reference at image
// instruction p. Mirrors bpf_object__relocate_data().
func (ld *loadState) relocateData(main *function, im *image, p int, rec relocation) error {
	in := &im.insns[p]
	switch rec.kind {
	case relMap:
		in.Src, in.Imm = vm.PseudoMapFD, int32(ld.mapIndex[rec.m])
		im.insns[p+1].Imm = 0
	case relData:
		off := int64(in.Imm) + int64(rec.symOff)
		if off < 0 || off > int64(rec.m.valueSize) {
			return fmt.Errorf("prog '%s': data relo against '%s' at insn %d: offset %d outside the %d-byte section", main.name, rec.sym, p, off, rec.m.valueSize)
		}
		in.Src, in.Imm = vm.PseudoMapValue, int32(ld.mapIndex[rec.m])
		im.insns[p+1].Imm = int32(off)
	case relArena:
		off := int64(in.Imm) + int64(rec.symOff) + int64(ld.arenaDataOff)
		if off < 0 || off > int64(^uint32(0)) {
			return fmt.Errorf("prog '%s': arena relo against '%s' at insn %d: bad offset %d", main.name, rec.sym, p, off)
		}
		in.Src, in.Imm = vm.PseudoMapValue, int32(ld.spec.arenaIdx)
		im.insns[p+1].Imm = int32(uint32(off))
	case relExternLd:
		ext := rec.ext
		switch {
		case ext.kind == extKconfig:
			in.Src, in.Imm = vm.PseudoMapValue, int32(ld.mapIndex[ld.spec.kcfgMap])
			im.insns[p+1].Imm = int32(ext.dataOff)
		case ext.kind == extKfunc || ext.typed:
			r := ld.ksyms[ext.idx]
			if r.set {
				in.Src, in.Imm = vm.PseudoBTFID, int32(r.targetID)
				im.insns[p+1].Imm = 0
			} else {
				// Unresolved __weak ksym: bpf_ksym_exists() sees 0.
				in.Src, in.Imm = 0, 0
				im.insns[p+1].Imm = 0
			}
		default:
			r := ld.ksyms[ext.idx]
			in.Src, in.Imm = 0, int32(uint32(r.addr))
			im.insns[p+1].Imm = int32(uint32(r.addr >> 32))
		}
	case relExternCall:
		ext := rec.ext
		r := ld.ksyms[ext.idx]
		if r.set {
			in.Src, in.Imm, in.Off = vm.PseudoKfuncCall, int32(r.targetID), 0
		} else {
			// libbpf's poison_kfunc_call(): an invalid helper call naming
			// the extern, which fails only if executed.
			in.Src, in.Dst, in.Off, in.Imm = 0, 0, 0, int32(PoisonKfuncBase+ext.idx)
		}
	}
	return nil
}
