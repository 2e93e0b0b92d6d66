package arena

import (
	"bytes"
	"errors"
	"syscall"
	"testing"
)

const base = 1 << 44 // a 4 GiB aligned map_extra, as scx schedulers use

func page(n uint64) uint64 { return base + n*PageSize }

// op is one step of an allocation script against a fresh arena.
type op struct {
	kind string // "alloc", "free", "reserve"
	addr uint64 // hint / pointer (user form)
	cnt  uint32
	node int32
	want uint64 // alloc: returned address (0 = failure)
	err  error  // reserve: returned error
}

func alloc(addr uint64, cnt uint32, want uint64) op {
	return op{kind: "alloc", addr: addr, cnt: cnt, node: NumaNoNode, want: want}
}
func free(addr uint64, cnt uint32) op { return op{kind: "free", addr: addr, cnt: cnt} }
func reserve(addr uint64, cnt uint32, err error) op {
	return op{kind: "reserve", addr: addr, cnt: cnt, err: err}
}

func runScript(t *testing.T, a *Arena, script []op) {
	t.Helper()
	for i, o := range script {
		switch o.kind {
		case "alloc":
			if got := a.AllocPages(o.addr, o.cnt, o.node); got != o.want {
				t.Fatalf("step %d: AllocPages(%#x, %d, %d) = %#x, want %#x", i, o.addr, o.cnt, o.node, got, o.want)
			}
		case "free":
			a.FreePages(o.addr, o.cnt)
		case "reserve":
			if err := a.ReservePages(o.addr, o.cnt); err != o.err {
				t.Fatalf("step %d: ReservePages(%#x, %d) = %v, want %v", i, o.addr, o.cnt, err, o.err)
			}
		}
	}
}

