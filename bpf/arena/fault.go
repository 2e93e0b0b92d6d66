package arena

import (
	"encoding/binary"
	"fmt"

	"github.com/scxsim/scxsim/bpf/stream"
	"github.com/scxsim/scxsim/bpf/vm"
)

// OnBehalf names the BPF program for which kernel code (scxsim's Go side)
// touches an arena, so that a fault is reported on that program's stderr
// stream, as the kernel attributes it to the program found on the stack.
type OnBehalf struct {
	Prog string
	// Sink receives the report; the signature is vm.Exec.Stream's
	// (stream.Set.Sink fits). nil drops the report.
	Sink func(prog string, fd int, msg string)
	// Info fills the stack dump (CPU, task); Frames defaults to the
	// program itself.
	Info stream.StackInfo
}

// ForExec attributes kernel-side accesses to the program e is running (a
// kfunc or helper acting for it).
func ForExec(e *vm.Exec) OnBehalf {
	ob := OnBehalf{Sink: e.Stream, Info: stream.Info(e, -1)}
	if p := e.Prog(); p != nil {
		ob.Prog = p.Name
	}
	return ob
}

// report formats a violation the way __bpf_prog_report_arena_violation()
// does: the faulting address in user form, then a stack dump.
func report(write bool, uaddr uint64, info stream.StackInfo) string {
	kind := "READ"
	if write {
		kind = "WRITE"
	}
	var st stream.Stage
	st.Printf("ERROR: Arena %s access at unmapped address 0x%x\n", kind, uaddr)
	st.DumpStack(info)
	return st.String()
}

// bpfFault is the VM's Fault hook: a BPF load or store hit an unpopulated
// page. The VM has already made the load yield 0 or dropped the store; the
// arena reports on the program's stderr, with the address in user form.
// Mirrors ex_handler_bpf() -> bpf_prog_report_arena_violation().
func (a *Arena) bpfFault(e *vm.Exec, pc int, addr uint64, size int, write bool) {
	a.mu.Lock()
	a.faults++
	a.mu.Unlock()
	p := e.Prog()
	if e.Stream == nil || p == nil {
		return
	}
	uaddr := a.userStart&^0xffffffff | uint64(uint32(addr))
	e.Stream(p.Name, stream.Stderr, report(write, uaddr, stream.Info(e, pc)))
}

// KernelRead copies arena memory at kernel-view address kaddr into buf for
// kernel code acting on behalf of a program. An unpopulated page gets the
// arena's scratch page installed, the read completes against it (zeros
// unless something wrote there) and the fault is reported on the program's
// stream. An address outside the kernel window and its upper guard is a
// kernel oops: an error.
func (a *Arena) KernelRead(kaddr uint64, buf []byte, who OnBehalf) error {
	return a.kernelCopy(kaddr, buf, false, who)
}

// KernelWrite is KernelRead's counterpart for stores; a store to an
// unpopulated page lands in the scratch page.
func (a *Arena) KernelWrite(kaddr uint64, buf []byte, who OnBehalf) error {
	return a.kernelCopy(kaddr, buf, true, who)
}

// KernelU64 reads the little-endian u64 at kernel-view address kaddr
// (KernelRead's rules).
func (a *Arena) KernelU64(kaddr uint64, who OnBehalf) (uint64, error) {
	var b [8]byte
	err := a.KernelRead(kaddr, b[:], who)
	return binary.LittleEndian.Uint64(b[:]), err
}

// SetKernelU64 stores v little-endian at kernel-view address kaddr
// (KernelWrite's rules).
func (a *Arena) SetKernelU64(kaddr, v uint64, who OnBehalf) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return a.KernelWrite(kaddr, b[:], who)
}

// kernelLimit is the end of the range bpf_arena_handle_page_fault()
// recovers: the 4 GiB window plus the upper half-guard.
const kernelLimit = windowSize + GuardSize/2

func (a *Arena) kernelCopy(kaddr uint64, buf []byte, write bool, who OnBehalf) error {
	var reports []string
	err := func() error {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.released {
			return fmt.Errorf("arena %q: kernel access at %#x after release", a.spec.Name, kaddr)
		}
		if kaddr >= kernelLimit || uint64(len(buf)) > kernelLimit-kaddr {
			return fmt.Errorf("arena %q: kernel access at %#x (size %d) outside the arena window", a.spec.Name, kaddr, len(buf))
		}
		for len(buf) > 0 {
			p, rep := a.kernelPage(kaddr, write, who)
			if rep != "" {
				reports = append(reports, rep)
			}
			o := int(kaddr & (PageSize - 1))
			var n int
			if write {
				n = copy(p[o:], buf)
			} else {
				n = copy(buf, p[o:])
			}
			buf = buf[n:]
			kaddr += uint64(n)
		}
		return nil
	}()
	// Report outside the lock: the sink may be arbitrary embedder code.
	if who.Sink != nil && who.Prog != "" {
		for _, r := range reports {
			who.Sink(who.Prog, stream.Stderr, r)
		}
	}
	return err
}

// kernelPage returns the page for kernel address kaddr, installing the
// scratch page if none is there. Mirrors bpf_arena_handle_page_fault().
func (a *Arena) kernelPage(kaddr uint64, write bool, who OnBehalf) (*[PageSize]byte, string) {
	slot, out := a.slot(kaddr)
	if out {
		wp := kaddr >> pageShift
		if a.outside[wp] {
			return a.scratch, ""
		}
		if a.outside == nil {
			a.outside = map[uint64]bool{}
		}
		a.outside[wp] = true
	} else {
		if p := *slot; p != nil {
			return p, ""
		}
		*slot = a.scratch
	}
	a.faults++
	info := who.Info
	if len(info.Frames) == 0 && who.Prog != "" {
		info.Frames = []stream.Frame{{Prog: who.Prog, PC: -1}}
	}
	page := kaddr &^ (PageSize - 1)
	return a.scratch, report(write, a.userStart&^0xffffffff+page, info)
}
