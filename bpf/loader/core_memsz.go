package loader

import (
	"fmt"
	"github.com/scxsim/scxsim/bpf/isa"
	"reflect"
	"strconv"
	"strings"
	"syscall"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/vm"
)

// CO-RE load/store size adjustment. The btf package computes where a field
// moved but leaves the instruction's access size alone; libbpf also resizes
// a load or store whose field changed size (relo_core.c:
// bpf_core_calc_relo() decides, bpf_core_patch_insn() patches). To know the
// sizes, the field access is walked again here on both sides, following
// libbpf's field spec rules (bpf_core_parse_spec(), bpf_core_spec_match()).

// coreSpecMaxLen bounds an access string, as BPF_CORE_SPEC_MAX_LEN.
const coreSpecMaxLen = 64

// coreAccessor is one semantic step of a field access: a named member of a
// struct or union, or an array index (libbpf's bpf_core_accessor).
type coreAccessor struct {
	// typ is the struct or union holding a named member, or the element
	// type (qualifiers and typedefs skipped) of an index step.
	typ  btf.Type
	idx  int
	name string
	// member is the named member (nil for index steps).
	member *btf.Member
}

// coreFieldSpec is a parsed or matched field access (libbpf's
// bpf_core_spec for field relocations).
type coreFieldSpec struct {
	acc    []coreAccessor
	rawLen int
	bitOff uint64
}

func (sp *coreFieldSpec) last() *coreAccessor { return &sp.acc[len(sp.acc)-1] }

// parseAccessString splits "0:1:2" into its indices.
func parseAccessString(s string) ([]int, error) {
	if s == "" || s[0] == ':' {
		return nil, syscall.EINVAL
	}
	parts := strings.Split(s, ":")
	if len(parts) > coreSpecMaxLen {
		return nil, syscall.E2BIG
	}
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, syscall.EINVAL
		}
		out[i] = n
	}
	return out, nil
}

// composite returns the members of a struct or union.
func composite(t btf.Type) ([]btf.Member, bool) {
	switch u := t.(type) {
	case *btf.Struct:
		return u.Members, true
	case *btf.Union:
		return u.Members, true
	}
	return nil, false
}

// isFlexArray says whether arr, reached through accessor acc, is a
// flexible array member: zero elements and the last member of its struct.
// Mirrors libbpf's is_flex_arr().
func isFlexArray(acc *coreAccessor, arr *btf.Array) bool {
	if acc == nil || acc.name == "" || arr.Nelems > 0 {
		return false
	}
	mems, _ := composite(acc.typ)
	return acc.idx == len(mems)-1
}

// parseCOREFieldSpec walks access string raw from root in the object's BTF.
// Mirrors the field part of libbpf's bpf_core_parse_spec().
func parseCOREFieldSpec(root btf.Type, raw []int) (*coreFieldSpec, error) {
	if len(raw) == 0 {
		return nil, syscall.EINVAL
	}
	cur := btf.UnderlyingType(root)
	sp := &coreFieldSpec{rawLen: len(raw)}
	sp.acc = append(sp.acc, coreAccessor{typ: cur, idx: raw[0]})
	sz, err := btf.Sizeof(cur)
	if err != nil {
		return nil, err
	}
	sp.bitOff = uint64(raw[0]) * uint64(sz) * 8
	for _, idx := range raw[1:] {
		t := btf.UnderlyingType(cur)
		if mems, ok := composite(t); ok {
			if idx >= len(mems) {
				return nil, syscall.EINVAL
			}
			m := &mems[idx]
			sp.bitOff += uint64(m.Offset)
			if m.Name != "" {
				sp.acc = append(sp.acc, coreAccessor{typ: t, idx: idx, name: m.Name, member: m})
			}
			cur = m.Type
			continue
		}
		arr, ok := t.(*btf.Array)
		if !ok {
			return nil, fmt.Errorf("access into %s: %w", kindName(t), syscall.EINVAL)
		}
		elem := btf.UnderlyingType(arr.Type)
		if !isFlexArray(sp.last(), arr) && idx >= int(arr.Nelems) {
			return nil, syscall.EINVAL
		}
		sp.acc = append(sp.acc, coreAccessor{typ: elem, idx: idx})
		esz, err := btf.Sizeof(elem)
		if err != nil {
			return nil, err
		}
		sp.bitOff += uint64(idx) * uint64(esz) * 8
		cur = elem
	}
	return sp, nil
}

