package bpfsched

import (
	"encoding/binary"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/maps/slab"
	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/ktypes"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/topo"
)

var le = binary.LittleEndian

// Kernel constants the mirror writes (include/linux/sched.h, prio.h).
const (
	taskRunning       = 0x0000 // TASK_RUNNING
	taskInterruptible = 0x0001 // TASK_INTERRUPTIBLE
	taskDead          = 0x0080 // TASK_DEAD
	taskNew           = 0x0800 // TASK_NEW
	exitDead          = 0x0010 // EXIT_DEAD
	pfIdle            = 0x00000002
	pfExiting         = 0x00000004
	pfKthread         = 0x00200000
	defaultPrio       = 120 // MAX_RT_PRIO + NICE_WIDTH / 2
	cgrpIDCPU         = 1   // cpu_cgrp_id
)

// taskLayout holds the offsets in struct task_struct (and the structs it
// embeds) of the fields the mirror keeps, from kernel/ktypes' layout.
var taskLayout = struct {
	size                                        int
	state, flags, onCPU, onRQ, prio, staticPrio int
	normalPrio, policy, nrCPUs, cpusPtr         int
	cpusMask, cpu, wakeCPU, recentCPU, usage    int
	sumExec, loadWeight, nvcsw, migDisabled     int
	pid, tgid, comm, realParent, parent, leader int
	cgroups, exitState, rtPriority              int
	scxWeight, scxSlice, scxVtime, scxFlags     int
	scxOpsState, scxSticky, scxHolding          int
	scxRunnableAt, scxDisallow                  int
	scxDdspDsqID, scxTid                        int
}{
	size:          mustSize("task_struct"),
	state:         off("__state"),
	flags:         off("flags"),
	onCPU:         off("on_cpu"),
	onRQ:          off("on_rq"),
	prio:          off("prio"),
	staticPrio:    off("static_prio"),
	normalPrio:    off("normal_prio"),
	rtPriority:    off("rt_priority"),
	policy:        off("policy"),
	nrCPUs:        off("nr_cpus_allowed"),
	cpusPtr:       off("cpus_ptr"),
	cpusMask:      off("cpus_mask"),
	cpu:           off("thread_info.cpu"),
	wakeCPU:       off("wake_cpu"),
	recentCPU:     off("recent_used_cpu"),
	usage:         off("usage"),
	sumExec:       off("se.sum_exec_runtime"),
	loadWeight:    off("se.load.weight"),
	nvcsw:         off("nvcsw"),
	migDisabled:   off("migration_disabled"),
	pid:           off("pid"),
	tgid:          off("tgid"),
	comm:          off("comm"),
	realParent:    off("real_parent"),
	parent:        off("parent"),
	leader:        off("group_leader"),
	cgroups:       off("cgroups"),
	exitState:     off("exit_state"),
	scxWeight:     off("scx.weight"),
	scxSlice:      off("scx.slice"),
	scxVtime:      off("scx.dsq_vtime"),
	scxFlags:      off("scx.flags"),
	scxOpsState:   off("scx.ops_state"),
	scxSticky:     off("scx.sticky_cpu"),
	scxHolding:    off("scx.holding_cpu"),
	scxRunnableAt: off("scx.runnable_at"),
	scxDisallow:   off("scx.disallow"),
	scxDdspDsqID:  off("scx.ddsp_dsq_id"),
	scxTid:        off("scx.tid"),
}

func off(path string) int { return ktypes.MustOffsetof("task_struct", path) }

func mustSize(name string) int {
	n, err := ktypes.Sizeof(name)
	if err != nil {
		panic("bpfsched: " + err.Error())
	}
	return n
}

// cpumaskBytes is sizeof(struct cpumask) in the simulated kernel.
var cpumaskBytes = mustSize("cpumask")

