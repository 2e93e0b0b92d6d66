// Package helpers implements the BPF helpers and generic kfuncs sched_ext
// schedulers call, with the kernel's semantics and return codes
// (kernel/bpf/helpers.c, cpumask.c, bpf_task_storage.c, ringbuf.c,
// kernel/trace/bpf_trace.c, ...).
//
// Helpers are vm.Helper functions. They find the simulated kernel in
// vm.Exec.Ctx, which must implement Kernel, and the state they keep (timers,
// allocated objects, prandom state) in the Kernel's Runtime. A Table maps
// helper ids and kfunc names to implementations; the kernel layer extends
// it with its own kfuncs (scx_bpf_*, arena, streams).
package helpers

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

// Kernel is what the simulated kernel provides to helpers. The value in
// vm.Exec.Ctx during a run must implement it. Addresses are VM addresses of
// the kernel objects (task_struct, cgroup) programs see.
type Kernel interface {
	// Runtime is the helper state of the address space programs run in.
	Runtime() *Runtime

	// NowNS is CLOCK_MONOTONIC in virtual nanoseconds (bpf_ktime_get_ns).
	NowNS() uint64
	// BootNS is CLOCK_BOOTTIME (bpf_ktime_get_boot_ns).
	BootNS() uint64
	// Jiffies is jiffies_64.
	Jiffies() uint64

	// NrCPUIDs is nr_cpu_ids.
	NrCPUIDs() int
	// CPUNode is the NUMA node of cpu.
	CPUNode(cpu int) int

	// CurrentTask is the task running on cpu (0 if none).
	CurrentTask(cpu int) uint64
	// Task describes a task; false if addr is not a task.
	Task(task uint64) (TaskInfo, bool)
	// TaskFromPid returns the task with this pid holding a new reference,
	// or 0 (bpf_task_from_pid).
	TaskFromPid(pid int32) uint64
	// TaskAcquire takes a reference; false if the task's usage count is
	// already zero (refcount_inc_not_zero).
	TaskAcquire(task uint64) bool
	// TaskRelease drops a reference taken by TaskAcquire or TaskFromPid.
	TaskRelease(task uint64)

	// CgroupFromID returns the cgroup with this id holding a reference, or 0.
	CgroupFromID(id uint64) uint64
	// CgroupAcquire takes a reference; false if the cgroup is dying.
	CgroupAcquire(cgrp uint64) bool
	// CgroupRelease drops a reference.
	CgroupRelease(cgrp uint64)
	// CgroupAncestor returns cgrp's ancestor at level holding a reference,
	// or 0 if level is out of range.
	CgroupAncestor(cgrp uint64, level int32) uint64
	// CgroupAlive is false once the cgroup is dying (no new storage).
	CgroupAlive(cgrp uint64) bool

	// PerCPUPtr resolves cpu's copy of the kernel per-CPU variable at ptr
	// (bpf_per_cpu_ptr / bpf_this_cpu_ptr); 0 if ptr is not one.
	PerCPUPtr(ptr uint64, cpu int) uint64

	// TracePrintk receives a bpf_trace_printk / bpf_trace_vprintk line.
	TracePrintk(cpu int, msg string)

	// ArmTimer (re)arms BPF timer id to expire at CLOCK_MONOTONIC time
	// expires on cpu (pinned: must fire there). When it expires the kernel
	// layer calls Runtime.FireTimer. Arming an armed timer moves it.
	ArmTimer(id uint64, expires uint64, cpu int, pinned bool)
	// DisarmTimer cancels timer id; true if it was armed.
	DisarmTimer(id uint64) bool
}

// TaskInfo is what helpers read from a task.
type TaskInfo struct {
	Pid, Tgid int32
	Comm      string
	// Alive is false once the task's usage count dropped to zero: task
	// storage can no longer be created for it.
	Alive bool
}

// ErrNoKernel stops a program whose Exec.Ctx is not a Kernel.
var ErrNoKernel = errors.New("helper called without a helpers.Kernel in vm.Exec.Ctx")

func kernelOf(e *vm.Exec) (Kernel, *Runtime, error) {
	k, ok := e.Ctx.(Kernel)
	if !ok || k == nil {
		return nil, nil, ErrNoKernel
	}
	rt := k.Runtime()
	if rt == nil {
		return nil, nil, ErrNoKernel
	}
	return k, rt, nil
}

// errno returns err as the negative errno a helper returns in r0 (0 for
// nil, -EINVAL for an error that is not an errno).
func errno(err error) uint64 {
	if err == nil {
		return 0
	}
	var en syscall.Errno
	if !errors.As(err, &en) {
		en = syscall.EINVAL
	}
	return neg(en)
}

func neg(en syscall.Errno) uint64 { return uint64(-int64(en)) }

// fault is the error that stops a program passing a bad pointer to a helper
// (the verifier would have rejected it).
func fault(name string, addr uint64, size int) error {
	return fmt.Errorf("%s: invalid memory access at %#x (size %d)", name, addr, size)
}

// mem returns size bytes at addr or an error stopping the program.
func mem(e *vm.Exec, name string, addr uint64, size int, write bool) ([]byte, error) {
	b, err := e.Slice(addr, size, write)
	if err != nil {
		return nil, fault(name, addr, size)
	}
	return b, nil
}

// mapAt resolves a struct bpf_map * argument.
func (rt *Runtime) mapAt(name string, addr uint64) (maps.Map, error) {
	m, ok := rt.Maps.Lookup(addr)
	if !ok {
		return nil, fmt.Errorf("%s: %#x is not a map", name, addr)
	}
	return m, nil
}
