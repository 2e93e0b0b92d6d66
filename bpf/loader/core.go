package loader

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/vm"
)

// PoisonCORE is the helper id libbpf writes over an instruction whose CO-RE
// relocation cannot be resolved (relo_core.c's bpf_core_poison_insn()).
const PoisonCORE = 0xbad2310

// PoisonKfuncBase + extern index is the helper id libbpf writes over a call
// to a __weak kfunc the kernel lacks (libbpf's poison_kfunc_call()).
const PoisonKfuncBase = 2002000000

// coreKindNames are libbpf's names of enum bpf_core_relo_kind values.
var coreKindNames = [...]string{
	"byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64",
	"local_type_id", "target_type_id", "type_exists", "type_size",
	"enumval_exists", "enumval_value", "type_matches",
}

// CORERelo is one CO-RE relocation of the object and how it was resolved
// against the target kernel's BTF.
type CORERelo struct {
	Index    int    // position among the object's CO-RE relocations
	Section  string // program section
	Insn     int    // instruction index within the section
	Func     string // function containing the instruction
	Kind     string // libbpf's kind name: byte_off, field_exists, enumval_value, ...
	TypeID   btf.TypeID
	Access   string // raw access string, e.g. "0:1:2"
	Spec     string // human form, e.g. "struct task_struct.scx.dsq_vtime"
	Poisoned bool   // unresolvable: the instruction now stops the program
	// PoisonReason says why a relocation the kernel BTF resolves was still
	// poisoned: a load or store whose field changed size in a way a resized
	// access cannot follow. "" otherwise.
	PoisonReason string
	// OrigSize and NewSize are, for a byte_off relocation of a load or
	// store, the field's size in the object and in the kernel (0 for a
	// bitfield, both 0 when not computed). When they differ the access was
	// resized, as libbpf does, or poisoned (PoisonReason).
	OrigSize, NewSize uint32

	fix btf.COREFixup
}

// Fixup describes the resolution, e.g. "byte_off=8->16" or
// "byte_off=poison".
// A resized load or store adds " mem_sz=4->8".
func (r *CORERelo) Fixup() string {
	s := r.fix.String()
	if !r.Poisoned && r.OrigSize != r.NewSize {
		s += fmt.Sprintf(" mem_sz=%d->%d", r.OrigSize, r.NewSize)
	}
	return s
}

func (r *CORERelo) String() string {
	s := fmt.Sprintf("#%d %s insn %d (%s): %s %s", r.Index, r.Section, r.Insn, r.Func, r.Kind, r.Spec)
	if r.Poisoned {
		if r.PoisonReason != "" {
			return s + ": poisoned (" + r.PoisonReason + ")"
		}
		return s + ": poisoned"
	}
	return s + ": " + r.Fixup()
}

// rawCORERelo is one bpf_core_relo record of .BTF.ext.
type rawCORERelo struct {
	sec     string
	insnOff uint32
	typeID  uint32
	access  string
	kind    uint32
}

// parseCORERecords reads the core_relo subsection of .BTF.ext directly, to
// describe each relocation (the btf package keeps these fields private).
func parseCORERecords(btfRaw, extRaw []byte) ([]rawCORERelo, error) {
	le := binary.LittleEndian
	if len(btfRaw) < 24 || len(extRaw) < 8 {
		return nil, fmt.Errorf(".BTF.ext is truncated")
	}
	bhdr := le.Uint32(btfRaw[4:])
	strOff, strLen := le.Uint32(btfRaw[16:]), le.Uint32(btfRaw[20:])
	strStart := uint64(bhdr) + uint64(strOff)
	if strStart+uint64(strLen) > uint64(len(btfRaw)) {
		return nil, fmt.Errorf(".BTF string table is out of bounds")
	}
	strs := btfRaw[strStart : strStart+uint64(strLen)]
	str := func(off uint32) (string, error) {
		if uint64(off) >= uint64(len(strs)) {
			return "", fmt.Errorf(".BTF.ext: string offset %d out of bounds", off)
		}
		b := strs[off:]
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b), nil
	}
	hdrLen := le.Uint32(extRaw[4:])
	if hdrLen < 32 || uint64(hdrLen) > uint64(len(extRaw)) {
		return nil, nil // no CO-RE subsection in this header version
	}
	coreOff, coreLen := le.Uint32(extRaw[24:]), le.Uint32(extRaw[28:])
	start := uint64(hdrLen) + uint64(coreOff)
	if coreLen == 0 {
		return nil, nil
	}
	if start+uint64(coreLen) > uint64(len(extRaw)) || coreLen < 4 {
		return nil, fmt.Errorf(".BTF.ext CO-RE subsection is out of bounds")
	}
	b := extRaw[start : start+uint64(coreLen)]
	recSize := le.Uint32(b)
	if recSize < 16 {
		return nil, fmt.Errorf(".BTF.ext CO-RE record size %d is too small", recSize)
	}
	b = b[4:]
	var out []rawCORERelo
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, fmt.Errorf(".BTF.ext CO-RE subsection is truncated")
		}
		sec, err := str(le.Uint32(b))
		if err != nil {
			return nil, err
		}
		n := le.Uint32(b[4:])
		b = b[8:]
		if uint64(n)*uint64(recSize) > uint64(len(b)) {
			return nil, fmt.Errorf(".BTF.ext CO-RE section '%s' has %d records, more than fit", sec, n)
		}
		for i := uint32(0); i < n; i++ {
			r := b[uint64(i)*uint64(recSize):]
			acc, err := str(le.Uint32(r[8:]))
			if err != nil {
				return nil, err
			}
			out = append(out, rawCORERelo{sec: sec, insnOff: le.Uint32(r), typeID: le.Uint32(r[4:]), access: acc, kind: le.Uint32(r[12:])})
		}
		b = b[uint64(n)*uint64(recSize):]
	}
	return out, nil
}

