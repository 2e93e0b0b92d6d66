// Package cmask implements struct scx_cmask, sched_ext's base-windowed bitmap
// over cid space, on the exact bytes a BPF program sees.
//
// A cmask covers the cids [base, base+nr_cids). Its bits[] words sit on the
// global 64-cid grid: bits[0] covers [base&^63, (base&^63)+64), so the low
// base&63 bits of bits[0] (head) and the bits past base+nr_cids in the last
// active word (tail) are padding that every mutating operation keeps zero.
// Because all cmasks share the grid, an operation between two cmasks of any
// bases is a word-for-word operation with an index offset and no shifting.
//
// A Mask is a view of a []byte holding the C struct (little-endian):
//
//	offset  0  u32 base
//	offset  4  u32 nr_cids
//	offset  8  u32 alloc_words
//	offset 12  4 bytes of padding (bits[] is u64-aligned)
//	offset 16  u64 bits[alloc_words]
//
// so a cmask can live in a BPF arena page and be handed across unchanged.
// The header is read from the bytes on every call, as the kernel does, so a
// BPF program's writes are seen. The view's slice length is trusted and the
// header is not: an operation whose header would reach past the bytes the
// view holds does nothing (predicates report false) instead of touching
// memory outside it; Check reports such headers.
//
// Sources: kernel/sched/ext/types.h (layout), kernel/sched/ext/cid.h and
// cid.c (kernel helpers), tools/sched_ext/include/scx/cid.bpf.h (BPF-side
// helpers). Where both sides provide an operation with different edge
// behaviour, the kernel's is used and the difference is documented.
package cmask

import (
	"encoding/binary"
	"fmt"
)

// Byte layout of struct scx_cmask.
const (
	OffBase       = 0  // offsetof(struct scx_cmask, base)
	OffNrCids     = 4  // offsetof(struct scx_cmask, nr_cids)
	OffAllocWords = 8  // offsetof(struct scx_cmask, alloc_words)
	OffBits       = 16 // offsetof(struct scx_cmask, bits)
	HeaderSize    = 16 // sizeof(struct scx_cmask)
)

// MaxWords is CMASK_MAX_WORDS of cid.bpf.h: the bound of the BPF-side loops
// over bits[], covering NR_CPUS=8192 plus one head-misalignment word.
const MaxWords = 129

var le = binary.LittleEndian

// NrWords is SCX_CMASK_NR_WORDS(): the bits[] words that hold nrCids cids at
// any base alignment. Computed in 64 bits and truncated, like the macro.
func NrWords(nrCids uint32) uint32 {
	return uint32((uint64(nrCids)+63)/64 + 1)
}

// Size is the byte size of a cmask with storage for allocCids cids, the
// struct_size() of __SCX_CMASK_DEFINE.
func Size(allocCids uint32) int {
	return HeaderSize + 8*int(NrWords(allocCids))
}

// Mask is a view of one struct scx_cmask in a byte slice. The zero Mask is
// not usable; get one from New, NewCap or View.
type Mask struct {
	b []byte
}

// View wraps b, which must start with a struct scx_cmask header; the words
// past the header are its bits[] storage. The header is not validated (see
// Check): a view may be taken before Init writes it.
func View(b []byte) (Mask, error) {
	if len(b) < HeaderSize {
		return Mask{}, fmt.Errorf("cmask: %d bytes cannot hold the %d-byte header", len(b), HeaderSize)
	}
	return Mask{b: b}, nil
}

// New allocates a zeroed cmask over [base, base+nrCids) on tight storage.
// Mirrors SCX_CMASK_DEFINE().
func New(base, nrCids uint32) Mask {
	return NewCap(base, nrCids, nrCids)
}

// NewCap allocates a zeroed cmask over [base, base+nrCids) with storage for
// allocCids cids, so it can be reframed later. Mirrors __SCX_CMASK_DEFINE().
func NewCap(base, nrCids, allocCids uint32) Mask {
	if allocCids < nrCids {
		allocCids = nrCids
	}
	m := Mask{b: make([]byte, Size(allocCids))}
	m.setHeader(base, nrCids, NrWords(allocCids))
	return m
}

// Bytes returns the bytes the view covers (header and storage).
func (m Mask) Bytes() []byte { return m.b }

// Base returns the first cid of the active range.
func (m Mask) Base() uint32 { return le.Uint32(m.b[OffBase:]) }

// NrCids returns the length of the active range.
func (m Mask) NrCids() uint32 { return le.Uint32(m.b[OffNrCids:]) }

