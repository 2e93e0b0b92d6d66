package e2e

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

	"math/rand/v2"

	"github.com/scxsim/scxsim/bpf/stream"
	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/cmask"
	"github.com/scxsim/scxsim/kernel/ktypes"
)

// hostObj is a loaded scxsim object loaded a second time into the host
// kernel: the same final instructions, map references pointing at host maps
// of the same shape and kfunc calls at the host's BTF ids, its arena mapped
// at the same user address. The host kernel's verifier thereby checks that
// the test programs are valid BPF, and the runs compare byte for byte.
type hostObj struct {
	ev    *env
	arena []byte // the host arena's user mapping
	data  map[string]*ebpf.Map
	progs map[string]*ebpf.Program
}

func loadHost(t *testing.T, ev *env) *hostObj {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for the bpf syscall")
	}
	hbtf, err := btf.LoadKernelSpec()
	if err != nil {
		t.Skipf("host kernel BTF unavailable: %v", err)
	}
	kbtf, err := ktypes.BTF()
	if err != nil {
		t.Fatal(err)
	}
	h := &hostObj{ev: ev, data: map[string]*ebpf.Map{}, progs: map[string]*ebpf.Program{}}
	fds := make([]int, len(ev.obj.Maps))
	for i, m := range ev.obj.Maps {
		var hm *ebpf.Map
		switch {
		case m.ArenaMap != nil:
			a := m.ArenaMap
			hm, err = ebpf.NewMap(&ebpf.MapSpec{Name: m.Name, Type: ebpf.Arena, MaxEntries: m.Spec.MaxEntries,
				Flags: m.Spec.Flags, MapExtra: m.Spec.MapExtra})
			if err != nil {
				t.Skipf("host kernel cannot create an arena: %v", err)
			}
			size := int(a.UserEnd() - a.UserBase())
			p, err := unix.MmapPtr(hm.FD(), 0, unsafe.Add(nil, uintptr(a.UserBase())), uintptr(size),
				unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_FIXED_NOREPLACE)
			if err != nil {
				t.Skipf("mmap the host arena at %#x: %v", a.UserBase(), err)
			}
			t.Cleanup(func() { unix.MunmapPtr(p, uintptr(size)) })
			h.arena = unsafe.Slice((*byte)(p), size)
			// libbpf's image of the __arena globals, at the arena's end.
			img := make([]byte, vm.PageSize)
			if err := a.UserRead(a.UserEnd()-vm.PageSize, img); err != nil {
				t.Fatal(err)
			}
			copy(h.arena[size-vm.PageSize:], img)
		case m.Spec.Type == 2 && m.Spec.MaxEntries == 1: // global data
			hm, err = ebpf.NewMap(&ebpf.MapSpec{Name: strings.TrimPrefix(m.Name, "."), Type: ebpf.Array,
				KeySize: 4, ValueSize: m.Spec.ValueSize, MaxEntries: 1})
			if err != nil {
				t.Fatal(err)
			}
			h.data[m.Name] = hm
		default:
			t.Fatalf("map %s: type %d not set up for the host", m.Name, m.Spec.Type)
		}
		t.Cleanup(func() { hm.Close() })
		fds[i] = hm.FD()
	}
	for _, p := range ev.obj.Programs {
		insns := append([]vm.Insn(nil), p.Insns...)
		for i := 0; i < len(insns); i++ {
			in := &insns[i]
			switch {
			case in.Op == 0x18 && (in.Src == vm.PseudoMapFD || in.Src == vm.PseudoMapValue):
				in.Imm = int32(fds[in.Imm])
				i++
			case in.Op == 0x18:
				i++
			case in.Op == 0x85 && in.Src == vm.PseudoKfuncCall:
				t1, err := kbtf.TypeByID(btf.TypeID(in.Imm))
				if err != nil {
					t.Fatal(err)
				}
				var fn *btf.Func
				if err := hbtf.TypeByName(t1.TypeName(), &fn); err != nil {
					if t1.TypeName() == "scx_bpf_error_bstr" {
						// The host has no sched_ext; the scripts
						// never reach scx_bpf_error() (scxsim's run
						// fails if they do), so "r0 = 0" stands in.
						*in = vm.Insn{Op: 0xb7}
						continue
					}
					t.Skipf("host kernel lacks kfunc %s", t1.TypeName())
				}
				id, _ := hbtf.TypeID(fn)
				in.Imm = int32(id)
			}
		}
		fd, err := hostLoad(p.Name, vm.EncodeBytes(insns), p.Sleepable)
		if err != nil {
			t.Fatalf("host kernel refuses %s: %v", p.Name, err)
		}
		hp, err := ebpf.NewProgramFromFD(fd)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { hp.Close() })
		h.progs[p.Name] = hp
	}
	return h
}

