package arena

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/stream"
	"github.com/scxsim/scxsim/bpf/vm"
)

// diffProg allocates, reserves and frees arena pages and writes through
// them, recording every kfunc result in the first allocated page. r1 is a
// syscall-program context holding the arena's user base. Kfunc ids: 1
// alloc_pages, 2 free_pages, 3 reserve_pages. Page 5 is populated by user
// space before the run.
const diffProg = `
	ldxdw %r9, [%r1+0]
	lddw %r1, MAP
	mov %r2, 0
	mov %r3, 2
	mov %r4, -1
	mov %r5, 0
	call kfunc 1
	jeq %r0, 0, fail
	mov %r6, %r0
	mov %r7, %r0
	cast_kern %r7, %r7
	mov %r8, %r9
	cast_kern %r8, %r8
	stxdw [%r7+0], %r6
	lddw %r0, 0x1122334455667788
	stxdw [%r7+8], %r0
	mov %r0, %r7
	cast_user %r0, %r0
	stxdw [%r7+16], %r0

	# hinted allocation over the user-populated page 5: fails
	lddw %r1, MAP
	mov %r2, %r9
	add %r2, 0x5000
	mov %r3, 1
	mov %r4, -1
	mov %r5, 0
	call kfunc 1
	stxdw [%r7+24], %r0

	# hinted allocation of page 1
	lddw %r1, MAP
	mov %r2, %r9
	add %r2, 0x1000
	mov %r3, 1
	mov %r4, -1
	mov %r5, 0
	call kfunc 1
	stxdw [%r7+32], %r0

	# reserve page 3: 0, again: -EBUSY, pages 7-8: -EINVAL
	lddw %r1, MAP
	mov %r2, %r9
	add %r2, 0x3000
	mov %r3, 1
	call kfunc 3
	stxdw [%r7+40], %r0
	lddw %r1, MAP
	mov %r2, %r9
	add %r2, 0x3000
	mov %r3, 1
	call kfunc 3
	stxdw [%r7+48], %r0
	lddw %r1, MAP
	mov %r2, %r9
	add %r2, 0x7000
	mov %r3, 2
	call kfunc 3
	stxdw [%r7+56], %r0

	# hinted allocation of the reserved page: fails
	lddw %r1, MAP
	mov %r2, %r9
	add %r2, 0x3000
	mov %r3, 1
	mov %r4, -1
	mov %r5, 0
	call kfunc 1
	stxdw [%r7+64], %r0

	# free page 1 and the reserved page 3 (one call each), then allocate
	# one page without a hint: best fit
	lddw %r1, MAP
	mov %r2, %r9
	add %r2, 0x1000
	mov %r3, 1
	call kfunc 2
	lddw %r1, MAP
	mov %r2, %r9
	add %r2, 0x3000
	mov %r3, 1
	call kfunc 2
	lddw %r1, MAP
	mov %r2, 0
	mov %r3, 1
	mov %r4, -1
	mov %r5, 0
	call kfunc 1
	stxdw [%r7+72], %r0
	jeq %r0, 0, skip
	mov %r1, %r0
	cast_kern %r1, %r1
	stdw [%r1+8], 0x55
skip:
	# BPF writes into the user-populated page 5
	stdw [%r8+0x5008], 0xabc

	# faults: a load from unallocated page 2 yields 0, a store to page 4
	# is dropped
	mov %r0, 77
	ldxdw %r0, [%r8+0x2000]
	stxdw [%r7+80], %r0
	stdw [%r8+0x4000], 99

	# page 0 from kernel form back to user form: NULL when the base is
	# 4 GiB aligned
	mov %r0, %r8
	cast_user %r0, %r0
	stxdw [%r7+88], %r0
	mov %r0, 0
	exit
fail:
	mov %r0, 1
	exit
`

const diffPages = 8

// kfunc BTF ids of the host kernel, by the test program's ids.
func hostKfuncIDs(t *testing.T) map[int32]int32 {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Skipf("host kernel BTF unavailable: %v", err)
	}
	ids := map[int32]int32{}
	for id, name := range testKfuncIDs {
		var fn *btf.Func
		if err := spec.TypeByName(name, &fn); err != nil {
			t.Skipf("host kernel lacks kfunc %s: %v", name, err)
		}
		tid, err := spec.TypeID(fn)
		if err != nil {
			t.Fatal(err)
		}
		ids[id] = int32(tid)
	}
	return ids
}

