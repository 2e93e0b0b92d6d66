package helpers

import (
	"encoding/binary"
	"slices"

	"github.com/scxsim/scxsim/bpf/vm"
)

// FakeKernel is a small Kernel for tests of helpers and of code that runs
// BPF programs without the simulated kernel: tasks and cgroups are regions
// of the address space with Go-side attributes, time only moves when a test
// says so, and armed timers fire from Advance.
type FakeKernel struct {
	RT      *Runtime
	Mem     *vm.Memory
	Now     uint64 // CLOCK_MONOTONIC
	BootOff uint64 // CLOCK_BOOTTIME - CLOCK_MONOTONIC
	Jiffs   uint64
	CPUs    int
	Nodes   []int          // node of each CPU (0 if absent)
	Current map[int]uint64 // current task per CPU
	Tasks   map[uint64]*FakeTask
	Cgroups map[uint64]*FakeCgroup
	// PerCPU maps a kernel per-CPU variable's address to each CPU's copy.
	PerCPU map[uint64][]uint64
	Printk []string
	Armed  map[uint64]FakeTimer
}

// FakeTask is a task of a FakeKernel.
type FakeTask struct {
	Pid, Tgid int32
	Comm      string
	Refs      int
	Cgroup    uint64 // the task's cgroup (TaskCgroup), 0 for none
}

// FakeCgroup is a cgroup of a FakeKernel.
type FakeCgroup struct {
	ID        uint64
	Ancestors []uint64 // by level; the last one is the cgroup itself
	Refs      int
	Dying     bool
}

// FakeTimer is an armed timer.
type FakeTimer struct {
	Expires uint64
	CPU     int
	Pinned  bool
}

// NewFakeKernel returns a fake kernel of nCPU CPUs on mem with its Runtime.
func NewFakeKernel(mem *vm.Memory, nCPU int, opts Options) *FakeKernel {
	k := &FakeKernel{Mem: mem, CPUs: nCPU, Current: map[int]uint64{}, Tasks: map[uint64]*FakeTask{},
		Cgroups: map[uint64]*FakeCgroup{}, PerCPU: map[uint64][]uint64{}, Armed: map[uint64]FakeTimer{}}
	k.RT = NewRuntime(mem, k, opts)
	return k
}

// NewTask maps a 64-byte task_struct region and registers it with one
// reference.
func (k *FakeKernel) NewTask(pid int32, comm string) uint64 {
	_, a := k.Mem.Map("task_struct "+comm, make([]byte, 64), vm.PermRW)
	k.Tasks[a] = &FakeTask{Pid: pid, Tgid: pid, Comm: comm, Refs: 1}
	return a
}

// NewCgroup maps a cgroup region under parent (0 for the root). Its first
// word is the css's cgroup pointer (self.cgroup), pointing back at it.
func (k *FakeKernel) NewCgroup(id uint64, parent uint64) uint64 {
	b := make([]byte, 64)
	_, a := k.Mem.Map("cgroup", b, vm.PermRW)
	binary.LittleEndian.PutUint64(b, a)
	var anc []uint64
	if p := k.Cgroups[parent]; p != nil {
		anc = slices.Clone(p.Ancestors)
	}
	k.Cgroups[a] = &FakeCgroup{ID: id, Ancestors: append(anc, a), Refs: 1}
	return a
}

// Exec returns an execution context on cpu with this kernel as Ctx.
func (k *FakeKernel) Exec(cpu int) *vm.Exec {
	e := vm.NewExec(k.Mem)
	e.CPU, e.Ctx = cpu, k
	return e
}

// Advance moves time forward by ns and fires, in expiry order, the timers
// that expire by then (callbacks may re-arm them) on e.
func (k *FakeKernel) Advance(e *vm.Exec, ns uint64) error {
	end := k.Now + ns
	for {
		id, best := uint64(0), FakeTimer{Expires: ^uint64(0)}
		for tid, t := range k.Armed {
			if t.Expires < best.Expires || t.Expires == best.Expires && tid < id {
				id, best = tid, t
			}
		}
		if id == 0 || best.Expires > end {
			break
		}
		delete(k.Armed, id)
		k.Now = max(k.Now, best.Expires)
		if err := k.RT.FireTimer(e, id); err != nil {
			return err
		}
	}
	k.Now = end
	return nil
}

// Runtime implements Kernel.
func (k *FakeKernel) Runtime() *Runtime { return k.RT }

// NowNS implements Kernel.
func (k *FakeKernel) NowNS() uint64 { return k.Now }

// BootNS implements Kernel.
func (k *FakeKernel) BootNS() uint64 { return k.Now + k.BootOff }

// Jiffies implements Kernel.
func (k *FakeKernel) Jiffies() uint64 { return k.Jiffs }

// NrCPUIDs implements Kernel.
func (k *FakeKernel) NrCPUIDs() int { return k.CPUs }

