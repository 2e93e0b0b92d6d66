package arena

import (
	"runtime"
	"testing"
)

// The holders of an arena reference, in the order they let go.
func TestRefLifetime(t *testing.T) {
	cases := []struct {
		name    string
		holders []string // taken after the user handle, in order
		order   []string // release order, "user" included
	}{
		{"user only", nil, []string{"user"}},
		{"program outlives the user handle", []string{"prog"}, []string{"user", "prog"}},
		{"scheduler outlives user and program", []string{"prog", "sched"}, []string{"user", "prog", "sched"}},
		{"user handle last", []string{"prog", "sched"}, []string{"sched", "prog", "user"}},
		{"two programs", []string{"prog", "prog2"}, []string{"prog", "user", "prog2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			arenas0, pages0 := Live()
			a, err := create(Spec{MaxEntries: 4, Flags: mmapable, MapExtra: base}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for range c.holders {
				a.Get()
			}
			if a.Refs() != 1+len(c.holders) {
				t.Fatalf("refs %d", a.Refs())
			}
			u := a.AllocPages(0, 2, NumaNoNode)
			a.UserWrite(u, []byte("kept"))
			view := a.VM()
			for i := range c.order {
				a.Put()
				last := i == len(c.order)-1
				if a.Released() != last {
					t.Fatalf("after releasing %v: released %v", c.order[:i+1], a.Released())
				}
				if !last {
					// Still fully usable: pages, data, VM view, kfunc lookup.
					buf := make([]byte, 4)
					if err := a.UserRead(u, buf); err != nil || string(buf) != "kept" {
						t.Fatalf("data after releasing %v: %q %v", c.order[:i+1], buf, err)
					}
					if FromVM(view) != a || view.Page(0) == nil {
						t.Fatal("VM view gone early")
					}
					if n, _ := Live(); n != arenas0+1 {
						t.Fatalf("live arenas %d", n)
					}
				}
			}
			if n, p := Live(); n != arenas0 || p != pages0 {
				t.Fatalf("after last put: live arenas %d pages %d, want %d %d", n, p, arenas0, pages0)
			}
			if FromVM(view) != nil || view.Dir != nil || a.Refs() != 0 {
				t.Fatal("released arena still reachable")
			}
			if a.AllocPages(0, 1, NumaNoNode) != 0 || a.UserRead(u, make([]byte, 1)) == nil {
				t.Fatal("released arena still allocates or reads")
			}
		})
	}
}

// An extra Put after release changes nothing (maps.Base ignores it).
func TestPutAfterRelease(t *testing.T) {
	arenas0, pages0 := Live()
	a, _ := create(Spec{MaxEntries: 1, Flags: mmapable, MapExtra: base}, Options{})
	a.AllocPages(0, 1, NumaNoNode)
	a.Put()
	a.Put()
	if n, p := Live(); n != arenas0 || p != pages0 || a.Refs() != 0 {
		t.Fatalf("live %d %d refs %d", n, p, a.Refs())
	}
}

// 10,000 create / program load / scheduler register / destroy cycles leave
// no arena, no page and no retained heap behind.
func TestNoLeakOverCycles(t *testing.T) {
	const cycles = 10000
	cycle := func() {
		a, err := create(Spec{MaxEntries: 64, Flags: mmapable}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Mmap(0, 64*PageSize); err != nil {
			t.Fatal(err)
		}
		a.Get() // program
		a.Get() // scheduler
		p := NewPool(a)
		k, _ := p.Alloc(256)
		a.KernelWrite(k, []byte{1}, OnBehalf{})
		a.KernelWrite(60*PageSize, []byte{1}, OnBehalf{}) // scratch
		a.AllocPages(0, 3, NumaNoNode)
		a.Put() // user handle
		p.Destroy()
		a.Put() // scheduler unregistered
		a.Put() // program unloaded
	}
	arenas0, pages0 := Live()
	for i := 0; i < 100; i++ { // warm up allocator caches
		cycle()
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for i := 0; i < cycles; i++ {
		cycle()
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if n, p := Live(); n != arenas0 || p != pages0 {
		t.Fatalf("live arenas %d pages %d after %d cycles, want %d %d", n, p, cycles, arenas0, pages0)
	}
	// One cycle allocates ~24 KiB of pages; a leak of even one page per
	// cycle would retain 40 MiB.
	if grow := int64(m1.HeapAlloc) - int64(m0.HeapAlloc); grow > 1<<20 {
		t.Fatalf("heap grew by %d bytes over %d cycles", grow, cycles)
	}
	t.Logf("heap delta %d bytes, %d mallocs over %d cycles", int64(m1.HeapAlloc)-int64(m0.HeapAlloc), m1.Mallocs-m0.Mallocs, cycles)
}
