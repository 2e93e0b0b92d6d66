package arena

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/stream"
)

// sink records reports per program.
type sink struct{ got []string }

func (s *sink) on(prog string) OnBehalf {
	return OnBehalf{Prog: prog, Sink: func(p string, fd int, msg string) {
		s.got = append(s.got, fmt.Sprintf("%s/%d: %s", p, fd, msg))
	}}
}

func TestKernelAccessScratch(t *testing.T) {
	a := mustNew(t, Spec{MaxEntries: 4, Flags: mmapable, MapExtra: base})
	var s sink
	who := s.on("sched_enqueue")

	// A kernel store to an unpopulated page lands in the scratch page and
	// is reported once, with the page's user address.
	if err := a.KernelWrite(2*PageSize+16, []byte("scratch!"), who); err != nil {
		t.Fatal(err)
	}
	if len(s.got) != 1 {
		t.Fatalf("reports %q", s.got)
	}
	want := fmt.Sprintf("sched_enqueue/2: ERROR: Arena WRITE access at unmapped address 0x%x\n", page(2))
	if !strings.HasPrefix(s.got[0], want) || !strings.Contains(s.got[0], "Call trace:\nbpf_prog_sched_enqueue\n") {
		t.Fatalf("report %q", s.got[0])
	}
	if !a.IsScratch(2*PageSize) || a.Populated() != 0 || a.Violations() != 1 {
		t.Fatalf("scratch %v populated %d violations %d", a.IsScratch(2*PageSize), a.Populated(), a.Violations())
	}
	// Later accesses to that page hit scratch silently; the data is there.
	if v, err := a.KernelU64(2*PageSize+16, who); err != nil || v != binary.LittleEndian.Uint64([]byte("scratch!")) {
		t.Fatalf("KernelU64 = %#x, %v", v, err)
	}
	got := make([]byte, 8)
	if err := a.KernelRead(2*PageSize+16, got, who); err != nil || string(got) != "scratch!" || len(s.got) != 1 {
		t.Fatalf("read back %q %v, reports %d", got, err, len(s.got))
	}
	// The one scratch page backs every scratched address.
	if err := a.KernelRead(3*PageSize+16, got, who); err != nil || string(got) != "scratch!" {
		t.Fatalf("second scratched page reads %q %v", got, err)
	}
	if len(s.got) != 2 || !strings.Contains(s.got[1], "READ access at unmapped address 0x"+fmt.Sprintf("%x", page(3))) {
		t.Fatalf("reports %q", s.got)
	}
	// The VM sees scratch there too: BPF accesses no longer fault.
	if a.VM().Page(2) == nil || a.VM().Page(2) != a.VM().Page(3) {
		t.Fatal("VM view lacks the scratch mapping")
	}
	// User space cannot map a scratched page.
	var segv *SegvError
	if err := a.UserRead(page(2), got); !errors.As(err, &segv) {
		t.Fatalf("user read of scratch = %v", err)
	}
	// The allocator still considers the page free; a real allocation
	// replaces scratch with a zeroed page.
	if u := a.AllocPages(page(2), 1, NumaNoNode); u != page(2) {
		t.Fatalf("alloc over scratch = %#x", u)
	}
	if a.IsScratch(2*PageSize) || a.Populated() != 1 {
		t.Fatal("allocation did not replace scratch")
	}
	if err := a.KernelRead(2*PageSize+16, got, who); err != nil || !bytes.Equal(got, make([]byte, 8)) {
		t.Fatalf("allocated page reads %q %v", got, err)
	}
	if err := a.SetKernelU64(2*PageSize+24, 0x1234, who); err != nil {
		t.Fatal(err)
	}
	if err := a.UserRead(page(2)+24, got); err != nil || binary.LittleEndian.Uint64(got) != 0x1234 {
		t.Fatalf("user view of a kernel store: %x %v", got, err)
	}
	if err := a.UserRead(page(2), got); err != nil {
		t.Fatalf("user read of the allocated page: %v", err)
	}
	if len(s.got) != 2 {
		t.Fatalf("unexpected reports %q", s.got[2:])
	}
}