// coreFieldsCompatible says whether a local and a target field type may
// stand for each other. Mirrors libbpf's bpf_core_fields_are_compat().
func coreFieldsCompatible(local, targ btf.Type) bool {
	for depth := 0; depth < 32; depth++ {
		l, t := btf.UnderlyingType(local), btf.UnderlyingType(targ)
		_, lc := composite(l)
		_, tc := composite(t)
		if lc && tc {
			return true
		}
		if reflect.TypeOf(l) != reflect.TypeOf(t) {
			return false
		}
		switch lt := l.(type) {
		case *btf.Pointer, *btf.Float:
			return true
		case *btf.Fwd, *btf.Enum:
			ln, tn := essentialName(l.TypeName()), essentialName(t.TypeName())
			return ln == "" || tn == "" || ln == tn
		case *btf.Int:
			return true
		case *btf.Array:
			local, targ = lt.Type, t.(*btf.Array).Type
		default:
			return false
		}
	}
	return false
}

// matchMember finds local accessor la's member by name in target type
// targ, descending into anonymous members, and appends the target accessor
// to sp. It returns the member's type. Mirrors libbpf's
// bpf_core_match_member().
func matchMember(la *coreAccessor, targ btf.Type, sp *coreFieldSpec) (btf.Type, bool, error) {
	t := btf.UnderlyingType(targ)
	mems, ok := composite(t)
	if !ok {
		return nil, false, nil
	}
	for i := range mems {
		m := &mems[i]
		if sp.rawLen == coreSpecMaxLen {
			return nil, false, syscall.E2BIG
		}
		sp.bitOff += uint64(m.Offset)
		sp.rawLen++
		if m.Name == "" {
			next, found, err := matchMember(la, m.Type, sp)
			if found || err != nil {
				return next, found, err
			}
		} else if m.Name == la.name {
			if !coreFieldsCompatible(la.member.Type, m.Type) {
				return nil, false, nil
			}
			sp.acc = append(sp.acc, coreAccessor{typ: t, idx: i, name: m.Name, member: m})
			return m.Type, true, nil
		}
		sp.bitOff -= uint64(m.Offset)
		sp.rawLen--
	}
	return nil, false, nil
}

// matchCOREFieldSpec matches a local field access against target root
// type targ. Mirrors the field part of libbpf's bpf_core_spec_match().
func matchCOREFieldSpec(local *coreFieldSpec, targ btf.Type) (*coreFieldSpec, bool, error) {
	sp := &coreFieldSpec{}
	cur := targ
	for i := range local.acc {
		la := &local.acc[i]
		t := btf.UnderlyingType(cur)
		if la.name != "" {
			next, found, err := matchMember(la, t, sp)
			if !found || err != nil {
				return nil, false, err
			}
			cur = next
			continue
		}
		if i > 0 {
			arr, ok := t.(*btf.Array)
			if !ok {
				return nil, false, nil
			}
			var prev *coreAccessor
			if len(sp.acc) > 0 {
				prev = sp.last()
			}
			if !isFlexArray(prev, arr) && la.idx >= int(arr.Nelems) {
				return nil, false, nil
			}
			t = btf.UnderlyingType(arr.Type)
		}
		if sp.rawLen == coreSpecMaxLen {
			return nil, false, syscall.E2BIG
		}
		sp.acc = append(sp.acc, coreAccessor{typ: t, idx: la.idx})
		sp.rawLen++
		sz, err := btf.Sizeof(t)
		if err != nil {
			return nil, false, err
		}
		sp.bitOff += uint64(la.idx) * uint64(sz) * 8
		cur = t
	}
	return sp, true, nil
}