type hostResult struct {
	r0     uint64
	pages  []byte
	errors []string // "ERROR:" lines of the program's stderr stream
	stream bool     // the kernel has BPF streams
}

// runHost runs the program in the host kernel: an arena mmap'ed at an
// address the kernel picks, page 5 touched by user space, one test run.
func runHost(t *testing.T, insns []vm.Insn, mapMagic, mapExtra uint64) (uint64, hostResult) {
	if os.Geteuid() != 0 {
		t.Skip("differential test needs root for the bpf syscall")
	}
	ids := hostKfuncIDs(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "diff_arena", Type: ebpf.Arena, MaxEntries: diffPages, Flags: unix.BPF_F_MMAPABLE, MapExtra: mapExtra})
	if err != nil {
		t.Skipf("host kernel cannot create an arena: %v", err)
	}
	defer m.Close()
	flags := unix.MAP_SHARED
	if mapExtra != 0 {
		flags |= unix.MAP_FIXED_NOREPLACE
	}
	p, err := unix.MmapPtr(m.FD(), 0, unsafe.Add(nil, uintptr(mapExtra)), diffPages*PageSize, unix.PROT_READ|unix.PROT_WRITE, flags)
	if err != nil {
		t.Skipf("mmap arena at %#x: %v", mapExtra, err)
	}
	defer unix.MunmapPtr(p, diffPages*PageSize)
	mem := unsafe.Slice((*byte)(p), diffPages*PageSize)
	hostBase := uint64(uintptr(unsafe.Pointer(&mem[0])))
	mem[5*PageSize] = 1 // populate page 5 from user space

	// cilium/ebpf's encoder drops addr_space_cast's offset field, so the
	// program goes to the kernel as raw bytes, patched in place.
	kinsns := append([]vm.Insn(nil), insns...)
	for i := 0; i < len(kinsns); i++ {
		in := &kinsns[i]
		switch {
		case in.Op == 0x18 && i+1 < len(kinsns) && uint64(uint32(in.Imm))|uint64(uint32(kinsns[i+1].Imm))<<32 == mapMagic:
			in.Src, in.Imm, kinsns[i+1].Imm = vm.PseudoMapFD, int32(m.FD()), 0
			i++
		case in.Op == 0x18:
			i++
		case in.Op == 0x85 && in.Src == vm.PseudoKfuncCall:
			in.Imm = ids[in.Imm]
		}
	}
	fd, err := loadRaw("arena_diff", vm.EncodeBytes(kinsns))
	if err != nil {
		t.Skipf("host kernel refuses the arena program: %v", err)
	}
	prog, err := ebpf.NewProgramFromFD(fd)
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	ctx := make([]byte, 8)
	binary.LittleEndian.PutUint64(ctx, hostBase)
	r0, err := prog.Run(&ebpf.RunOptions{Context: ctx})
	if err != nil {
		t.Fatalf("test run: %v", err)
	}
	res := hostResult{r0: uint64(r0), pages: append([]byte(nil), mem...)}
	res.errors, res.stream = readHostStream(prog.FD(), stream.Stderr)
	return hostBase, res
}

// loadRaw loads a BPF_PROG_TYPE_SYSCALL program (sleepable, GPL) with
// BPF_PROG_LOAD and returns its fd, or the verifier log in the error.
func loadRaw(name string, code []byte) (int, error) {
	license := []byte("GPL\x00")
	log := make([]byte, 1<<20)
	var attr [128]byte
	le := binary.LittleEndian
	le.PutUint32(attr[0:], uint32(ebpf.Syscall))
	le.PutUint32(attr[4:], uint32(len(code)/8))
	le.PutUint64(attr[8:], uint64(uintptr(unsafe.Pointer(&code[0]))))
	le.PutUint64(attr[16:], uint64(uintptr(unsafe.Pointer(&license[0]))))
	le.PutUint32(attr[24:], 1) // log_level
	le.PutUint32(attr[28:], uint32(len(log)))
	le.PutUint64(attr[32:], uint64(uintptr(unsafe.Pointer(&log[0]))))
	le.PutUint32(attr[44:], unix.BPF_F_SLEEPABLE)
	copy(attr[48:63], name)
	fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&attr[0])), uintptr(len(attr)))
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	if errno != 0 {
		return -1, fmt.Errorf("%v:\n%s", errno, bytes.TrimRight(log, "\x00"))
	}
	return int(fd), nil
}