// AllocWords returns the header's bits[] storage size in words.
func (m Mask) AllocWords() uint32 { return le.Uint32(m.b[OffAllocWords:]) }

// StorageWords returns how many bits[] words the view's bytes hold.
func (m Mask) StorageWords() uint32 { return uint32((len(m.b) - HeaderSize) / 8) }

func (m Mask) setHeader(base, nrCids, allocWords uint32) {
	le.PutUint32(m.b[OffBase:], base)
	le.PutUint32(m.b[OffNrCids:], nrCids)
	le.PutUint32(m.b[OffAllocWords:], allocWords)
	le.PutUint32(m.b[OffAllocWords+4:], 0)
}

// Word returns bits[i], or 0 when the view holds no such word.
func (m Mask) Word(i uint32) uint64 {
	if i >= m.StorageWords() {
		return 0
	}
	return le.Uint64(m.b[OffBits+8*int(i):])
}

// SetWord stores bits[i] as is (padding included); out-of-storage indices
// are ignored. For tests and for code that builds words itself.
func (m Mask) SetWord(i uint32, v uint64) {
	if i >= m.StorageWords() {
		return
	}
	le.PutUint64(m.b[OffBits+8*int(i):], v)
}

// words returns bits[lo:hi] as bytes, or false if the view lacks them.
func (m Mask) words(lo, hi uint32) ([]byte, bool) {
	if lo > hi || hi > m.StorageWords() {
		return nil, false
	}
	return m.b[OffBits+8*int(lo) : OffBits+8*int(hi)], true
}

// Check reports a header the kernel would refuse: a range that wraps u32,
// storage (alloc_words) too small for nr_cids, or alloc_words larger than
// the bytes the view holds. The checks follow scx_cmask_ref_init().
func (m Mask) Check() error {
	base, nr, aw := m.Base(), m.NrCids(), m.AllocWords()
	if uint64(base)+uint64(nr) > 1<<32 {
		return fmt.Errorf("cmask: range base=%d nr_cids=%d wraps", base, nr)
	}
	if NrWords(nr) > aw {
		return fmt.Errorf("cmask: nr_cids=%d needs %d words, alloc_words=%d", nr, NrWords(nr), aw)
	}
	if aw > m.StorageWords() {
		return fmt.Errorf("cmask: alloc_words=%d exceeds the %d words present", aw, m.StorageWords())
	}
	return nil
}

// Contains reports whether cid lies in the active range. Mirrors
// __scx_cmask_contains() (u32 arithmetic included).
func (m Mask) Contains(cid uint32) bool {
	base := m.Base()
	return cid >= base && cid < base+m.NrCids()
}

// UsedWords is the number of bits[] words the active range spans, 0 when
// empty. Mirrors scx_cmask_nr_used_words().
func (m Mask) UsedWords() uint32 {
	nr := m.NrCids()
	if nr == 0 {
		return 0
	}
	return ((m.Base()&63)+nr-1)/64 + 1
}

// Init sets the active range to [base, base+nrCids) on tight storage and
// zeroes bits[]. Mirrors scx_cmask_init(). It fails, leaving the bytes
// untouched, when the view holds fewer than NrWords(nrCids) words.
func (m Mask) Init(base, nrCids uint32) error {
	return m.InitCap(base, nrCids, nrCids)
}

// InitCap is Init with storage for allocCids cids; as in the kernel, an
// allocCids below nrCids shrinks the range to allocCids. Mirrors
// __scx_cmask_init().
func (m Mask) InitCap(base, nrCids, allocCids uint32) error {
	if allocCids < nrCids {
		nrCids = allocCids
	}
	aw := NrWords(allocCids)
	w, ok := m.words(0, aw)
	if !ok {
		return fmt.Errorf("cmask: init needs %d words of storage, view holds %d", aw, m.StorageWords())
	}
	m.setHeader(base, nrCids, aw)
	clear(w)
	return nil
}

// Reframe moves the active range to [base, base+nrCids) without resizing
// storage. Bits inside the new range are left as they were (garbage to the
// caller); only the first and last active words are zeroed, which keeps the
// padding invariant. Mirrors scx_cmask_reframe(); the error text is that of
// the BPF-side cmask_reframe().
func (m Mask) Reframe(base, nrCids uint32) error {
	aw := m.AllocWords()
	if NrWords(nrCids) > aw {
		return fmt.Errorf("cmask_reframe: nr_cids=%d exceeds alloc_words=%d", nrCids, aw)
	}
	if nrCids != 0 {
		last := ((base & 63) + nrCids - 1) / 64
		if last >= m.StorageWords() {
			return fmt.Errorf("cmask_reframe: alloc_words=%d exceeds the %d words present", aw, m.StorageWords())
		}
		m.SetWord(0, 0)
		m.SetWord(last, 0)
	}
	le.PutUint32(m.b[OffBase:], base)
	le.PutUint32(m.b[OffNrCids:], nrCids)
	return nil
}