// applyCORE resolves every CO-RE relocation against the target kernel BTF
// (btf.CORERelocate, derived from libbpf's relo_core.c) and patches the
// section instructions in ld.sec; a field-offset relocation on a load or
// store also gets libbpf's access size adjustment (adjustMemSize).
// Unresolvable relocations are poisoned as libbpf's bpf_core_poison_insn()
// does: the instruction (both halves of an ld_imm64) becomes
// `call 0xbad2310`.
func (ld *loadState) applyCORE() error {
	s := ld.spec
	if s.ext == nil || len(s.ext.CORERelos) == 0 {
		return nil
	}
	raws, err := parseCORERecords(s.elf.byName[".BTF"].data, s.elf.byName[".BTF.ext"].data)
	if err != nil {
		return err
	}
	// Records of each section, in instruction order (the btf package sorts
	// its relocations the same way).
	rawBySec := map[string][]rawCORERelo{}
	for _, r := range raws {
		rawBySec[r.sec] = append(rawBySec[r.sec], r)
	}
	for _, rs := range rawBySec {
		sort.SliceStable(rs, func(a, b int) bool { return rs[a].insnOff < rs[b].insnOff })
	}
	secNames := make([]string, 0, len(s.ext.CORERelos))
	total := 0
	for name, rs := range s.ext.CORERelos {
		secNames = append(secNames, name)
		total += len(rs)
	}
	sort.Strings(secNames)
	relos := make([]*btf.CORERelocation, 0, total)
	where := make([]CORERelo, 0, total)
	specs := map[rawCORERelo]string{}
	for _, name := range secNames {
		sec := s.elf.byName[name]
		if sec == nil || !progSection(sec) {
			return fmt.Errorf("CO-RE relocations for unknown section '%s'", name)
		}
		rs := rawBySec[name]
		if len(rs) != len(s.ext.CORERelos[name]) {
			return fmt.Errorf("sec '%s': inconsistent CO-RE relocation records", name)
		}
		var f *function
		for i, ro := range s.ext.CORERelos[name] {
			idx := int(ro.Offset)
			r := rs[i]
			if idx < 0 || idx >= len(ld.sec[sec.idx]) || r.insnOff/8 != uint32(idx) {
				return fmt.Errorf("sec '%s': CO-RE relocation at insn %d is out of bounds", name, idx)
			}
			cr := CORERelo{Index: len(where), Section: name, Insn: idx, TypeID: btf.TypeID(r.typeID), Access: r.access}
			if int(r.kind) < len(coreKindNames) {
				cr.Kind = coreKindNames[r.kind]
			} else {
				cr.Kind = "kind#" + strconv.Itoa(int(r.kind))
			}
			if f == nil || idx < f.secOff || idx >= f.secOff+f.n {
				f = s.funcAt(sec, idx)
			}
			if f != nil {
				cr.Func = f.name
			}
			key := rawCORERelo{typeID: r.typeID, access: r.access, kind: r.kind}
			spec, ok := specs[key]
			if !ok {
				spec = describeCORE(s.btf, btf.TypeID(r.typeID), r.access, r.kind)
				specs[key] = spec
			}
			cr.Spec = spec
			relos = append(relos, ro.Relo)
			where = append(where, cr)
		}
	}
	if len(relos) == 0 {
		return nil
	}
	target := s.opts.KernelBTF
	if target == nil {
		target = emptySpec()
	}
	fixups, err := btf.CORERelocate(relos, []*btf.Spec{target}, binary.LittleEndian, s.btf.TypeID)
	if err != nil {
		return fmt.Errorf("CO-RE relocation: %w", err)
	}
	for i := range fixups {
		cr := &where[i]
		insns := ld.sec[s.elf.byName[cr.Section].idx]
		cr.fix = fixups[i]
		if isPoison(&cr.fix) {
			ld.poisonCORE(cr, insns)
			continue
		}
		if err := applyFixup(&cr.fix, insns, cr.Insn); err != nil {
			return fmt.Errorf("prog '%s': relo #%d: %s %s: %w", cr.Func, cr.Index, cr.Kind, cr.Spec, err)
		}
		if cr.Kind == "byte_off" && isMemInsn(insns[cr.Insn].Op) {
			progInsn := cr.Insn
			if f := s.funcAt(s.elf.byName[cr.Section], cr.Insn); f != nil {
				progInsn -= f.secOff
			}
			if err := ld.adjustMemSize(cr, insns, progInsn); err != nil {
				return err
			}
			if cr.PoisonReason != "" {
				ld.poisonCORE(cr, insns)
			}
		}
	}
	ld.core = where
	return nil
}