func TestAllocFreeReserve(t *testing.T) {
	cases := []struct {
		name   string
		pages  uint32
		script []op
		free   uint64 // Unallocated() at the end
		pop    int    // Populated() at the end
	}{
		{"first fit from 0", 8, []op{alloc(0, 1, page(0)), alloc(0, 2, page(1)), alloc(0, 1, page(3))}, 4, 4},
		{"hint honoured; the split-off tail is the best fit", 8, []op{alloc(page(5), 2, page(5)), alloc(0, 1, page(7))}, 5, 3},
		{"hint: only low 32 bits count", 8, []op{alloc(0xdead_0000_0000|page(3)&0xffffffff, 1, page(3))}, 7, 1},
		{"hint kernel form", 8, []op{alloc(3*PageSize, 1, page(3))}, 7, 1},
		{"hint unaligned", 8, []op{alloc(page(3)+8, 1, 0)}, 8, 0},
		{"hint past end", 8, []op{alloc(page(7), 2, 0), alloc(page(8), 1, 0), alloc(page(6), 2, page(6))}, 6, 2},
		{"hint taken", 8, []op{alloc(page(2), 2, page(2)), alloc(page(3), 1, 0), alloc(page(1), 2, 0), alloc(page(1), 1, page(1))}, 5, 3},
		{"zero pages", 8, []op{alloc(0, 0, 0)}, 8, 0},
		{"more than the arena", 8, []op{alloc(0, 9, 0), alloc(0, 8, page(0))}, 0, 8},
		{"exhaustion", 4, []op{alloc(0, 3, page(0)), alloc(0, 2, 0), alloc(0, 1, page(3)), alloc(0, 1, 0)}, 0, 4},
		{"exhaustion by fragmentation", 4, []op{alloc(page(1), 1, page(1)), alloc(page(3), 1, page(3)), alloc(0, 2, 0), alloc(0, 1, page(2))}, 1, 3},
		{"best fit, not first fit", 16, []op{
			alloc(0, 16, page(0)), free(page(1), 3), free(page(6), 1), free(page(9), 2),
			// free runs: [1,3] [6] [9,10]; a 1-page request takes the 1-page run
			alloc(0, 1, page(6)), alloc(0, 2, page(9)), alloc(0, 2, page(1)),
		}, 1, 15},
		{"equal sizes: most recently inserted run wins", 16, []op{
			alloc(0, 16, page(0)), free(page(2), 2), free(page(8), 2), free(page(12), 2),
			alloc(0, 2, page(12)), free(page(12), 2),
			// [12,13] was re-inserted last: it is chosen again
			alloc(0, 1, page(12)),
			// [13] (reinserted when split) is now the smallest fit
			alloc(0, 1, page(13)),
		}, 4, 12},
		{"free then realloc same page", 4, []op{alloc(0, 1, page(0)), free(page(0), 1), alloc(0, 1, page(0))}, 3, 1},
		{"double free is harmless", 4, []op{alloc(0, 2, page(0)), free(page(0), 2), free(page(0), 2), alloc(0, 4, page(0))}, 0, 4},
		{"partial free, head", 8, []op{alloc(0, 4, page(0)), free(page(0), 1), alloc(0, 1, page(0))}, 4, 4},
		{"partial free, middle", 8, []op{alloc(0, 8, page(0)), free(page(3), 2), alloc(0, 3, 0), alloc(0, 2, page(3))}, 0, 8},
		{"partial free, tail", 8, []op{alloc(0, 4, page(0)), free(page(3), 1), alloc(0, 5, page(3))}, 0, 8},
		{"free clipped at the end", 4, []op{alloc(page(2), 2, page(2)), free(page(2), 100), alloc(0, 2, page(0))}, 2, 2},
		{"free of NULL-offset page", 4, []op{alloc(0, 1, page(0)), free(base, 1)}, 4, 0},
		{"free of unaligned pointer frees its page", 4, []op{alloc(0, 2, page(0)), free(page(1)+123, 1)}, 3, 1},
		{"free of kernel-form pointer", 4, []op{alloc(0, 2, page(0)), free(1*PageSize, 1)}, 3, 1},
		{"free never-allocated makes it allocatable", 4, []op{reserve(page(1), 1, nil), free(page(1), 1), alloc(page(1), 1, page(1))}, 3, 1},
		{"reserve blocks hint and search", 2, []op{alloc(0, 1, page(0)), reserve(page(1), 1, nil), alloc(page(1), 1, 0), alloc(0, 1, 0)}, 0, 1},
		{"reserve allocated page", 4, []op{alloc(0, 1, page(0)), reserve(page(0), 2, syscall.EBUSY)}, 3, 1},
		{"reserve twice", 4, []op{reserve(page(1), 2, nil), reserve(page(2), 1, syscall.EBUSY)}, 2, 0},
		{"reserve past end", 4, []op{reserve(page(3), 2, syscall.EINVAL), reserve(page(3), 1, nil)}, 3, 0},
		{"reserve unaligned is a no-op", 4, []op{reserve(page(1)+1, 1, nil), alloc(page(1), 1, page(1))}, 3, 1},
		{"reserve zero pages", 4, []op{reserve(page(1), 0, nil)}, 4, 0},
		{"reserve at offset 0", 4, []op{reserve(base, 1, nil), alloc(0, 1, page(1)), alloc(base, 1, 0)}, 2, 1},
		{"allocation avoids reserved middle", 8, []op{reserve(page(2), 1, nil), alloc(0, 3, page(3)), alloc(0, 2, page(6))}, 2, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := mustNew(t, Spec{MaxEntries: c.pages, Flags: mmapable, MapExtra: base})
			runScript(t, a, c.script)
			if got := a.Unallocated(); got != c.free {
				t.Errorf("Unallocated = %d, want %d", got, c.free)
			}
			if got := a.Populated(); got != c.pop {
				t.Errorf("Populated = %d, want %d", got, c.pop)
			}
		})
	}
}