// memAccess is what a field-offset relocation's load or store reaches:
// the byte offset the relocation yields and the field's size and type
// (qualifiers and typedefs skipped). A bitfield has size 0 and no type: its
// access is never resized, and a field that is a bitfield on one side only
// cannot be. Mirrors the BPF_CORE_FIELD_BYTE_OFFSET case of libbpf's
// bpf_core_calc_field_relo().
func (sp *coreFieldSpec) memAccess() (off, size uint32, typ btf.Type, err error) {
	acc := sp.last()
	if acc.name == "" {
		sz, err := btf.Sizeof(acc.typ)
		return uint32(sp.bitOff / 8), uint32(sz), acc.typ, err
	}
	mt := btf.UnderlyingType(acc.member.Type)
	sz, err := btf.Sizeof(mt)
	if err != nil {
		return 0, 0, nil, err
	}
	bits := uint64(acc.member.BitfieldSize)
	if bits == 0 {
		return uint32(sp.bitOff / 8), uint32(sz), mt, nil
	}
	// The smallest naturally aligned load holding the whole bitfield.
	width := uint64(sz)
	if width == 0 {
		return 0, 0, nil, syscall.EINVAL
	}
	byteOff := sp.bitOff / 8 / width * width
	for sp.bitOff+bits-byteOff*8 > width*8 {
		if width >= 8 {
			return 0, 0, nil, syscall.E2BIG
		}
		width *= 2
		byteOff = sp.bitOff / 8 / width * width
	}
	return uint32(byteOff), 0, nil, nil
}

// memSizeAdjustable says whether a load or store of a field whose size
// differs between the object and the kernel may simply be resized: both
// pointers, or both integers without the signed encoding (zero extension
// keeps the value). Anything else must not be touched. Mirrors the check in
// libbpf's bpf_core_calc_relo(), which compares the whole encoding with
// BTF_INT_SIGNED.
func memSizeAdjustable(local, targ btf.Type) bool {
	_, lp := local.(*btf.Pointer)
	_, tp := targ.(*btf.Pointer)
	if lp && tp {
		return true
	}
	li, lok := local.(*btf.Int)
	ti, tok := targ.(*btf.Int)
	return lok && tok && li.Encoding != btf.Signed && ti.Encoding != btf.Signed
}

// insnMemBytes is the access size of a load or store opcode.
func insnMemBytes(op uint8) uint32 {
	return [...]uint32{4, 2, 1, 8}[isa.Size(op)>>3]
}

// memSizeCode is the opcode size field for an access of n bytes.
func memSizeCode(n uint32) (uint8, bool) {
	switch n {
	case 1:
		return 0x10, true
	case 2:
		return 0x08, true
	case 4:
		return 0x00, true
	case 8:
		return 0x18, true
	}
	return 0, false
}

func isMemInsn(op uint8) bool {
	c := isa.Class(op)
	return c == isa.LDX || c == isa.ST || c == isa.STX
}

// coreCandidates returns the target types a local root type may relocate
// against: same essential name and same BTF kind, in type id order (libbpf's
// bpf_core_add_cands()).
func (ld *loadState) coreCandidates(local btf.Type) []btf.Type {
	if ld.coreCands == nil {
		ld.coreCands = map[string][]btf.Type{}
		for t, err := range ld.spec.opts.KernelBTF.All() {
			if err != nil {
				break
			}
			if n := t.TypeName(); n != "" {
				e := essentialName(n)
				ld.coreCands[e] = append(ld.coreCands[e], t)
			}
		}
	}
	var out []btf.Type
	for _, t := range ld.coreCands[essentialName(local.TypeName())] {
		if reflect.TypeOf(t) == reflect.TypeOf(local) {
			out = append(out, t)
		}
	}
	return out
}

// memszKey identifies a field access and the offset its fixup chose: the
// size decision is the same for every relocation sharing them.
type memszKey struct {
	typeID btf.TypeID
	access string
	off    int16
}

// memszDecision is how a field access's size compares between the object
// and the kernel.
type memszDecision struct {
	found         bool // a kernel candidate matched at the fixup's offset
	origSz, newSz uint32
	poisonReason  string // resizing would change the value
	err           error  // the access string does not parse
}