// CPUNode implements Kernel.
func (k *FakeKernel) CPUNode(cpu int) int {
	if cpu >= 0 && cpu < len(k.Nodes) {
		return k.Nodes[cpu]
	}
	return 0
}

// CurrentTask implements Kernel.
func (k *FakeKernel) CurrentTask(cpu int) uint64 { return k.Current[cpu] }

// Task implements Kernel.
func (k *FakeKernel) Task(task uint64) (TaskInfo, bool) {
	t, ok := k.Tasks[task]
	if !ok {
		return TaskInfo{}, false
	}
	return TaskInfo{Pid: t.Pid, Tgid: t.Tgid, Comm: t.Comm, Alive: t.Refs > 0}, true
}

// TaskFromPid implements Kernel (lowest address first among equal pids).
func (k *FakeKernel) TaskFromPid(pid int32) uint64 {
	var found uint64
	for a, t := range k.Tasks {
		if t.Pid == pid && t.Refs > 0 && (found == 0 || a < found) {
			found = a
		}
	}
	if found != 0 {
		k.Tasks[found].Refs++
	}
	return found
}

// TaskAcquire implements Kernel.
func (k *FakeKernel) TaskAcquire(task uint64) bool {
	t, ok := k.Tasks[task]
	if !ok || t.Refs == 0 {
		return false
	}
	t.Refs++
	return true
}

// TaskRelease implements Kernel.
func (k *FakeKernel) TaskRelease(task uint64) {
	if t, ok := k.Tasks[task]; ok && t.Refs > 0 {
		t.Refs--
	}
}

// CgroupFromID implements Kernel (lowest address first among equal ids).
func (k *FakeKernel) CgroupFromID(id uint64) uint64 {
	var found uint64
	for a, c := range k.Cgroups {
		if c.ID == id && !c.Dying && (found == 0 || a < found) {
			found = a
		}
	}
	if found != 0 {
		k.Cgroups[found].Refs++
	}
	return found
}

// CgroupAcquire implements Kernel.
func (k *FakeKernel) CgroupAcquire(cgrp uint64) bool {
	c, ok := k.Cgroups[cgrp]
	if !ok || c.Dying {
		return false
	}
	c.Refs++
	return true
}

// CgroupRelease implements Kernel.
func (k *FakeKernel) CgroupRelease(cgrp uint64) {
	if c, ok := k.Cgroups[cgrp]; ok && c.Refs > 0 {
		c.Refs--
	}
}

// CgroupAncestor implements Kernel.
func (k *FakeKernel) CgroupAncestor(cgrp uint64, level int32) uint64 {
	c, ok := k.Cgroups[cgrp]
	if !ok || level < 0 || int(level) >= len(c.Ancestors) {
		return 0
	}
	a := c.Ancestors[level]
	if !k.CgroupAcquire(a) {
		return 0
	}
	return a
}

// CgroupParent implements CgroupWalker.
func (k *FakeKernel) CgroupParent(cgrp uint64) uint64 {
	c, ok := k.Cgroups[cgrp]
	if !ok || len(c.Ancestors) < 2 {
		return 0
	}
	return c.Ancestors[len(c.Ancestors)-2]
}

// CgroupChildren implements CgroupWalker: creation order is address order.
func (k *FakeKernel) CgroupChildren(cgrp uint64) []uint64 {
	var out []uint64
	for a := range k.Cgroups {
		if a != cgrp && k.CgroupParent(a) == cgrp {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// TaskCgroup implements TaskCgrouper.
func (k *FakeKernel) TaskCgroup(task uint64) uint64 {
	if t, ok := k.Tasks[task]; ok {
		return t.Cgroup
	}
	return 0
}

// CgroupAlive implements Kernel.
func (k *FakeKernel) CgroupAlive(cgrp uint64) bool {
	c, ok := k.Cgroups[cgrp]
	return ok && !c.Dying
}

// PerCPUPtr implements Kernel.
func (k *FakeKernel) PerCPUPtr(ptr uint64, cpu int) uint64 {
	p := k.PerCPU[ptr]
	if cpu < 0 || cpu >= len(p) {
		return 0
	}
	return p[cpu]
}

// TracePrintk implements Kernel.
func (k *FakeKernel) TracePrintk(cpu int, msg string) { k.Printk = append(k.Printk, msg) }

// ArmTimer implements Kernel.
func (k *FakeKernel) ArmTimer(id, expires uint64, cpu int, pinned bool) {
	k.Armed[id] = FakeTimer{Expires: expires, CPU: cpu, Pinned: pinned}
}

// DisarmTimer implements Kernel.
func (k *FakeKernel) DisarmTimer(id uint64) bool {
	_, ok := k.Armed[id]
	delete(k.Armed, id)
	return ok
}