// readHostStream reads a program's BPF stream (BPF_PROG_STREAM_READ_BY_FD)
// and keeps its "ERROR:" lines.
func readHostStream(fd, id int) ([]string, bool) {
	buf := make([]byte, 1<<16)
	attr := struct {
		buf    uint64
		bufLen uint32
		id     uint32
		fd     uint32
		_      uint32
	}{uint64(uintptr(unsafe.Pointer(&buf[0]))), uint32(len(buf)), uint32(id), uint32(fd), 0}
	n, _, errno := unix.Syscall(unix.SYS_BPF, 37, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return nil, false
	}
	return errorLines(string(buf[:n])), true
}

func errorLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "ERROR:") {
			out = append(out, l)
		}
	}
	return out
}

// The same instructions give the same user-visible arena contents, return
// value and fault reports in the host kernel and in scxsim, with a user
// base the kernel picks and with a 4 GiB aligned map_extra.
func TestDifferentialHostKernel(t *testing.T) {
	for _, c := range []struct {
		name     string
		mapExtra uint64
	}{{"kernel-chosen base", 0}, {"4 GiB aligned map_extra", 0x3f00_0000_0000}} {
		t.Run(c.name, func(t *testing.T) { differential(t, c.mapExtra) })
	}
}

func differential(t *testing.T, mapExtra uint64) {
	var magic uint64 = 0x7eadbeef_0000_0001
	insns := assemble(t, diffProg, magic)
	base, host := runHost(t, insns, magic, mapExtra)

	mem := vm.NewMemory()
	a, err := New(mem, &maps.Spec{Name: "diff_arena", Type: maps.TypeArena, MaxEntries: diffPages, Flags: mmapable, MapExtra: base}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Put()
	if err := a.UserWrite(base+5*PageSize, []byte{1}); err != nil {
		t.Fatal(err)
	}
	// The VM resolves the map load to the arena's address.
	for i := range insns {
		if insns[i].Op == 0x18 && insns[i].Imm == int32(uint32(magic)) && insns[i+1].Imm == int32(magic>>32) {
			insns[i].Imm, insns[i+1].Imm = int32(uint32(a.Addr())), int32(a.Addr()>>32)
		}
	}
	p, err := vm.Load("arena_diff", insns, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	p.Arena = a.VM()
	set := stream.NewSet()
	e := vm.NewExec(mem)
	e.Stream = set.Sink
	ctx := make([]byte, 8)
	binary.LittleEndian.PutUint64(ctx, base)
	_, ctxAddr := mem.Map("ctx", ctx, vm.PermRW)
	r0, err := e.Run(p, ctxAddr)
	if err != nil {
		t.Fatal(err)
	}
	pages := make([]byte, diffPages*PageSize)
	if err := a.UserRead(base, pages); err != nil {
		t.Fatal(err)
	}

	if r0 != host.r0 {
		t.Errorf("r0: scxsim %d, kernel %d", r0, host.r0)
	}
	if !bytes.Equal(pages, host.pages) {
		for pg := 0; pg < diffPages; pg++ {
			for off := 0; off < PageSize; off += 8 {
				i := pg*PageSize + off
				g, w := binary.LittleEndian.Uint64(pages[i:]), binary.LittleEndian.Uint64(host.pages[i:])
				if g != w {
					t.Errorf("page %d +%#x: scxsim %#x, kernel %#x", pg, off, g, w)
				}
			}
		}
	}
	// The recorded results, relative to the base, for the log.
	res := pages[6*PageSize:]
	var desc []string
	for i := 0; i < 12; i++ {
		desc = append(desc, fmt.Sprintf("%#x", binary.LittleEndian.Uint64(res[i*8:])))
	}
	t.Logf("base %#x, results in page 6: %s", base, strings.Join(desc, " "))

	if !host.stream {
		t.Log("host kernel has no BPF streams: fault reports not compared")
		return
	}
	got := errorLines(set.Prog("arena_diff").Stderr.ReadAll())
	if len(got) != 2 {
		t.Errorf("scxsim reported %d faults, want 2: %q", len(got), got)
	}
	if len(host.errors) == 0 {
		// Arena fault reports on streams came after streams themselves
		// (Linux 6.19); older kernels keep the stream empty.
		t.Logf("host kernel %s does not report arena faults on streams: reports not compared", kernelRelease())
		return
	}
	if strings.Join(got, "\n") != strings.Join(host.errors, "\n") {
		t.Errorf("stderr ERROR lines:\nscxsim %q\nkernel %q", got, host.errors)
	}
}

func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}
