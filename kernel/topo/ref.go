package topo

import (
	"errors"
	"math/bits"
	"syscall"

	"github.com/scxsim/scxsim/kernel/cmask"
)

// ErrInvalidCmask is returned by RefInit for a cmask header out of bounds
// (-EINVAL in the kernel).
var ErrInvalidCmask error = syscall.EINVAL

// CmaskRef is struct scx_cmask_ref: a reference to a cmask with its range
// snapshotted (the header of a BPF-arena cmask can change under the kernel)
// and the shard indices the range covers.
type CmaskRef struct {
	t          *CidTable
	Src        cmask.Mask
	Base       uint32
	NrCids     uint32
	ShardFirst int32
	ShardEnd   int32
}

// RefInit binds a reference to a BPF-supplied cmask after validating its
// header: the range must lie in cid space and alloc_words cover it (and the
// view hold alloc_words). Mirrors scx_cmask_ref_init(); an invalid header
// returns ErrInvalidCmask and no scheduler error.
func (t *CidTable) RefInit(src cmask.Mask) (CmaskRef, error) {
	base, nr, aw := src.Base(), src.NrCids(), src.AllocWords()
	np := uint32(t.NrCids())
	if base >= np || nr > np-base || cmask.NrWords(nr) > aw || aw > src.StorageWords() {
		return CmaskRef{}, ErrInvalidCmask
	}
	return t.bindRef(src, base, nr), nil
}

// RefInitKern binds a reference to a kernel-owned cmask with trusted
// geometry, rewriting its header (alloc_words becomes NrWords(nr)). The
// range must lie in cid space. Mirrors scx_cmask_ref_init_kern().
func (t *CidTable) RefInitKern(m cmask.Mask, base, nr uint32) (CmaskRef, error) {
	np := uint32(t.NrCids())
	if base >= np || nr > np-base || cmask.NrWords(nr) > m.StorageWords() {
		return CmaskRef{}, errors.New("scx_cmask_ref_init_kern: geometry outside cid space or storage")
	}
	b := m.Bytes()
	putU32(b[cmask.OffBase:], base)
	putU32(b[cmask.OffNrCids:], nr)
	putU32(b[cmask.OffAllocWords:], cmask.NrWords(nr))
	return t.bindRef(m, base, nr), nil
}

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func (t *CidTable) bindRef(src cmask.Mask, base, nr uint32) CmaskRef {
	r := CmaskRef{t: t, Src: src, Base: base, NrCids: nr}
	r.ShardFirst = t.cidToShard[base]
	r.ShardEnd = r.ShardFirst
	if nr > 0 {
		r.ShardEnd = t.cidToShard[base+nr-1] + 1
	}
	return r
}

// Shard sets out to the part of the referenced range inside shard idx, with
// the bits read from the referenced cmask. An empty intersection leaves out
// as (shard base, 0). If out's alloc_words cannot hold it, out is left
// empty and an *Error with the kernel's message is returned. Mirrors
// scx_cmask_ref_shard().
func (r CmaskRef) Shard(idx int32, out cmask.Mask) error {
	s := r.t.Shard(int(idx))
	lo := uint32(s.BaseCid)
	need, ok := out.LoadWindow(r.Src, r.Base, r.NrCids, lo, lo+uint32(s.NrCids))
	if !ok {
		return scxError("scx_cmask_ref_shard: out alloc_words=%d < %d for shard %d", out.AllocWords(), need, idx)
	}
	return nil
}

// Or ORs src into the referenced cmask over the snapshotted range. Mirrors
// scx_cmask_ref_or().
func (r CmaskRef) Or(src cmask.Mask) { cmask.OrInto(r.Src, r.Base, r.NrCids, src) }

// Copy copies src into the referenced cmask over the snapshotted range
// (bits outside src's range are kept). Mirrors scx_cmask_ref_copy().
func (r CmaskRef) Copy(src cmask.Mask) { cmask.CopyInto(r.Src, r.Base, r.NrCids, src) }

// FromCpumask writes the referenced range from a cpumask: each cid's bit is
// its cpu's bit in cpus; padding becomes zero. Built from the set cpus and
// stored a word at a time. Mirrors scx_cmask_ref_from_cpumask().
func (r CmaskRef) FromCpumask(cpus CPUMask) {
	if r.NrCids == 0 {
		return
	}
	end := r.Base + r.NrCids
	first := r.Base / 64
	n := (end-1)/64 - first + 1
	if n > r.Src.StorageWords() {
		return
	}
	words := make([]uint64, n)
	for i, w := range cpus {
		for w != 0 {
			cpu := i*64 + bits.TrailingZeros64(w)
			w &= w - 1
			if cid := uint32(r.t.Cid(cpu)); cid >= r.Base && cid < end {
				words[cid/64-first] |= 1 << (cid & 63)
			}
		}
	}
	for wi, w := range words {
		r.Src.SetWord(uint32(wi), w)
	}
}

// CpumaskToCmask clears dst's range and sets the cid of each cpu in cpus
// that falls in it. Mirrors scx_cpumask_to_cmask() and the BPF-side
// cmask_from_cpumask() (which clears NrWords(nr_cids) words; here only the
// active range).
func (t *CidTable) CpumaskToCmask(cpus CPUMask, dst cmask.Mask) {
	dst.ClearAll()
	for i, w := range cpus {
		for w != 0 {
			cpu := i*64 + bits.TrailingZeros64(w)
			w &= w - 1
			if cid := t.Cid(cpu); cid >= 0 {
				dst.Set(uint32(cid))
			}
		}
	}
}

// CmaskToCpumask clears cpus and sets the cpu of each cid set in src.
func (t *CidTable) CmaskToCpumask(src cmask.Mask, cpus CPUMask) {
	clear(cpus)
	for cid := range src.Cids() {
		cpus.Set(t.CPU(int(cid)))
	}
}