// wordOf returns the byte offset of the word holding cid, or false if cid is
// outside the range or the storage. Mirrors __scx_cmask_word().
func (m Mask) wordOf(cid uint32) (int, bool) {
	if !m.Contains(cid) {
		return 0, false
	}
	i := cid/64 - m.Base()/64
	if i >= m.StorageWords() {
		return 0, false
	}
	return OffBits + 8*int(i), true
}

// Test reports whether cid is set; false outside the active range. Mirrors
// scx_cmask_test() and cmask_test().
func (m Mask) Test(cid uint32) bool {
	off, ok := m.wordOf(cid)
	return ok && le.Uint64(m.b[off:])&(1<<(cid&63)) != 0
}

// Set sets cid; cids outside the active range are ignored. Mirrors
// __scx_cmask_set() and cmask_set() (the simulator runs one CPU's code at a
// time, so the BPF side's compare-and-swap loop reduces to this).
func (m Mask) Set(cid uint32) {
	if off, ok := m.wordOf(cid); ok {
		le.PutUint64(m.b[off:], le.Uint64(m.b[off:])|1<<(cid&63))
	}
}

// Clear clears cid; cids outside the active range are ignored. Mirrors
// __cmask_clear() and cmask_clear().
func (m Mask) Clear(cid uint32) {
	if off, ok := m.wordOf(cid); ok {
		le.PutUint64(m.b[off:], le.Uint64(m.b[off:])&^(1<<(cid&63)))
	}
}

// TestAndSet sets cid and reports whether it was set before; false and no
// change outside the range. Mirrors cmask_test_and_set().
func (m Mask) TestAndSet(cid uint32) bool {
	off, ok := m.wordOf(cid)
	if !ok {
		return false
	}
	w := le.Uint64(m.b[off:])
	le.PutUint64(m.b[off:], w|1<<(cid&63))
	return w&(1<<(cid&63)) != 0
}

// TestAndClear clears cid and reports whether it was set before; false and
// no change outside the range. Mirrors cmask_test_and_clear().
func (m Mask) TestAndClear(cid uint32) bool {
	off, ok := m.wordOf(cid)
	if !ok {
		return false
	}
	w := le.Uint64(m.b[off:])
	le.PutUint64(m.b[off:], w&^(1<<(cid&63)))
	return w&(1<<(cid&63)) != 0
}

// activeWords returns the bytes of the words the active range spans and the
// masks of the range within its first and last word.
func (m Mask) activeWords() (w []byte, head, tail uint64, ok bool) {
	base, nr := m.Base(), m.NrCids()
	if nr == 0 {
		return nil, 0, 0, false
	}
	end := base + nr
	if end < base { // the range wraps u32; nothing sane to touch
		return nil, 0, 0, false
	}
	n := (end-1)/64 - base/64 + 1
	w, ok = m.words(0, n)
	return w, ^uint64(0) << (base & 63), ^uint64(0) >> (63 - (end-1)&63), ok
}

// ClearAll zeroes every bit of the active range; storage past it is left as
// is. Mirrors scx_cmask_clear().
func (m Mask) ClearAll() {
	if w, _, _, ok := m.activeWords(); ok {
		clear(w)
	}
}

// Fill sets every bit of the active range and keeps the padding zero.
// Mirrors scx_cmask_fill().
func (m Mask) Fill() {
	w, head, tail, ok := m.activeWords()
	if !ok {
		return
	}
	for i := 0; i+8 <= len(w); i += 8 {
		le.PutUint64(w[i:], ^uint64(0))
	}
	le.PutUint64(w, le.Uint64(w)&head)
	last := len(w) - 8
	le.PutUint64(w[last:], le.Uint64(w[last:])&tail)
}

// Zero zeroes the NrWords(nr_cids) words of bits[] (capped to the storage)
// whatever the base. Mirrors the BPF-side cmask_zero().
func (m Mask) Zero() {
	n := min(NrWords(m.NrCids()), m.StorageWords())
	w, _ := m.words(0, n)
	clear(w)
}

// Empty reports whether no cid of the active range is set. Mirrors
// scx_cmask_empty().
func (m Mask) Empty() bool {
	w, head, tail, ok := m.activeWords()
	return !ok || !anySet(w, head, tail)
}
