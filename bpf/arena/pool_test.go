package arena

import (
	"syscall"
	"testing"
)

func TestPool(t *testing.T) {
	type step struct {
		free       bool
		size, addr uint64 // alloc: want addr; free: addr to free
		err        bool
	}
	al := func(size, want uint64) step { return step{size: size, addr: want} }
	fail := func(size uint64) step { return step{size: size, err: true} }
	fr := func(addr, size uint64) step { return step{free: true, addr: addr, size: size} }
	bad := func(addr, size uint64) step { return step{free: true, addr: addr, size: size, err: true} }
	cases := []struct {
		name  string
		pages uint32
		steps []step
		inUse uint64
		taken uint64 // pool pages
	}{
		{"8-byte granules", 16, []step{al(1, 0), al(8, 8), al(9, 16), al(3, 32)}, 40, 4},
		{"growth of 4 pages, newest chunk first", 16, []step{
			al(4*PageSize-8, 0), al(16, 4*PageSize), al(8, 4*PageSize+16)}, 4*PageSize + 16, 8},
		{"large request grows by what it needs", 16, []step{al(8, 0), al(5*PageSize+1, 4*PageSize), al(8, 9*PageSize+8)}, 5*PageSize + 24, 4 + 6},
		{"first fit reuses freed space", 16, []step{al(64, 0), al(64, 64), fr(0, 64), al(32, 0), al(40, 128), al(32, 32)}, 64 + 32 + 40 + 32, 4},
		{"free rounds up the same way", 16, []step{al(5, 0), al(8, 8), fr(0, 5), al(8, 0)}, 16, 4},
		{"double free", 16, []step{al(8, 0), fr(0, 8), bad(0, 8)}, 0, 4},
		{"partial overlap free", 16, []step{al(16, 0), bad(8, 16)}, 16, 4},
		{"free outside the pool", 16, []step{al(8, 0), bad(4*PageSize, 8)}, 8, 4},
		{"unaligned free", 16, []step{al(16, 0), bad(4, 8)}, 16, 4},
		{"zero size", 16, []step{fail(0)}, 0, 0},
		{"exhaustion", 4, []step{al(4*PageSize, 0), fail(8)}, 4 * PageSize, 4},
		{"request larger than the arena", 4, []step{fail(4*PageSize + 1)}, 0, 0},
		{"fewer than 4 pages left", 6, []step{al(4*PageSize, 0), fail(8)}, 4 * PageSize, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := mustNew(t, Spec{MaxEntries: c.pages, Flags: mmapable, MapExtra: base})
			p := NewPool(a)
			for i, s := range c.steps {
				if s.free {
					if err := p.Free(s.addr, s.size); (err != nil) != s.err {
						t.Fatalf("step %d: Free(%#x, %d) = %v", i, s.addr, s.size, err)
					}
					continue
				}
				got, err := p.Alloc(s.size)
				if s.err {
					if err == nil {
						t.Fatalf("step %d: Alloc(%d) = %#x, want failure", i, s.size, got)
					}
					continue
				}
				if err != nil || got != s.addr {
					t.Fatalf("step %d: Alloc(%d) = %#x, %v; want %#x", i, s.size, got, err, s.addr)
				}
			}
			if p.InUse() != c.inUse || p.Pages() != c.taken {
				t.Fatalf("in use %d pages %d, want %d %d", p.InUse(), p.Pages(), c.inUse, c.taken)
			}
			if uint64(a.Populated()) != c.taken {
				t.Fatalf("arena populated %d, want %d", a.Populated(), c.taken)
			}
		})
	}
}

func TestPoolENOMEM(t *testing.T) {
	a := mustNew(t, Spec{MaxEntries: 3, Flags: mmapable, MapExtra: base})
	if _, err := NewPool(a).Alloc(8); err != syscall.ENOMEM {
		t.Fatalf("Alloc on a 3-page arena = %v, want ENOMEM (growth needs 4 pages)", err)
	}
}

// Destroy forgets allocations; the pages stay with the arena until it goes.
func TestPoolDestroy(t *testing.T) {
	a := mustNew(t, Spec{MaxEntries: 16, Flags: mmapable, MapExtra: base})
	p := NewPool(a)
	k, err := p.Alloc(100)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.KernelWrite(k, []byte("pool data"), OnBehalf{}); err != nil {
		t.Fatal(err)
	}
	// The kernel address is the arena offset; user space sees it at UserAddr.
	buf := make([]byte, 9)
	if err := a.UserRead(base+k, buf); err != nil || string(buf) != "pool data" {
		t.Fatalf("user view %q %v", buf, err)
	}
	p.Destroy()
	if p.InUse() != 0 || p.Pages() != 0 || a.Populated() != 4 {
		t.Fatalf("after destroy: in use %d, pool pages %d, arena pages %d", p.InUse(), p.Pages(), a.Populated())
	}
	if err := p.Free(k, 100); err == nil {
		t.Fatal("free after destroy succeeded")
	}
	// A new pool takes fresh pages.
	q := NewPool(a)
	if k2, err := q.Alloc(8); err != nil || k2 == k {
		t.Fatalf("new pool alloc %#x %v", k2, err)
	}
}