// taskMirror is the task_struct a BPF program sees for one simulated task:
// a slot of the object's task_struct slab laid out per kernel/ktypes. The
// fields programs read are written from the core's task before each op
// (only for the tasks the op involves); the fields a struct_ops program
// may store to (p->scx.slice, p->scx.dsq_vtime, p->scx.disallow, as
// bpf_scx_btf_struct_access() allows) are read back after it.
type taskMirror struct {
	p    *sched.Task
	slot int32 // in Kernel.taskSlab
	addr uint64
	b    []byte
	// refs counts references BPF took (bpf_task_acquire,
	// bpf_task_from_pid); the region lives while the task does or refs
	// are held.
	refs int
	// snapshot of the writable fields as last synced from the core.
	slice, vtime uint64
	disallow     bool
	touched      bool
	// last values written, to skip rewriting unchanged bulk fields.
	cpus topo.CPUMask
	comm string
	cg   *sched.Cgroup
	dead bool
}

// mirrorOf returns p's task_struct mirror, creating it on first use.
func (k *Kernel) mirrorOf(p *sched.Task) *taskMirror {
	// Consecutive ops mostly concern the same few tasks (select_cpu,
	// enqueue, running of one wakeup): look in a small cache first.
	for _, m := range k.recent {
		if m != nil && m.p == p {
			return m
		}
	}
	if m, ok := k.tasks[p]; ok {
		k.remember(m)
		return m
	}
	k.sweepTasks()
	if k.taskSlab == nil {
		k.taskSlab = slab.New(k.env.mem, "task_struct", taskLayout.size, 0, vm.PermRW)
	}
	slot, _ := k.taskSlab.Alloc() // no limit: never fails
	addr := k.taskSlab.Addr(slot)
	b := k.taskSlab.Bytes(slot)
	m := &taskMirror{p: p, slot: slot, addr: addr, b: b}
	k.tasks[p] = m
	k.indexSlot(slot, addr)
	k.bySlot[slot] = m
	k.mirrors = append(k.mirrors, m)
	k.remember(m)
	// Fields that never change.
	le.PutUint64(b[taskLayout.cpusPtr:], addr+uint64(taskLayout.cpusMask))
	le.PutUint64(b[taskLayout.realParent:], addr)
	le.PutUint64(b[taskLayout.parent:], addr)
	le.PutUint64(b[taskLayout.leader:], addr)
	le.PutUint32(b[taskLayout.pid:], uint32(p.PID))
	le.PutUint32(b[taskLayout.tgid:], uint32(p.TGID))
	le.PutUint32(b[taskLayout.usage:], 1)
	le.PutUint64(b[taskLayout.scxTid:], uint64(p.PID)) // scxsim's tids are pids
	m.cpus = topo.NewCPUMask(k.env.nCPU)
	return m
}

// taskAddr is the task_struct address of p after syncing its mirror (0 for
// nil). The task joins the op's touched set.
func (k *Kernel) taskAddr(p *sched.Task) uint64 {
	if p == nil {
		return 0
	}
	m := k.mirrorOf(p)
	k.syncTask(m)
	return m.addr
}

// indexSlot records which slot starts the slab chunk (VM region) holding
// slot, so taskAt resolves an address without a map lookup, and makes room
// for slot in bySlot.
func (k *Kernel) indexSlot(slot int32, addr uint64) {
	d := addr - vm.RegionBase
	id := int(d >> 32)
	for id >= len(k.chunkFirst) {
		k.chunkFirst = append(k.chunkFirst, -1)
	}
	k.chunkFirst[id] = slot - int32(uint32(d)/uint32(taskLayout.size))
	for int(slot) >= len(k.bySlot) {
		k.bySlot = append(k.bySlot, nil)
	}
}

// taskAt resolves a task_struct pointer a program passed to a kfunc: the
// start of a live mirror's slot.
func (k *Kernel) taskAt(addr uint64) (*taskMirror, bool) {
	if addr < vm.RegionBase {
		return nil, false
	}
	d := addr - vm.RegionBase
	id := d >> 32
	off := uint32(d)
	if id >= uint64(len(k.chunkFirst)) || k.chunkFirst[id] < 0 || off%uint32(taskLayout.size) != 0 {
		return nil, false
	}
	slot := int(k.chunkFirst[id]) + int(off/uint32(taskLayout.size))
	if slot >= len(k.bySlot) {
		return nil, false
	}
	m := k.bySlot[slot]
	return m, m != nil && !m.dead && m.addr == addr
}

