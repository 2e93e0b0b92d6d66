package arena

import (
	"fmt"
	"math/bits"
	"syscall"
)

// Sub-allocator constants (enum scx_arena_consts).
const (
	PoolMinOrder  = 3 // SCX_ARENA_MIN_ORDER: 8-byte granules
	PoolGrowPages = 4 // SCX_ARENA_GROW_PAGES: minimum growth
)

// Pool is the sched_ext kernel's sub-allocator over arena pages: a
// genalloc-style pool of 8-byte granules, first fit, in chunks of arena
// pages obtained from the arena's page allocator on demand. Addresses are
// kernel-view (KernVMStart + 32-bit offset); callers convert to the user
// or BPF form themselves (Arena.UserAddr). The pages belong to the arena:
// Destroy forgets outstanding allocations, and the pages go when the arena
// map does. Mirrors kernel/sched/ext/arena.c over lib/genalloc.c.
type Pool struct {
	arena  *Arena
	chunks []*chunk // newest first, as gen_pool_add() links them
}

type chunk struct {
	start uint64   // kernel address of the first byte
	size  uint64   // bytes
	bits  []uint64 // one bit per granule, set = allocated
	avail uint64   // bytes free
}

// NewPool creates an empty pool over a. Mirrors scx_arena_pool_init().
func NewPool(a *Arena) *Pool { return &Pool{arena: a} }

// Alloc returns the kernel address of size bytes (rounded up to 8), growing
// the pool by max(4, pages needed) arena pages when no chunk fits; ENOMEM
// when the arena cannot supply them. A zero size yields 0 and EINVAL, as
// gen_pool_alloc() returns nothing for it. Mirrors scx_arena_alloc().
func (p *Pool) Alloc(size uint64) (uint64, error) {
	if p.arena == nil {
		return 0, syscall.EINVAL
	}
	if size == 0 {
		return 0, syscall.EINVAL
	}
	for {
		if addr, ok := p.alloc(size); ok {
			return addr, nil
		}
		pages := (size + PageSize - 1) >> pageShift
		if pages < PoolGrowPages {
			pages = PoolGrowPages
		}
		if pages > 1<<32-1 {
			return 0, syscall.ENOMEM
		}
		if err := p.grow(uint32(pages)); err != nil {
			return 0, err
		}
	}
}

// grow adds one chunk of pages from the arena. Mirrors scx_arena_grow().
func (p *Pool) grow(pages uint32) error {
	u := p.arena.AllocPages(0, pages, NumaNoNode)
	if u == 0 {
		return syscall.ENOMEM
	}
	size := uint64(pages) * PageSize
	granules := size >> PoolMinOrder
	c := &chunk{
		start: KernVMStart + uint64(uint32(u)),
		size:  size,
		bits:  make([]uint64, (granules+63)/64),
		avail: size,
	}
	p.chunks = append([]*chunk{c}, p.chunks...)
	return nil
}

// alloc is gen_pool_alloc() with the first-fit algorithm.
func (p *Pool) alloc(size uint64) (uint64, bool) {
	n := (size + 1<<PoolMinOrder - 1) >> PoolMinOrder
	for _, c := range p.chunks {
		if size > c.avail {
			continue
		}
		end := c.size >> PoolMinOrder
		if b, ok := c.findZeroRun(end, n); ok {
			c.setRange(b, n, true)
			c.avail -= n << PoolMinOrder
			return c.start + b<<PoolMinOrder, true
		}
	}
	return 0, false
}

// Free returns size bytes at kernel address addr to the pool. Freeing
// memory the pool does not hold as allocated (outside every chunk, or a
// granule already free) is the kernel's BUG(); here it is an error and the
// pool is left unchanged. Mirrors scx_arena_free().
func (p *Pool) Free(addr, size uint64) error {
	if size == 0 {
		return nil
	}
	n := (size + 1<<PoolMinOrder - 1) >> PoolMinOrder
	for _, c := range p.chunks {
		if addr < c.start || addr >= c.start+c.size {
			continue
		}
		b := (addr - c.start) >> PoolMinOrder
		if (addr-c.start)&(1<<PoolMinOrder-1) != 0 || b+n > c.size>>PoolMinOrder || !c.allSet(b, n) {
			return fmt.Errorf("arena pool: bad free of %d bytes at %#x", size, addr)
		}
		c.setRange(b, n, false)
		c.avail += n << PoolMinOrder
		return nil
	}
	return fmt.Errorf("arena pool: free of %#x outside the pool", addr)
}

// Destroy frees every outstanding allocation and drops the chunks; the
// arena keeps the pages until it is released. Mirrors scx_arena_pool_destroy().
func (p *Pool) Destroy() {
	for _, c := range p.chunks {
		clear(c.bits)
		c.avail = c.size
	}
	p.chunks = nil
}

// InUse returns the bytes currently allocated from the pool.
func (p *Pool) InUse() uint64 {
	var n uint64
	for _, c := range p.chunks {
		n += c.size - c.avail
	}
	return n
}

// Pages returns the arena pages the pool has taken.
func (p *Pool) Pages() uint64 {
	var n uint64
	for _, c := range p.chunks {
		n += c.size >> pageShift
	}
	return n
}

func (c *chunk) bit(i uint64) bool { return c.bits[i/64]&(1<<(i%64)) != 0 }

func (c *chunk) setRange(start, n uint64, v bool) {
	for i := start; i < start+n; i++ {
		if v {
			c.bits[i/64] |= 1 << (i % 64)
		} else {
			c.bits[i/64] &^= 1 << (i % 64)
		}
	}
}

func (c *chunk) allSet(start, n uint64) bool {
	for i := start; i < start+n; i++ {
		if !c.bit(i) {
			return false
		}
	}
	return true
}

// findZeroRun is bitmap_find_next_zero_area() from bit 0 without alignment:
// the first run of n clear bits below end.
func (c *chunk) findZeroRun(end, n uint64) (uint64, bool) {
	i := uint64(0)
	for i+n <= end {
		// Skip set bits a word at a time.
		w := c.bits[i/64] >> (i % 64)
		if w&1 != 0 {
			i += uint64(bits.TrailingZeros64(^w))
			continue
		}
		j := i
		for j < i+n && !c.bit(j) {
			j++
		}
		if j == i+n {
			return i, true
		}
		i = j + 1
	}
	return 0, false
}
