package arena

import (
	"fmt"
	"syscall"
)

// newPage hands out one zeroed page owned by a.
func (a *Arena) newPage() *[PageSize]byte {
	a.owned++
	livePages.Add(1)
	return new([PageSize]byte)
}

// dropPage releases the page in slot unless it is the scratch page, and
// empties the slot either way (the kernel clears the PTE of a scratch
// mapping without freeing the page).
func (a *Arena) dropPage(slot **[PageSize]byte) {
	if p := *slot; p != nil && p != a.scratch {
		a.owned--
		livePages.Add(-1)
	}
	*slot = nil
}

// AllocPages allocates pageCnt pages and returns the user address of the
// first, or 0 on failure, with the kernel's placement: at uaddr when it is
// non-zero (only its low 32 bits count; it must be page aligned, inside the
// arena and entirely free), else at the best-fitting free run. nodeID must
// be NumaNoNode or an existing node. A page holding the scratch page is
// replaced by a real one. Mirrors arena_alloc_pages().
func (a *Arena) AllocPages(uaddr uint64, pageCnt uint32, nodeID int32) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.released || pageCnt == 0 {
		return 0
	}
	if nodeID != NumaNoNode && (nodeID < 0 || int(nodeID) >= a.numaNodes) {
		return 0
	}
	max := a.pageCntMax()
	cnt := int64(pageCnt)
	if cnt > max {
		return 0
	}
	var pgoff uint32
	if uaddr != 0 {
		if uaddr&(PageSize-1) != 0 {
			return 0
		}
		pgoff = a.pgoff(uaddr)
		if int64(pgoff) > max-cnt {
			return 0
		}
		if a.rt.isSet(pgoff, pageCnt) != nil {
			return 0
		}
	} else {
		var ok bool
		if pgoff, ok = a.rt.find(pageCnt); !ok {
			return 0
		}
	}
	a.rt.clear(pgoff, pageCnt)
	for i := uint32(0); i < pageCnt; i++ {
		slot := a.pageSlot(pgoff + i)
		a.dropPage(slot) // a scratch mapping gives way
		*slot = a.newPage()
	}
	uaddr32 := uint32(a.userStart + uint64(pgoff)*PageSize)
	return a.userStart&^0xffffffff + uint64(uaddr32)
}

// FreePages frees pageCnt pages from uaddr (only its page-aligned low 32
// bits count), clipped to the arena's end. The range becomes allocatable
// again whether or not it was allocated or reserved; populated pages are
// released, scratch mappings removed. Mirrors arena_free_pages().
func (a *Arena) FreePages(uaddr uint64, pageCnt uint32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.released || pageCnt == 0 {
		return
	}
	lo := uint64(uint32(uaddr)) &^ (PageSize - 1)
	full := a.userStart&^0xffffffff + lo
	end := full + uint64(pageCnt)<<pageShift
	if a.userEnd < end {
		end = a.userEnd
	}
	if full >= end {
		return
	}
	// Below user_vm_start the kernel's page offset wraps and marks pages
	// beyond the arena free; scxsim keeps the range tree to the arena.
	if full < a.userStart {
		return
	}
	cnt := uint32((end - full) >> pageShift)
	pgoff := a.pgoff(lo)
	a.rt.set(pgoff, cnt)
	a.dropRange(pgoff, cnt)
}

// ReservePages keeps pageCnt pages from uaddr out of the allocator without
// populating them. It returns 0 (also for an unaligned uaddr, which it
// ignores, and for pageCnt 0), EINVAL when the range passes the arena's end
// and EBUSY when a page of it is allocated or reserved.
// Mirrors bpf_arena_reserve_pages() / arena_reserve_pages().
func (a *Arena) ReservePages(uaddr uint64, pageCnt uint32) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.released {
		return syscall.EINVAL
	}
	if pageCnt == 0 || uaddr&(PageSize-1) != 0 {
		return nil
	}
	pgoff := a.pgoff(uaddr)
	if int64(pgoff)+int64(pageCnt) > a.pageCntMax() {
		return syscall.EINVAL
	}
	if a.rt.isSet(pgoff, pageCnt) != nil {
		return syscall.EBUSY
	}
	a.rt.clear(pgoff, pageCnt)
	return nil
}

// SegvError is a user-space access the kernel answers with SIGSEGV.
type SegvError struct {
	Addr uint64
	Why  string
}

func (e *SegvError) Error() string {
	return fmt.Sprintf("arena: SIGSEGV at %#x: %s", e.Addr, e.Why)
}

// userPage returns the page behind user address uaddr, populating it as a
// fault on the user mapping would. Mirrors arena_vm_fault().
func (a *Arena) userPage(uaddr uint64) (*[PageSize]byte, error) {
	if a.released {
		return nil, &SegvError{uaddr, "arena released"}
	}
	if a.userStart == 0 || uaddr < a.userStart || uaddr >= a.userEnd {
		return nil, &SegvError{uaddr, "not in the arena's user mapping"}
	}
	pg := uint32((uaddr - a.userStart) >> pageShift)
	if p := a.view.Page(pg); p != nil {
		if p == a.scratch {
			return nil, &SegvError{uaddr, "page holds the scratch page after a kernel fault"}
		}
		return p, nil
	}
	if a.spec.Flags&FlagSegvOnFault != 0 {
		return nil, &SegvError{uaddr, "page not allocated and BPF_F_SEGV_ON_FAULT set"}
	}
	a.rt.clear(pg, 1)
	slot := a.pageSlot(pg)
	*slot = a.newPage()
	return *slot, nil
}

// UserRead copies arena memory at user address uaddr into buf, populating
// untouched pages as user-space reads of the mmap'ed arena do.
func (a *Arena) UserRead(uaddr uint64, buf []byte) error {
	return a.userCopy(uaddr, buf, false)
}

// UserWrite copies buf into the arena at user address uaddr, populating
// pages on touch.
func (a *Arena) UserWrite(uaddr uint64, buf []byte) error {
	return a.userCopy(uaddr, buf, true)
}

func (a *Arena) userCopy(uaddr uint64, buf []byte, write bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(buf) > 0 {
		p, err := a.userPage(uaddr)
		if err != nil {
			return err
		}
		o := int(uaddr & (PageSize - 1))
		var n int
		if write {
			n = copy(p[o:], buf)
		} else {
			n = copy(buf, p[o:])
		}
		buf = buf[n:]
		uaddr += uint64(n)
	}
	return nil
}