func TestAllocNode(t *testing.T) {
	a, err := create(Spec{MaxEntries: 8, Flags: mmapable, MapExtra: base}, Options{NumaNodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Put()
	for _, c := range []struct {
		node int32
		ok   bool
	}{{NumaNoNode, true}, {0, true}, {1, true}, {2, false}, {-2, false}} {
		got := a.AllocPages(0, 1, c.node)
		if (got != 0) != c.ok {
			t.Errorf("node %d: got %#x, want success %v", c.node, got, c.ok)
		}
	}
}

// The allocation placement works with an unaligned user base too: the
// returned addresses keep the base's upper half and its page offset.
func TestAllocUnalignedBase(t *testing.T) {
	a := mustNew(t, Spec{MaxEntries: 8, Flags: mmapable})
	b := a.UserBase()
	if b != DefaultUserBase {
		t.Fatalf("base %#x", b)
	}
	if got := a.AllocPages(0, 2, NumaNoNode); got != b {
		t.Fatalf("alloc = %#x, want %#x", got, b)
	}
	if got := a.AllocPages(b+5*PageSize, 1, NumaNoNode); got != b+5*PageSize {
		t.Fatalf("hinted alloc = %#x", got)
	}
	// A kernel-form hint names the same page.
	if got := a.AllocPages(uint64(uint32(b+6*PageSize)), 1, NumaNoNode); got != b+6*PageSize {
		t.Fatalf("kernel-form hint = %#x", got)
	}
	// Below the base's offset the hint is outside the arena.
	if got := a.AllocPages(uint64(uint32(b))-PageSize, 1, NumaNoNode); got != 0 {
		t.Fatalf("hint below base = %#x", got)
	}
}

func TestBeforeMmap(t *testing.T) {
	a, err := create(Spec{MaxEntries: 8, Flags: mmapable}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Put()
	if got := a.AllocPages(0, 1, NumaNoNode); got != 0 {
		t.Fatalf("alloc before mmap = %#x, want 0 (no user range yet)", got)
	}
	if err := a.UserWrite(DefaultUserBase, []byte{1}); err == nil {
		t.Fatal("user write before mmap succeeded")
	}
}

func TestAllocatedPagesZeroedAndShared(t *testing.T) {
	a := mustNew(t, Spec{MaxEntries: 4, Flags: mmapable, MapExtra: base})
	u := a.AllocPages(0, 2, NumaNoNode)
	buf := make([]byte, 2*PageSize)
	if err := a.UserRead(u, buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, make([]byte, len(buf))) {
		t.Fatal("fresh pages are not zero")
	}
	msg := []byte("across the page boundary")
	at := u + PageSize - 5
	if err := a.UserWrite(at, msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if err := a.KernelRead(CastKern(at), got, OnBehalf{}); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("kernel view %q, %v", got, err)
	}
	// Free and reallocate: the new page is zero again.
	a.FreePages(u, 2)
	if a.AllocPages(u, 2, NumaNoNode) != u {
		t.Fatal("realloc failed")
	}
	if err := a.UserRead(at, got); err != nil || !bytes.Equal(got, make([]byte, len(got))) {
		t.Fatalf("reallocated page holds %q, %v", got, err)
	}
	if a.Violations() != 0 {
		t.Fatalf("violations %d", a.Violations())
	}
}

// User-space touches populate pages the way faults on the mmap do.
func TestUserPopulateOnTouch(t *testing.T) {
	cases := []struct {
		name    string
		flags   uint32
		setup   []op
		addr    uint64
		segv    bool
		popped  int    // Populated after the access
		unalloc uint64 // Unallocated after
	}{
		{"read populates", 0, nil, page(2), false, 1, 3},
		{"allocated page", 0, []op{alloc(page(1), 1, page(1))}, page(1) + 8, false, 1, 3},
		{"reserved page is populated anyway", 0, []op{reserve(page(3), 1, nil)}, page(3), false, 1, 3},
		{"SEGV_ON_FAULT, unallocated", FlagSegvOnFault, nil, page(0), true, 0, 4},
		{"SEGV_ON_FAULT, allocated", FlagSegvOnFault, []op{alloc(page(0), 1, page(0))}, page(0), false, 1, 3},
		{"below the arena", 0, nil, base - 8, true, 0, 4},
		{"past the arena", 0, nil, page(4), true, 0, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := mustNew(t, Spec{MaxEntries: 4, Flags: mmapable | c.flags, MapExtra: base})
			runScript(t, a, c.setup)
			err := a.UserRead(c.addr, make([]byte, 8))
			var segv *SegvError
			if errors.As(err, &segv) != c.segv || (!c.segv && err != nil) {
				t.Fatalf("UserRead = %v, want SIGSEGV %v", err, c.segv)
			}
			if a.Populated() != c.popped || a.Unallocated() != c.unalloc {
				t.Fatalf("populated %d unallocated %d, want %d %d", a.Populated(), a.Unallocated(), c.popped, c.unalloc)
			}
		})
	}
}

// A page populated by a user touch is an allocated page for the kernel's
// allocator: the same page the program then sees.
func TestUserTouchThenBPFAlloc(t *testing.T) {
	a := mustNew(t, Spec{MaxEntries: 2, Flags: mmapable, MapExtra: base})
	if err := a.UserWrite(page(0), []byte{42}); err != nil {
		t.Fatal(err)
	}
	if got := a.AllocPages(page(0), 1, NumaNoNode); got != 0 {
		t.Fatalf("alloc over a user-populated page = %#x", got)
	}
	if got := a.AllocPages(0, 1, NumaNoNode); got != page(1) {
		t.Fatalf("alloc = %#x", got)
	}
	if a.VM().Page(0)[0] != 42 {
		t.Fatal("VM view does not see the user write")
	}
}
