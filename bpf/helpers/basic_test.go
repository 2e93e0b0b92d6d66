package helpers

import (
	"bytes"
	"encoding/binary"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

func TestTimeAndCPU(t *testing.T) {
	v := newEnv(t, 4)
	v.k.Now, v.k.BootOff, v.k.Jiffs = 1000, 500, 77
	v.k.Nodes = []int{0, 0, 1, 1}
	cases := []struct {
		name string
		id   int32
		cpu  int
		want uint64
	}{
		{"ktime", FuncKtimeGetNs, 0, 1000},
		{"boot", FuncKtimeGetBootNs, 0, 1500},
		{"coarse", FuncKtimeGetCoarseNs, 0, 1000},
		{"jiffies", FuncJiffies64, 0, 77},
		{"cpu", FuncGetSmpProcessorID, 3, 3},
		{"numa", FuncGetNumaNodeID, 2, 1},
		{"numa cpu1", FuncGetNumaNodeID, 1, 0},
	}
	for _, c := range cases {
		if got := v.call(c.cpu, c.id); got != c.want {
			t.Fatalf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestPrandomDeterministic(t *testing.T) {
	seq := func(seed uint64, cpu int) []uint64 {
		v := newEnv(t, 2)
		v.k.RT.opts.Seed = seed
		var out []uint64
		for range 5 {
			out = append(out, v.call(cpu, FuncGetPrandomU32))
		}
		return out
	}
	a, b := seq(1, 0), seq(1, 0)
	for i := range a {
		if a[i] != b[i] || a[i] > 0xffffffff {
			t.Fatalf("not deterministic: %v %v", a, b)
		}
	}
	c, d := seq(2, 0), seq(1, 1)
	if a[0] == c[0] && a[1] == c[1] || a[0] == d[0] && a[1] == d[1] {
		t.Fatalf("seed or CPU does not change the sequence: %v %v %v", a, c, d)
	}
	if a[0] == a[1] && a[1] == a[2] {
		t.Fatalf("constant sequence %v", a)
	}
}

func TestCurrentTask(t *testing.T) {
	v := newEnv(t, 2)
	task := v.k.NewTask(1234, "a-very-long-command-name")
	v.k.Tasks[task].Tgid = 1200
	v.k.Current[1] = task
	if got := v.call(1, FuncGetCurrentTask); got != task {
		t.Fatalf("current task %#x", got)
	}
	if got := v.call(1, FuncGetCurrentTaskBTF); got != task {
		t.Fatalf("current task btf %#x", got)
	}
	if got := v.call(1, FuncGetCurrentPidTgid); got != 1200<<32|1234 {
		t.Fatalf("pid_tgid %#x", got)
	}
	if got := v.call(0, FuncGetCurrentPidTgid); got != e(syscall.EINVAL) {
		t.Fatalf("pid_tgid without task %d", int64(got))
	}
	buf, b := v.buf(16)
	if r := v.call(1, FuncGetCurrentComm, buf, 16); r != 0 || string(b) != "a-very-long-com\x00" {
		t.Fatalf("comm %d %q", r, b)
	}
	if r := v.call(1, FuncGetCurrentComm, buf, 4); r != 0 || string(b[:4]) != "a-v\x00" {
		t.Fatalf("short comm %q", b)
	}
	for i := range b {
		b[i] = 'x'
	}
	if r := v.call(0, FuncGetCurrentComm, buf, 16); r != e(syscall.EINVAL) || !bytes.Equal(b, make([]byte, 16)) {
		t.Fatalf("comm without task: %d %q", int64(r), b)
	}
}

func TestProbeRead(t *testing.T) {
	v := newEnv(t, 1)
	src, sb := v.buf(8)
	copy(sb, "hello\x00zz")
	dst, db := v.buf(8)
	strCases := []struct {
		name string
		src  uint64
		size uint64
		want uint64
		out  string
	}{
		{"fits", src, 8, 6, "hello\x00"},
		{"truncated", src, 4, 4, "hel\x00"},
		{"zero size", src, 0, 0, ""},
		{"bad source", 0x10, 8, e(syscall.EFAULT), "\x00\x00\x00\x00\x00\x00\x00\x00"},
	}
	for _, id := range []int32{FuncProbeReadKernelStr, FuncProbeReadStr} {
		for _, c := range strCases {
			for i := range db {
				db[i] = 'x'
			}
			got := v.call(0, id, dst, c.size, c.src)
			if got != c.want || string(db[:len(c.out)]) != c.out {
				t.Fatalf("%d %s: r0=%d buf=%q", id, c.name, int64(got), db)
			}
		}
	}
	// A string running into the end of its region stops at the region.
	edge, eb := v.buf(3)
	copy(eb, "abc")
	if got := v.call(0, FuncProbeReadKernelStr, dst, 8, edge); got != e(syscall.EFAULT) {
		t.Fatalf("unterminated string at region end: %d", int64(got))
	}
	for _, id := range []int32{FuncProbeReadKernel, FuncProbeRead} {
		if got := v.call(0, id, dst, 5, src); got != 0 || string(db[:5]) != "hello" {
			t.Fatalf("probe_read: %d %q", got, db)
		}
		if got := v.call(0, id, dst, 8, src+4); got != e(syscall.EFAULT) || !bytes.Equal(db, make([]byte, 8)) {
			t.Fatalf("probe_read across region end: %d %q", int64(got), db)
		}
	}
	if got := v.call(0, FuncProbeReadUser, dst, 4, src); got != e(syscall.EFAULT) {
		t.Fatalf("probe_read_user %d", int64(got))
	}
	if err := v.callErr(0, FuncProbeReadKernel, 0x20, 4, src); err == nil {
		t.Fatal("bad destination did not stop the program")
	}
}

func TestStrncmp(t *testing.T) {
	v := newEnv(t, 1)
	s1, b1 := v.buf(8)
	s2, b2 := v.buf(8)
	cases := []struct {
		a, b string
		n    uint64
		want int64
	}{
		{"abc", "abc", 4, 0}, {"abc", "abd", 4, -1}, {"abd", "abc", 4, 1},
		{"abcx", "abcy", 3, 0}, {"ab", "abc", 4, -1}, {"", "", 1, 0},
	}
	for _, c := range cases {
		clear(b1)
		clear(b2)
		copy(b1, c.a)
		copy(b2, c.b)
		if got := int64(v.call(0, FuncStrncmp, s1, c.n, s2)); got != c.want {
			t.Fatalf("strncmp(%q, %q, %d) = %d, want %d", c.a, c.b, c.n, got, c.want)
		}
	}
}

func TestPerCPUPtrAndKptrXchg(t *testing.T) {
	v := newEnv(t, 2)
	v.k.PerCPU[0xabc] = []uint64{0x100, 0x200}
	if v.call(0, FuncPerCPUPtr, 0xabc, 1) != 0x200 || v.call(0, FuncPerCPUPtr, 0xabc, 2) != 0 {
		t.Fatal("per_cpu_ptr")
	}
	if v.call(1, FuncThisCPUPtr, 0xabc) != 0x200 || v.call(0, FuncThisCPUPtr, 0xabc) != 0x100 {
		t.Fatal("this_cpu_ptr")
	}
	slot, sb := v.buf(8)
	binary.LittleEndian.PutUint64(sb, 0x1111)
	if old := v.call(0, FuncKptrXchg, slot, 0x2222); old != 0x1111 || binary.LittleEndian.Uint64(sb) != 0x2222 {
		t.Fatalf("kptr_xchg %#x %v", old, sb)
	}
}

func TestLocks(t *testing.T) {
	v := newEnv(t, 1)
	lock, lb := v.buf(8)
	flags, _ := v.buf(8)
	v.call(0, FuncSpinLock, lock)
	if lb[0] != 1 {
		t.Fatal("spin lock not taken")
	}
	v.call(0, FuncSpinUnlock, lock)
	if lb[0] != 0 {
		t.Fatal("spin lock not released")
	}
	if r := v.kcall(0, "bpf_res_spin_lock", lock); r != 0 {
		t.Fatalf("res lock %d", int64(r))
	}
	if r := v.kcall(0, "bpf_res_spin_lock_irqsave", lock, flags); r != e(syscall.EDEADLK) {
		t.Fatalf("AA deadlock not detected: %d", int64(r))
	}
	v.kcall(0, "bpf_res_spin_unlock", lock)
	if r := v.kcall(0, "bpf_res_spin_lock_irqsave", lock, flags); r != 0 {
		t.Fatalf("res lock irqsave %d", int64(r))
	}
	v.kcall(0, "bpf_res_spin_unlock_irqrestore", lock, flags)
	if lb[0] != 0 {
		t.Fatal("res lock not released")
	}
}

func TestPrintk(t *testing.T) {
	v := newEnv(t, 1)
	fmtA, fb := v.buf(64)
	str, sb := v.buf(8)
	copy(sb, "bob\x00")
	set := func(s string) uint64 { clear(fb); copy(fb, s); return uint64(len(s) + 1) }
	n := set("x=%d u=%u s=%s c=%c|%5d|%-4x|\n")
	args, ab := v.buf(96)
	// bpf_trace_printk takes 3 arguments: a fourth conversion is -EINVAL.
	if r := v.call(0, FuncTracePrintk, fmtA, n, uint64(0xffffffff), 7, str); r != e(syscall.EINVAL) {
		t.Fatalf("trace_printk with 6 specs and 3 args: %d", int64(r))
	}
	n = set("x=%d u=%llu s=%s\n")
	want := "x=-1 u=18446744073709551615 s=bob\n"
	if r := v.call(0, FuncTracePrintk, fmtA, n, uint64(0xffffffff), ^uint64(0), str); r != uint64(len(want)) {
		t.Fatalf("trace_printk r0 %d", int64(r))
	}
	if got := v.k.Printk[len(v.k.Printk)-1]; got != want {
		t.Fatalf("printk %q, want %q", got, want)
	}
	// No NUL within fmt_size.
	if r := v.call(0, FuncTracePrintk, fmtA, 3, 1, 2, 3); r != e(syscall.EINVAL) {
		t.Fatalf("unterminated fmt: %d", int64(r))
	}
	n = set("bad %q")
	if r := v.call(0, FuncTracePrintk, fmtA, n, 1, 2, 3); r != e(syscall.EINVAL) {
		t.Fatalf("bad conversion: %d", int64(r))
	}
	// vprintk takes up to 12 u64 arguments from memory.
	n = set("%d %d %d %d|%5d|%-3x|%c")
	for i, a := range []uint64{1, 2, 3, 4, 42, 0xa, 'Z'} {
		binary.LittleEndian.PutUint64(ab[8*i:], a)
	}
	want = "1 2 3 4|   42|a  |Z"
	if r := v.call(0, FuncTraceVprintk, fmtA, n, args, 56); r != uint64(len(want)) || v.k.Printk[len(v.k.Printk)-1] != want {
		t.Fatalf("vprintk %d %q", int64(r), v.k.Printk[len(v.k.Printk)-1])
	}
	for _, bad := range []uint64{12, 13 * 8} {
		if r := v.call(0, FuncTraceVprintk, fmtA, n, args, bad); r != e(syscall.EINVAL) {
			t.Fatalf("vprintk data_len %d: %d", bad, int64(r))
		}
	}
	if r := v.call(0, FuncTraceVprintk, fmtA, n, 0, 8); r != e(syscall.EINVAL) {
		t.Fatalf("vprintk NULL data: %d", int64(r))
	}
	if r := v.call(0, FuncTraceVprintk, fmtA, n, args, 48); r != e(syscall.EINVAL) {
		t.Fatalf("vprintk too few args: %d", int64(r))
	}
}

func TestSnprintf(t *testing.T) {
	v := newEnv(t, 1)
	fmtA, fb := v.buf(32)
	copy(fb, "id=%llx/%s")
	str, sb := v.buf(8)
	copy(sb, "abcdef\x00")
	args, ab := v.buf(16)
	binary.LittleEndian.PutUint64(ab, 0xbeef)
	binary.LittleEndian.PutUint64(ab[8:], str)
	out, ob := v.buf(32)
	full := "id=beef/abcdef"
	if r := v.call(0, FuncSnprintf, out, 32, fmtA, args, 16); r != uint64(len(full)+1) || string(ob[:len(full)+1]) != full+"\x00" {
		t.Fatalf("snprintf %d %q", r, ob)
	}
	for i := range ob {
		ob[i] = 'x'
	}
	if r := v.call(0, FuncSnprintf, out, 6, fmtA, args, 16); r != uint64(len(full)+1) || string(ob[:7]) != "id=be\x00x" {
		t.Fatalf("truncated snprintf %d %q", r, ob)
	}
	if r := v.call(0, FuncSnprintf, 0, 0, fmtA, args, 16); r != uint64(len(full)+1) {
		t.Fatalf("size 0 snprintf %d", r)
	}
	if r := v.call(0, FuncSnprintf, out, 32, fmtA, args, 12); r != e(syscall.EINVAL) {
		t.Fatalf("data_len not a multiple of 8: %d", int64(r))
	}
}

// The VM must stop a program whose Ctx is not a Kernel, not panic.
func TestNoKernel(t *testing.T) {
	v := newEnv(t, 1)
	p := v.callProg(FuncKtimeGetNs)
	ex := vm.NewExec(v.mem)
	if _, err := ex.Run(p); err == nil {
		t.Fatal("helper without a Kernel did not fail")
	}
}

type seqKernel struct {
	*FakeKernel
	out []byte
	cap int
}

func (s *seqKernel) SeqWrite(m uint64, b []byte) bool {
	if len(s.out)+len(b) > s.cap {
		return false
	}
	s.out = append(s.out, b...)
	return true
}

func TestSeqHelpers(t *testing.T) {
	v := newEnv(t, 1)
	data, db := v.buf(16)
	copy(db, "n=%d\x00")
	args, ab := v.buf(8)
	binary.LittleEndian.PutUint64(ab, 7)
	if r := v.call(0, FuncSeqWrite, 1, data, 3); r != e(syscall.EOPNOTSUPP) {
		t.Fatalf("seq_write without a SeqFile kernel: %d", int64(r))
	}
	sk := &seqKernel{FakeKernel: v.k, cap: 8}
	ex := vm.NewExec(v.mem)
	ex.Ctx = sk
	run := func(id int32, a ...uint64) uint64 {
		r, err := ex.Run(v.callProg(id), a...)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := run(FuncSeqPrintf, 1, data, 5, args, 8); r != 0 || string(sk.out) != "n=7" {
		t.Fatalf("seq_printf %d %q", int64(r), sk.out)
	}
	if r := run(FuncSeqWrite, 1, data, 2); r != 0 || string(sk.out) != "n=7n=" {
		t.Fatalf("seq_write %d %q", int64(r), sk.out)
	}
	if r := run(FuncSeqWrite, 1, data, 5); r != e(syscall.EOVERFLOW) {
		t.Fatalf("seq_write overflow %d", int64(r))
	}
}