// poisonCORE replaces relocation cr's instruction (both halves of an
// ld_imm64) with `call 0xbad2310`. Mirrors bpf_core_poison_insn().
func (ld *loadState) poisonCORE(cr *CORERelo, insns []vm.Insn) {
	cr.Poisoned = true
	poison := vm.Insn{Op: opCall, Imm: PoisonCORE}
	if insns[cr.Insn].Op == opLdImm64 && cr.Insn+1 < len(insns) {
		insns[cr.Insn+1] = poison
	}
	insns[cr.Insn] = poison
	ld.poisoned[poisonKey{cr.Section, cr.Insn}] = cr.Index
}

// isPoison reports whether a fixup poisons its instruction (the btf
// package keeps that bit private; applying it to a scratch instruction
// shows it).
func isPoison(fx *btf.COREFixup) bool {
	ins := asm.Instruction{OpCode: asm.OpCode(0x79), Dst: asm.R1, Src: asm.R1} // ldxdw r1, [r1]
	if err := fx.Apply(&ins); err != nil {
		return false
	}
	return ins.IsBuiltinCall() && ins.Constant == btf.COREBadRelocationSentinel
}

// applyFixup patches one instruction with a CO-RE fixup through the asm
// package's Instruction form.
func applyFixup(fx *btf.COREFixup, insns []vm.Insn, i int) error {
	in := insns[i]
	ins := asm.Instruction{OpCode: asm.OpCode(in.Op), Dst: asm.Register(in.Dst), Src: asm.Register(in.Src), Offset: in.Off, Constant: int64(in.Imm)}
	if in.Op == opLdImm64 {
		if i+1 >= len(insns) {
			return fmt.Errorf("truncated ldimm64")
		}
		ins.Constant = int64(insns[i+1].Imm)<<32 | int64(uint32(in.Imm))
	}
	if err := fx.Apply(&ins); err != nil {
		return err
	}
	insns[i].Off = ins.Offset
	insns[i].Imm = int32(ins.Constant)
	if in.Op == opLdImm64 {
		insns[i+1].Imm = int32(ins.Constant >> 32)
	}
	return nil
}

var emptyBTF *btf.Spec

// emptySpec is a kernel BTF with no types: every relocation against it fails
// to find a candidate and is poisoned (existence checks yield 0).
func emptySpec() *btf.Spec {
	if emptyBTF == nil {
		b, _ := btf.NewBuilder(nil, nil)
		raw, err := b.Marshal(nil, nil)
		if err == nil {
			emptyBTF, _ = btf.LoadSpecFromReader(bytes.NewReader(raw))
		}
	}
	return emptyBTF
}

// describeCORE renders a relocation's target in libbpf's spirit:
// "struct task_struct.scx.dsq_vtime", "enum scx_dsq_id_flags::SCX_DSQ_LOCAL".
func describeCORE(spec *btf.Spec, id btf.TypeID, access string, kind uint32) string {
	t, err := spec.TypeByID(id)
	if err != nil {
		return fmt.Sprintf("[%d] (%s)", id, access)
	}
	root := typeString(t)
	parts := strings.Split(access, ":")
	idx := make([]int, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return fmt.Sprintf("%s (%s)", root, access)
		}
		idx = append(idx, n)
	}
	switch {
	case kind == 10 || kind == 11: // enumval
		if e, ok := btf.UnderlyingType(t).(*btf.Enum); ok && len(idx) == 1 && idx[0] < len(e.Values) {
			return fmt.Sprintf("%s::%s", root, e.Values[idx[0]].Name)
		}
		return fmt.Sprintf("%s (%s)", root, access)
	case kind >= 6: // type-based
		return root
	}
	var sb strings.Builder
	sb.WriteString(root)
	if idx[0] != 0 {
		fmt.Fprintf(&sb, "[%d]", idx[0])
	}
	cur := t
	for _, n := range idx[1:] {
		switch u := btf.UnderlyingType(cur).(type) {
		case *btf.Struct, *btf.Union:
			var mems []btf.Member
			if st, ok := u.(*btf.Struct); ok {
				mems = st.Members
			} else {
				mems = u.(*btf.Union).Members
			}
			if n >= len(mems) {
				return fmt.Sprintf("%s (%s)", root, access)
			}
			if mems[n].Name != "" {
				sb.WriteString("." + mems[n].Name)
			}
			cur = mems[n].Type
		case *btf.Array:
			fmt.Fprintf(&sb, "[%d]", n)
			cur = u.Type
		default:
			return fmt.Sprintf("%s (%s)", root, access)
		}
	}
	return sb.String()
}