// syncTask writes the core's view of the task into its mirror and records
// the writable fields' values. Mirrors what the kernel's task_struct holds
// at the time an op runs.
func (k *Kernel) syncTask(m *taskMirror) {
	if m.touched && m.flushWritable() {
		// The op stored into the task before this resync: keep it.
		k.directWrite()
	}
	p, b, L := m.p, m.b, &taskLayout
	e := scx.EntityOf(p)
	state := uint32(taskRunning)
	switch p.State() {
	case sched.Sleeping:
		state = taskInterruptible
	case sched.Dead:
		state = taskDead
	case sched.Forked:
		state = taskNew
	}
	le.PutUint32(b[L.state:], state)
	flags := uint32(0)
	if p.Exiting {
		flags |= pfExiting
	}
	if p.IsIdleTask() {
		flags |= pfIdle | pfKthread
	}
	le.PutUint32(b[L.flags:], flags)
	onCPU := uint32(0)
	if k.core != nil {
		if rq := k.core.RQ(p.CPU()); rq != nil && rq.Curr() == p {
			onCPU = 1
		}
	}
	le.PutUint32(b[L.onCPU:], onCPU)
	onRQ := uint32(0)
	if p.OnRQ() {
		onRQ = 1 // TASK_ON_RQ_QUEUED
	}
	le.PutUint32(b[L.onRQ:], onRQ)
	prio := uint32(p.Prio())
	if p.IsIdleTask() {
		prio = defaultPrio
	}
	le.PutUint32(b[L.prio:], prio)
	le.PutUint32(b[L.staticPrio:], uint32(defaultPrio+p.Nice()))
	le.PutUint32(b[L.normalPrio:], prio)
	le.PutUint32(b[L.rtPriority:], uint32(p.RTPriority()))
	le.PutUint32(b[L.policy:], uint32(p.Policy()))
	le.PutUint32(b[L.nrCPUs:], uint32(p.NrCPUsAllowed()))
	le.PutUint32(b[L.cpu:], uint32(p.CPU()))
	le.PutUint32(b[L.wakeCPU:], uint32(p.CPU()))
	le.PutUint32(b[L.recentCPU:], uint32(p.CPU()))
	le.PutUint64(b[L.sumExec:], p.SumExecRuntime)
	le.PutUint64(b[L.loadWeight:], uint64(p.Weight())<<10)
	le.PutUint64(b[L.nvcsw:], p.NrSwitches)
	md := uint16(0)
	if p.MigrationDisabled() {
		md = 1
	}
	le.PutUint16(b[L.migDisabled:], md)
	exitState := uint32(0)
	if p.State() == sched.Dead {
		exitState = exitDead
	}
	le.PutUint32(b[L.exitState:], exitState)
	if p.Comm != m.comm {
		c := b[L.comm : L.comm+ktypes.TaskCommLen]
		clear(c)
		copy(c[:ktypes.TaskCommLen-1], p.Comm)
		m.comm = p.Comm
	}
	if cpus := p.CPUsAllowed(); !sameMask(cpus, m.cpus) {
		mask := b[L.cpusMask : L.cpusMask+cpumaskBytes]
		clear(mask)
		for i, w := range cpus {
			if 8*i+8 <= len(mask) {
				le.PutUint64(mask[8*i:], w)
			}
		}
		m.cpus = append(m.cpus[:0], cpus...)
	}
	if cg := p.Cgroup(); cg != m.cg {
		le.PutUint64(b[L.cgroups:], k.cgroupOf(cg).cset)
		m.cg = cg
	}
	le.PutUint32(b[L.scxWeight:], e.Weight)
	le.PutUint32(b[L.scxFlags:], e.Flags())
	le.PutUint64(b[L.scxOpsState:], e.OpsState())
	le.PutUint32(b[L.scxSticky:], uint32(int32(e.StickyCPU())))
	le.PutUint32(b[L.scxHolding:], uint32(int32(e.HoldingCPU())))
	le.PutUint64(b[L.scxRunnableAt:], e.RunnableAt())
	le.PutUint64(b[L.scxDdspDsqID:], e.DSQID())
	m.loadWritable(e)
	if !m.touched {
		m.touched = true
		k.touched = append(k.touched, m)
	}
}

