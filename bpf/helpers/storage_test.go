package helpers

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

func TestTaskStorageHelpers(t *testing.T) {
	v := newEnv(t, 1)
	s := v.newMap(maps.Spec{Name: "ts", Type: maps.TypeTaskStorage, KeySize: 4, ValueSize: 8, Flags: maps.FlagNoPrealloc})
	a := v.k.NewTask(1, "a")
	b := v.k.NewTask(2, "b")
	init, ib := v.buf(8)
	binary.LittleEndian.PutUint64(ib, 0x77)
	get := func(task, value, flags uint64) uint64 {
		return v.call(0, FuncTaskStorageGet, s.Addr(), task, value, flags)
	}
	if get(a, 0, 0) != 0 {
		t.Fatal("lookup without F_CREATE created storage")
	}
	if get(a, 0, 2) != 0 || get(a, 0, 3) != 0 {
		t.Fatal("unknown flags must return NULL")
	}
	if get(0, 0, maps.LocalStorageCreate) != 0 {
		t.Fatal("NULL task")
	}
	pa := get(a, 0, maps.LocalStorageCreate)
	pb := get(b, init, maps.LocalStorageCreate)
	if pa == 0 || pb == 0 || pa == pb {
		t.Fatalf("create: %#x %#x", pa, pb)
	}
	vb, _ := v.mem.Slice(pb, 8, true)
	va, _ := v.mem.Slice(pa, 8, true)
	if binary.LittleEndian.Uint64(vb) != 0x77 || binary.LittleEndian.Uint64(va) != 0 {
		t.Fatal("initial values")
	}
	va[0] = 5
	// A later get with F_CREATE returns the same storage, untouched.
	if get(a, init, maps.LocalStorageCreate) != pa || va[0] != 5 {
		t.Fatal("existing storage replaced")
	}
	// Deletion.
	if r := v.call(0, FuncTaskStorageDelete, s.Addr(), b); r != 0 {
		t.Fatalf("delete %d", int64(r))
	}
	if r := v.call(0, FuncTaskStorageDelete, s.Addr(), b); r != e(syscall.ENOENT) {
		t.Fatalf("delete again %d", int64(r))
	}
	if r := v.call(0, FuncTaskStorageDelete, s.Addr(), 0); r != e(syscall.EINVAL) {
		t.Fatalf("delete NULL %d", int64(r))
	}
	// Task exit: the kernel layer drops the storage; a dead task gets none.
	v.k.RT.Maps.DropOwner(maps.TypeTaskStorage, a)
	v.k.Tasks[a].Refs = 0
	if get(a, 0, 0) != 0 || get(a, 0, maps.LocalStorageCreate) != 0 {
		t.Fatal("storage after task drop")
	}
	// Wrong map type stops the program.
	h := v.newMap(maps.Spec{Type: maps.TypeHash, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err := v.callErr(0, FuncTaskStorageGet, h.Addr(), a, 0, 0); err == nil {
		t.Fatal("task storage helper on a hash map")
	}
}

func TestCgrpStorageHelpers(t *testing.T) {
	v := newEnv(t, 1)
	s := v.newMap(maps.Spec{Name: "cs", Type: maps.TypeCgrpStorage, KeySize: 4, ValueSize: 16, Flags: maps.FlagNoPrealloc})
	root := v.k.NewCgroup(1, 0)
	child := v.k.NewCgroup(2, root)
	get := func(c, flags uint64) uint64 { return v.call(0, FuncCgrpStorageGet, s.Addr(), c, 0, flags) }
	p := get(child, maps.LocalStorageCreate)
	if p == 0 || get(child, 0) != p || get(root, 0) != 0 {
		t.Fatal("cgroup storage")
	}
	v.k.Cgroups[root].Dying = true
	if get(root, maps.LocalStorageCreate) != 0 {
		t.Fatal("storage created for a dying cgroup")
	}
	if r := v.call(0, FuncCgrpStorageDelete, s.Addr(), child); r != 0 || get(child, 0) != 0 {
		t.Fatalf("delete %d", int64(r))
	}
	if r := v.call(0, FuncCgrpStorageDelete, s.Addr(), child); r != e(syscall.ENOENT) {
		t.Fatalf("delete again %d", int64(r))
	}
}

func TestTaskAndCgroupKfuncs(t *testing.T) {
	v := newEnv(t, 1)
	task := v.k.NewTask(42, "x")
	if got := v.kcall(0, "bpf_task_from_pid", 42); got != task || v.k.Tasks[task].Refs != 2 {
		t.Fatalf("task_from_pid %#x refs %d", got, v.k.Tasks[task].Refs)
	}
	if v.kcall(0, "bpf_task_from_pid", 43) != 0 {
		t.Fatal("unknown pid")
	}
	if v.kcall(0, "bpf_task_acquire", task) != task || v.k.Tasks[task].Refs != 3 {
		t.Fatal("acquire")
	}
	v.kcall(0, "bpf_task_release", task)
	v.kcall(0, "bpf_task_release", task)
	v.kcall(0, "bpf_task_release", task)
	if v.k.Tasks[task].Refs != 0 || v.kcall(0, "bpf_task_acquire", task) != 0 {
		t.Fatal("acquire of a dead task must return NULL")
	}
	root := v.k.NewCgroup(1, 0)
	mid := v.k.NewCgroup(5, root)
	leaf := v.k.NewCgroup(9, mid)
	if v.kcall(0, "bpf_cgroup_from_id", 5) != mid || v.k.Cgroups[mid].Refs != 2 {
		t.Fatal("cgroup_from_id")
	}
	for level, want := range []uint64{root, mid, leaf, 0} {
		if got := v.kcall(0, "bpf_cgroup_ancestor", leaf, uint64(level)); got != want {
			t.Fatalf("ancestor %d = %#x, want %#x", level, got, want)
		}
	}
	if v.kcall(0, "bpf_cgroup_ancestor", leaf, uint64(^uint32(0))) != 0 {
		t.Fatal("negative level")
	}
	v.k.Cgroups[leaf].Dying = true
	if v.kcall(0, "bpf_cgroup_acquire", leaf) != 0 {
		t.Fatal("acquire of a dying cgroup")
	}
	before := v.k.Cgroups[root].Refs
	v.kcall(0, "bpf_cgroup_release", root)
	if v.k.Cgroups[root].Refs != before-1 {
		t.Fatal("release")
	}
	for _, name := range []string{"bpf_rcu_read_lock", "bpf_rcu_read_unlock", "bpf_preempt_disable", "bpf_preempt_enable"} {
		if v.kcall(0, name) != 0 {
			t.Fatal(name)
		}
	}
}

func TestObjNewDrop(t *testing.T) {
	v := newEnv(t, 1)
	var addrs []uint64
	for _, size := range []uint64{1, 16, 17, 4096, 5000} {
		a := v.kcall(0, "bpf_obj_new_impl", size, 0)
		b, err := v.mem.Slice(a, int(size), true)
		if a == 0 || err != nil {
			t.Fatalf("obj_new(%d): %#x %v", size, a, err)
		}
		for i := range b {
			if b[i] != 0 {
				t.Fatal("object not zeroed")
			}
			b[i] = 0xaa
		}
		addrs = append(addrs, a)
	}
	if v.kcall(0, "bpf_obj_new_impl", 0, 0) != 0 {
		t.Fatal("zero-sized object")
	}
	if v.k.RT.Objects() != 5 {
		t.Fatalf("objects %d", v.k.RT.Objects())
	}
	for _, a := range addrs {
		v.kcall(0, "bpf_obj_drop_impl", a, 0)
	}
	if v.k.RT.Objects() != 0 {
		t.Fatalf("objects after drop %d", v.k.RT.Objects())
	}
	if _, err := v.mem.Slice(addrs[4], 8, false); err == nil {
		t.Fatal("large object still mapped after drop")
	}
	// A reused slot is zeroed again.
	a := v.kcall(0, "bpf_obj_new_impl", 16, 0)
	b, _ := v.mem.Slice(a, 16, false)
	if fmt.Sprint(b) != fmt.Sprint(make([]byte, 16)) {
		t.Fatal("reused object not zeroed")
	}
	if err := v.runErr(v.kcallProg("bpf_obj_drop_impl"), 0, 0x1234, 0); err == nil {
		t.Fatal("drop of a non-object did not stop the program")
	}
	// With ObjSize, r1 is a local type id.
	v.k.RT.ObjSize = func(p *vm.Program, id uint32) (uint32, bool) { return id * 100, id == 7 }
	a = v.kcall(0, "bpf_obj_new_impl", 7, 0)
	if _, err := v.mem.Slice(a, 700, true); err != nil {
		t.Fatalf("typed object: %v", err)
	}
	if err := v.runErr(v.kcallProg("bpf_obj_new_impl"), 0, 8, 0); err == nil {
		t.Fatal("unknown local type id did not stop the program")
	}
}