// adjustMemSize finishes a resolved field-offset relocation cr on the
// load or store insns[cr.Insn] (its offset already patched): when the
// field's size differs in the kernel, the access is resized, or poisoned if
// resizing would change the value read or written. Mirrors the LDX/ST/STX
// case of libbpf's bpf_core_patch_insn().
func (ld *loadState) adjustMemSize(cr *CORERelo, insns []vm.Insn, progInsn int) error {
	if ld.spec.opts.KernelBTF == nil {
		return nil
	}
	in := &insns[cr.Insn]
	key := memszKey{cr.TypeID, cr.Access, in.Off}
	dec, ok := ld.memsz[key]
	if !ok {
		dec = ld.decideMemSize(cr.TypeID, cr.Access, in.Off)
		if ld.memsz == nil {
			ld.memsz = map[memszKey]memszDecision{}
		}
		ld.memsz[key] = dec
	}
	if dec.err != nil {
		return fmt.Errorf("prog '%s': relo #%d: %w", cr.Func, cr.Index, dec.err)
	}
	if !dec.found {
		return nil
	}
	cr.OrigSize, cr.NewSize = dec.origSz, dec.newSz
	if dec.origSz == dec.newSz {
		return nil
	}
	if dec.poisonReason != "" {
		cr.PoisonReason = dec.poisonReason
		return nil
	}
	if got := insnMemBytes(in.Op); got != dec.origSz {
		return fmt.Errorf("prog '%s': relo #%d: insn #%d (LDX/ST/STX) unexpected mem size: got %d, exp %d: %w", cr.Func, cr.Index, progInsn, got, dec.origSz, syscall.EINVAL)
	}
	code, ok := memSizeCode(dec.newSz)
	if !ok {
		return fmt.Errorf("prog '%s': relo #%d: insn #%d (LDX/ST/STX) invalid new mem size: %d: %w", cr.Func, cr.Index, progInsn, dec.newSz, syscall.EINVAL)
	}
	in.Op = in.Op - isa.Size(in.Op) | code
	return nil
}

// decideMemSize compares the size of field access (root, access) in the
// object with the field the kernel has at byte offset off. The first
// candidate matching at that offset decides, as libbpf keeps its first
// matching candidate.
func (ld *loadState) decideMemSize(id btf.TypeID, access string, off int16) memszDecision {
	root, err := ld.spec.btf.TypeByID(id)
	if err != nil {
		return memszDecision{err: err}
	}
	raw, err := parseAccessString(access)
	var local *coreFieldSpec
	if err == nil {
		local, err = parseCOREFieldSpec(root, raw)
	}
	if err != nil {
		return memszDecision{err: fmt.Errorf("parsing [%d] %s + %s failed: %w", id, typeString(root), access, err)}
	}
	_, origSz, origT, err := local.memAccess()
	if err != nil {
		return memszDecision{} // a field the btf package already refused
	}
	for _, cand := range ld.coreCandidates(root) {
		targ, ok, err := matchCOREFieldSpec(local, cand)
		if err != nil || !ok {
			continue
		}
		toff, newSz, newT, err := targ.memAccess()
		if err != nil || toff != uint32(uint16(off)) {
			continue
		}
		dec := memszDecision{found: true, origSz: origSz, newSz: newSz}
		if origSz != newSz && (origT == nil || newT == nil || !memSizeAdjustable(origT, newT)) {
			dec.poisonReason = fmt.Sprintf("insn accesses field incorrectly: %s here, %s in the kernel; only pointers and unsigned integers may change size",
				describeAccess(origSz, origT), describeAccess(newSz, newT))
		}
		return dec
	}
	return memszDecision{}
}

// describeAccess renders a field's access for a poison reason.
func describeAccess(size uint32, t btf.Type) string {
	switch u := t.(type) {
	case nil:
		return "a bitfield"
	case *btf.Int:
		if u.Encoding == btf.Signed {
			return fmt.Sprintf("%d-byte signed integer", size)
		}
		return fmt.Sprintf("%d-byte unsigned integer", size)
	case *btf.Pointer:
		return fmt.Sprintf("%d-byte pointer", size)
	}
	return fmt.Sprintf("%d-byte %s", size, typeString(t))
}
