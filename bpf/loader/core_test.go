package loader

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

// testTask builds a task_struct in the test kernel's layout.
type testTask struct {
	pid, flags, weight uint32
	slice, vtime       uint64
	comm               string
	bfA, bfB           uint32
	bfS                int32
}

func (tt testTask) bytes() []byte {
	b := make([]byte, ktaskSize)
	le := binary.LittleEndian
	le.PutUint32(b[ktaskPid:], tt.pid)
	le.PutUint32(b[ktaskFlags:], tt.flags)
	copy(b[ktaskComm:ktaskComm+16], tt.comm)
	le.PutUint32(b[ktaskScx+kscxWeight:], tt.weight)
	le.PutUint64(b[ktaskScx+kscxSlice:], tt.slice)
	le.PutUint64(b[ktaskScx+kscxDsqVtime:], tt.vtime)
	le.PutUint32(b[ktaskBitfields:], uint32(tt.bfS)&0xf|(tt.bfA&7)<<4|(tt.bfB&31)<<7)
	return b
}

func runWithTask(t *testing.T, obj *Object, prog string, task []byte) (uint64, error) {
	t.Helper()
	p := obj.Program(prog)
	if p == nil {
		t.Fatalf("no program %s", prog)
	}
	taskAddr := mapRegion(obj.Memory, "task", task)
	ctxAddr := mapRegion(obj.Memory, "ctx", binary.LittleEndian.AppendUint64(nil, taskAddr))
	return vm.NewExec(obj.Memory).Run(p.VM, ctxAddr)
}

// TestCORELayout runs a program compiled against one task_struct layout on
// a kernel with another and checks every value it read.
func TestCORELayout(t *testing.T) {
	k := &testKernel{}
	obj, err := Load(readObj(t, "core.bpf.o"), k.options())
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	tasks := []testTask{
		{pid: 4242, flags: 0x5a5a, weight: 100, slice: 20_000_000, vtime: 0x1122334455667788, comm: "kworker/0", bfA: 5, bfB: 19, bfS: -3},
		{pid: 1, flags: 0, weight: 10000, slice: 1, vtime: 7, comm: "init", bfA: 7, bfB: 31, bfS: 7},
		{pid: 0x7fffffff, flags: 0xffffffff, weight: 0, slice: ^uint64(0), vtime: 0, comm: "x", bfA: 0, bfB: 0, bfS: -8},
	}
	for _, tt := range tasks {
		if _, err := runWithTask(t, obj, "read_task", tt.bytes()); err != nil {
			t.Fatal(err)
		}
		raw, err := obj.ReadGlobal("out")
		if err != nil {
			t.Fatal(err)
		}
		got := make([]uint64, 16)
		for i := range got {
			got[i] = binary.LittleEndian.Uint64(raw[i*8:])
		}
		want := []uint64{
			uint64(tt.pid), tt.vtime, tt.slice, uint64(tt.weight), uint64(tt.bfB), uint64(int64(tt.bfS)),
			0,  // gone_in_kernel does not exist in the kernel
			20, // TEST_B's kernel value
			0,  // TEST_GONE does not exist
			0,  // struct type_not_in_kernel does not exist
			16, uint64(tt.comm[1%len(tt.comm)]), ktaskSize, uint64(tt.flags), uint64(tt.bfA),
			ktaskScx + kscxSlice,
		}
		if len(tt.comm) < 2 {
			want[11] = 0
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("task pid %d: out[%d] = %#x, want %#x", tt.pid, i, got[i], want[i])
			}
		}
	}

	// The guarded access to a field the kernel lacks is poisoned but never
	// reached; the unguarded one stops the program naming the relocation.
	if ret, err := runWithTask(t, obj, "read_gone", tasks[0].bytes()); err != nil || ret != 1 {
		t.Errorf("read_gone = %d, %v; want 1", ret, err)
	}
	_, err = runWithTask(t, obj, "read_gone_unguarded", tasks[0].bytes())
	if err == nil || !strings.Contains(err.Error(), "prog read_gone_unguarded: insn ") ||
		!strings.Contains(err.Error(), "poisoned CO-RE relocation #") ||
		!strings.Contains(err.Error(), "byte_off struct task_struct.gone_in_kernel") {
		t.Errorf("read_gone_unguarded error = %v", err)
	}
	var poisoned []CORERelo
	for _, r := range obj.CORE {
		if r.Poisoned {
			poisoned = append(poisoned, r)
		}
	}
	if len(poisoned) != 2 {
		t.Fatalf("poisoned relocations = %v, want the two gone_in_kernel loads", poisoned)
	}
	for _, r := range poisoned {
		if r.Kind != "byte_off" || r.Spec != "struct task_struct.gone_in_kernel" {
			t.Errorf("poisoned %v", &r)
		}
		p := obj.Program(r.Func)
		if p == nil || len(p.Poisoned) != 1 || p.Poisoned[0] != r.Index {
			t.Errorf("program %s Poisoned = %v, want [%d]", r.Func, p.Poisoned, r.Index)
		}
		if !strings.Contains(err.Error(), "#"+strconv.Itoa(r.Index)+":") && r.Func == "read_gone_unguarded" {
			t.Errorf("error %v does not name relocation #%d", err, r.Index)
		}
	}
}

// TestCORENoKernelBTF loads against a kernel without BTF: every relocation
// is poisoned (existence checks become 0) and the load still succeeds.
func TestCORENoKernelBTF(t *testing.T) {
	opts := (&testKernel{}).options()
	opts.KernelBTF = nil
	obj, err := Load(readObj(t, "core.bpf.o"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	n := 0
	for _, r := range obj.CORE {
		exists := r.Kind == "field_exists" || r.Kind == "type_exists" || r.Kind == "enumval_exists"
		if r.Poisoned == exists {
			t.Errorf("relocation %v: poisoned=%v", &r, r.Poisoned)
		}
		if r.Poisoned {
			n++
		}
	}
	if n == 0 {
		t.Fatal("no relocation poisoned")
	}
	_, err = runWithTask(t, obj, "read_task", testTask{pid: 1}.bytes())
	if err == nil || !strings.Contains(err.Error(), "poisoned CO-RE relocation #") {
		t.Errorf("read_task error = %v", err)
	}
}