// loadWritable copies the fields BPF may store to from the entity and
// snapshots them.
func (m *taskMirror) loadWritable(e *scx.Entity) {
	b, L := m.b, &taskLayout
	le.PutUint64(b[L.scxSlice:], e.Slice)
	le.PutUint64(b[L.scxVtime:], e.DsqVtime)
	d := byte(0)
	if e.Disallow {
		d = 1
	}
	b[L.scxDisallow] = d
	m.slice, m.vtime, m.disallow = e.Slice, e.DsqVtime, e.Disallow
}

// flushWritable stores into the entity the writable fields a program
// changed since the last sync; it reports whether slice or dsq_vtime was
// written (the deprecated direct stores).
func (m *taskMirror) flushWritable() bool {
	b, L := m.b, &taskLayout
	e := scx.EntityOf(m.p)
	slice, vtime, dis := le.Uint64(b[L.scxSlice:]), le.Uint64(b[L.scxVtime:]), b[L.scxDisallow] != 0
	direct := false
	if slice != m.slice {
		e.Slice, m.slice, direct = slice, slice, true
	}
	if vtime != m.vtime {
		e.DsqVtime, m.vtime, direct = vtime, vtime, true
	}
	if dis != m.disallow {
		e.Disallow, m.disallow = dis, dis
	}
	return direct
}

// flushTouched hands the core what programs stored into the tasks of the
// running op (before a kfunc acts on the entities, and when the op ends).
func (k *Kernel) flushTouched() {
	for _, m := range k.touched {
		if m.flushWritable() {
			k.directWrite()
		}
	}
}

// reloadTouched refreshes the writable fields of the op's tasks from the
// core after a kfunc, which may have changed them (a slice applied by an
// insertion, scx_bpf_task_set_slice()).
func (k *Kernel) reloadTouched() {
	for _, m := range k.touched {
		m.loadWritable(scx.EntityOf(m.p))
	}
}

// endOp flushes and forgets the touched set when the outermost op returns.
func (k *Kernel) endOp() {
	k.flushTouched()
	if k.depth == 0 {
		for _, m := range k.touched {
			m.touched = false
		}
		k.touched = k.touched[:0]
	}
}

// sweepTasks frees the mirrors of dead tasks no program holds a reference
// to, and their task storage (bpf_task_storage_free() at task free). It
// runs when the mirror count doubled since the last sweep, so the cost is
// amortized and the order deterministic.
func (k *Kernel) sweepTasks() {
	if len(k.mirrors) < k.nextSweep || k.depth > 0 {
		return
	}
	live := k.mirrors[:0]
	for _, m := range k.mirrors {
		if m.p.State() == sched.Dead && m.refs == 0 && !m.touched {
			k.freeMirror(m)
			continue
		}
		live = append(live, m)
	}
	clear(k.mirrors[len(live):])
	k.mirrors = live
	k.nextSweep = 2*len(live) + 64
}

// remember puts m first in the recent-mirror cache.
func (k *Kernel) remember(m *taskMirror) {
	copy(k.recent[1:], k.recent[:len(k.recent)-1])
	k.recent[0] = m
}

func (k *Kernel) freeMirror(m *taskMirror) {
	m.dead = true
	for i, r := range k.recent {
		if r == m {
			k.recent[i] = nil
		}
	}
	maps.RegistryOf(k.env.mem).DropOwner(maps.TypeTaskStorage, m.addr)
	k.bySlot[m.slot] = nil
	k.taskSlab.Free(m.slot)
	delete(k.tasks, m.p)
}

func sameMask(a, b topo.CPUMask) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
