package arena

import (
	"runtime"
	"testing"
)

// TestSparsePageTable: an arena's memory follows its populated pages, not
// max_entries. A 4 GiB arena costs a 2048-entry directory; populating pages
// allocates one 512-entry leaf per 2 MiB span they fall in, and nothing
// for spans never touched.
func TestSparsePageTable(t *testing.T) {
	cases := []struct {
		name   string
		pages  uint32
		allocs [][2]uint32 // page, count
		leaves int
	}{
		{"4 GiB, nothing", 1 << 20, nil, 0},
		{"4 GiB, first pages", 1 << 20, [][2]uint32{{0, 16}, {16, 16}}, 1},
		{"4 GiB, both ends", 1 << 20, [][2]uint32{{0, 1}, {1<<20 - 1, 1}}, 2},
		{"4 GiB, across a leaf boundary", 1 << 20, [][2]uint32{{510, 4}}, 2},
		{"one page", 1, [][2]uint32{{0, 1}}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			a := mustNew(t, Spec{MaxEntries: c.pages, Flags: mmapable, MapExtra: base})
			runtime.ReadMemStats(&after)
			// A dense table would be 8 bytes per page of max_entries.
			if got, dense := after.TotalAlloc-before.TotalAlloc, 8*uint64(c.pages); c.pages >= 1<<16 && got > dense/16 {
				t.Errorf("creating the arena allocated %d bytes (a dense table: %d)", got, dense)
			}
			for _, r := range c.allocs {
				if got := a.AllocPages(page(uint64(r[0])), r[1], NumaNoNode); got != page(uint64(r[0])) {
					t.Fatalf("AllocPages(page %d, %d) = %#x", r[0], r[1], got)
				}
			}
			leaves := 0
			for _, l := range a.VM().Dir {
				if l != nil {
					leaves++
				}
			}
			if leaves != c.leaves {
				t.Errorf("%d leaves allocated, want %d", leaves, c.leaves)
			}
			// The VM sees exactly the allocated pages.
			want := map[uint32]bool{}
			for _, r := range c.allocs {
				for i := uint32(0); i < r[1]; i++ {
					want[r[0]+i] = true
				}
			}
			for pg := range want {
				if a.VM().Page(pg) == nil {
					t.Errorf("page %d not visible", pg)
				}
			}
			if n := a.Populated(); n != len(want) {
				t.Errorf("%d pages populated, want %d", n, len(want))
			}
			// Freeing drops the pages; untouched spans stay without leaves.
			for _, r := range c.allocs {
				a.FreePages(page(uint64(r[0])), r[1])
			}
			if n := a.Populated(); n != 0 {
				t.Errorf("%d pages populated after freeing all", n)
			}
			for pg := range want {
				if a.VM().Page(pg) != nil {
					t.Errorf("page %d still visible", pg)
				}
			}
			a.Put()
			if a.VM().Dir != nil {
				t.Error("page table kept after release")
			}
		})
	}
}