// hostLoad loads a BPF_PROG_TYPE_SYSCALL program with BPF_PROG_LOAD (the
// instructions go raw: cilium/ebpf's encoder drops addr_space_cast's
// offset) and returns its fd, or the verifier log in the error.
func hostLoad(name string, code []byte, sleepable bool) (int, error) {
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
	if sleepable {
		le.PutUint32(attr[44:], unix.BPF_F_SLEEPABLE)
	}
	copy(attr[48:63], name)
	fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&attr[0])), uintptr(len(attr)))
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	if errno != 0 {
		return -1, fmt.Errorf("%v:\n%s", errno, bytes.TrimRight(log, "\x00"))
	}
	return int(fd), nil
}

// hostStderr reads a host program's stderr stream
// (BPF_PROG_STREAM_READ_BY_FD); false if the kernel has no streams.
func hostStderr(p *ebpf.Program) (string, bool) {
	buf := make([]byte, 1<<16)
	attr := struct {
		buf    uint64
		bufLen uint32
		id     uint32
		fd     uint32
		_      uint32
	}{uint64(uintptr(unsafe.Pointer(&buf[0]))), uint32(len(buf)), stream.Stderr, uint32(p.FD()), 0}
	n, _, errno := unix.Syscall(unix.SYS_BPF, 37, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(buf)
	if errno != 0 {
		return "", false
	}
	return string(buf[:n]), true
}

// syncData copies scxsim's global data sections to the host's.
func (h *hostObj) syncData(t *testing.T) {
	t.Helper()
	for name, hm := range h.data {
		d := h.ev.obj.Map(name).Map.(interface{ Data(int) []byte }).Data(0)[:hm.ValueSize()]
		if err := hm.Update(uint32(0), d, ebpf.UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
}

// run runs program name in both and compares r0 and the global data.
func (h *hostObj) run(t *testing.T, name string) uint64 {
	t.Helper()
	h.syncData(t)
	want, err := h.progs[name].Run(&ebpf.RunOptions{Context: make([]byte, 8)})
	if err != nil {
		t.Fatalf("host run %s: %v", name, err)
	}
	got := h.ev.run(name)
	if uint32(got) != want {
		t.Errorf("%s returned %#x in scxsim, %#x in the host kernel", name, uint32(got), want)
	}
	for sec, hm := range h.data {
		d := h.ev.obj.Map(sec).Map.(interface{ Data(int) []byte }).Data(0)[:hm.ValueSize()]
		hd := make([]byte, len(d))
		if err := hm.Lookup(uint32(0), &hd); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(d, hd) {
			for _, g := range h.ev.obj.Globals {
				if g.Section == sec && !bytes.Equal(d[g.Offset:g.Offset+g.Size], hd[g.Offset:g.Offset+g.Size]) {
					t.Errorf("after %s: %s is %x in scxsim, %x in the host kernel", name, g.Name, d[g.Offset:g.Offset+g.Size], hd[g.Offset:g.Offset+g.Size])
				}
			}
		}
	}
	return got
}

// compareArena compares every arena page (touching them all, so only at
// the end of a test: a user touch allocates a page in both).
func (h *hostObj) compareArena(t *testing.T) {
	t.Helper()
	a := h.ev.arena
	got := h.ev.user(a.UserBase(), int(a.UserEnd()-a.UserBase()))
	for off := 0; off < len(got); off += 8 {
		g, w := binary.LittleEndian.Uint64(got[off:]), binary.LittleEndian.Uint64(h.arena[off:])
		if g != w {
			t.Errorf("arena page %d +%#x: scxsim %#x, host kernel %#x", off/vm.PageSize, off%vm.PageSize, g, w)
		}
	}
}

// The arena test object passes the host kernel's verifier, and the same
// runs leave the same bytes in the host's arena and in scxsim's, down to
// the node pointers, and the same fault reports.
func TestArenaListHostKernel(t *testing.T) {
	ev := load(t, "arena_list.bpf.o")
	h := loadHost(t, ev)
	keys, vals := make([]uint64, maxKeys), make([]uint64, maxKeys)
	for bi, nb := range []int{100, 120} {
		for i := range nb {
			keys[i] = uint64(i*7919+bi*31) % 97
			vals[i] = uint64(i)<<32 | uint64(bi)
		}
		ev.set("keys", u64s(keys))
		ev.set("vals", u64s(vals))
		ev.set("nr_keys", uint32(nb))
		h.run(t, "build")
	}
	ev.set("factor", uint64(0x9e3779b97f4a7c15))
	h.run(t, "scale")
	h.run(t, "sum")

	// A faulting load and store on page 40, then the same after user
	// space has touched it in both.
	addr := ev.arena.UserBase() + 40*vm.PageSize + 0x88
	ev.set("fault_addr", addr)
	ev.set("fault_val", uint64(0x1111))
	h.run(t, "fault_load")
	ev.set("fault_val", uint64(0x2222))
	h.run(t, "fault_store")
	for _, p := range []string{"fault_load", "fault_store"} {
		host, ok := hostStderr(h.progs[p])
		if !ok {
			t.Logf("host kernel has no BPF streams; fault reports not compared")
			break
		}
		got := ev.stderr(p)
		if host == "" {
			// Arena fault reports on streams came after the streams
			// themselves (Linux 6.19).
			t.Logf("host kernel keeps %s's stderr empty: fault reports not compared", p)
			continue
		}
		first := func(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }
		if first(got) != first(host) || !strings.HasPrefix(first(host), "ERROR: Arena") {
			t.Errorf("%s report: scxsim %q, host kernel %q", p, first(got), first(host))
		}
	}
	binary.LittleEndian.PutUint64(h.arena[addr-ev.arena.UserBase():], 0x600d)
	if err := ev.arena.UserWrite(addr, u64s([]uint64{0x600d})); err != nil {
		t.Fatal(err)
	}
	h.run(t, "fault_load")
	h.compareArena(t)
}

// The cmask test object passes the host kernel's verifier too, and the
// host's cmask helpers and scxsim's leave the same results and bytes.
func TestCmaskHostKernel(t *testing.T) {
	ev := &cmaskEnv{env: load(t, "cmask_ops.bpf.o")}
	h := loadHost(t, ev.env)
	h.run(t, "setup")
	raw := ev.global("slot")
	for i := range ev.slots {
		ev.slots[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
	c := cmaskCase{"host", 11, 700, 300, 1500, 200, 3}
	g := &gen{r: rand.New(rand.NewPCG(c.seed, 0xc5a5)), c: c}
	masks := make([]cmask.Mask, nrSlots)
	for round := range c.rounds {
		for i := range masks {
			if round == 0 {
				masks[i] = g.fill(make([]byte, slotBytes))
			} else {
				copy(masks[i].Bytes(), ev.read(i))
				g.scribble(masks[i], true)
			}
			ev.write(i, masks[i].Bytes())
			copy(h.arena[ev.slots[i]-ev.arena.UserBase():], masks[i].Bytes())
		}
		ops := g.script(t, masks, c.ops)
		if len(ops) > maxOps {
			ops = ops[:maxOps]
		}
		ev.set("ops", encodeOps(ops))
		ev.set("nr_ops", uint32(len(ops)))
		h.run(t, "run_ops")
		for i := range masks {
			host := h.arena[ev.slots[i]-ev.arena.UserBase():][:slotBytes]
			if got := ev.read(i); !bytes.Equal(got, host) {
				t.Fatalf("round %d: slot %d: %s", round, i, diffMask(got, host))
			}
		}
	}
	h.compareArena(t)
}