// Freeing over scratch clears the mapping but frees nothing; teardown with
// scratch installed releases exactly the owned pages.
func TestScratchNotOwned(t *testing.T) {
	_, pages0 := Live()
	a, err := create(Spec{MaxEntries: 8, Flags: mmapable, MapExtra: base}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a.AllocPages(page(0), 2, NumaNoNode)
	for _, pg := range []uint64{4, 5, 6} {
		if err := a.KernelWrite(pg*PageSize, []byte{1}, OnBehalf{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, p := Live(); p-pages0 != 2 || a.Populated() != 2 {
		t.Fatalf("live pages %d populated %d, want 2", p-pages0, a.Populated())
	}
	a.FreePages(page(4), 1) // scratch only
	if a.IsScratch(4*PageSize) || a.Populated() != 2 {
		t.Fatal("free over scratch changed ownership or left the mapping")
	}
	a.FreePages(page(0), 8) // both real pages and the remaining scratch
	if a.IsScratch(5*PageSize) || a.Populated() != 0 {
		t.Fatal("bulk free")
	}
	if _, p := Live(); p != pages0 {
		t.Fatalf("live pages %d, want %d", p, pages0)
	}
	// Teardown with scratch installed and real pages around.
	a.AllocPages(page(1), 1, NumaNoNode)
	a.KernelWrite(7*PageSize, []byte{1}, OnBehalf{})
	a.Put()
	if _, p := Live(); p != pages0 {
		t.Fatalf("after teardown live pages %d, want %d", p, pages0)
	}
}

func TestKernelAccessBounds(t *testing.T) {
	a := mustNew(t, Spec{MaxEntries: 2, Flags: mmapable, MapExtra: base})
	var s sink
	who := s.on("p")
	cases := []struct {
		name    string
		kaddr   uint64
		size    int
		err     bool
		reports int // new reports
	}{
		{"inside, unpopulated", 0, 8, false, 1},
		{"inside, again", 8, 8, false, 0},
		{"beyond the arena, in the window", 16 * PageSize, 8, false, 1},
		{"same outside page again", 16*PageSize + 8, 8, false, 0},
		{"straddles the arena's last page and the window beyond", 2*PageSize - 4, 8, false, 2},
		{"upper guard", 1<<32 + 100, 8, false, 1},
		{"past the upper guard", 1<<32 + GuardSize/2, 8, true, 0},
		{"wraps past the guard", 1<<32 + GuardSize/2 - 4, 8, true, 0},
		{"far away", 1 << 40, 1, true, 0},
	}
	for _, c := range cases {
		before := len(s.got)
		err := a.KernelRead(c.kaddr, make([]byte, c.size), who)
		if (err != nil) != c.err || len(s.got)-before != c.reports {
			t.Errorf("%s: err %v, reports %d; want err %v, %d", c.name, err, len(s.got)-before, c.err, c.reports)
		}
	}
	if a.Populated() != 0 {
		t.Fatal("kernel reads populated real pages")
	}
}

// Reports go through stream.Set.Sink into the program's stderr.
func TestKernelReportIntoStream(t *testing.T) {
	a := mustNew(t, Spec{MaxEntries: 2, Flags: mmapable})
	set := stream.NewSet()
	who := OnBehalf{Prog: "enq", Sink: set.Sink, Info: stream.StackInfo{CPU: 3, PID: 42, Comm: "worker"}}
	if err := a.KernelWrite(uint64(uint32(a.UserBase()))+PageSize+8, []byte{1, 2}, who); err != nil {
		t.Fatal(err)
	}
	got := set.Prog("enq").Stderr.ReadAll()
	want := fmt.Sprintf("ERROR: Arena WRITE access at unmapped address 0x%x\n"+
		"CPU: 3 UID: 0 PID: 42 Comm: worker\nCall trace:\nbpf_prog_enq\n\n", a.UserBase()+PageSize)
	if got != want {
		t.Fatalf("stderr %q\nwant   %q", got, want)
	}
}
