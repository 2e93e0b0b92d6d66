package bpfsched

import (
	"fmt"

	"github.com/scxsim/scxsim/bpf/helpers"
	"github.com/scxsim/scxsim/bpf/maps/slab"
	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/ktypes"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/scx"
)

// Kernel is the simulated kernel as BPF helpers see it (helpers.Kernel):
// virtual time and CPUs from the sched_ext core it is attached to, tasks
// and cgroups as mirrored kernel objects, per-CPU kernel variables, BPF
// timers through the core's host and printk to a sink. Before a scheduler
// is attached time stands at 0 and there are no tasks.
type Kernel struct {
	env  *Env
	x    *scx.Ext
	core *sched.Core
	sch  *Scheduler // attached scheduler, nil if none

	tasks      map[*sched.Task]*taskMirror
	recent     [4]*taskMirror // most recently used mirrors
	taskSlab   *slab.Slab     // task_struct mirrors, created on first use
	bySlot     []*taskMirror  // live mirrors by slab slot
	chunkFirst []int32        // by region id: first slot of that slab chunk, -1 if none
	mirrors    []*taskMirror  // creation order, for sweeps
	nextSweep  int
	touched    []*taskMirror // tasks synced during the running op
	depth      int           // ops running (nesting)

	cgroups  map[*sched.Cgroup]*cgMirror
	cgByAddr map[uint64]*cgMirror

	cx *cpuExec // the execution context, created on first use

	iters     []*iterSlot
	freeIter  []int
	openIters int

	masks map[maskKey]*maskRegion

	timers   map[uint64]armedTimer
	timerGen uint64

	// Printk receives bpf_trace_printk/bpf_trace_vprintk lines; nil keeps
	// them in PrintkLog only.
	Printk func(cpu int, msg string)
	// PrintkLog holds the last printk lines (at most printkKeep).
	PrintkLog []string
}

const printkKeep = 1024

type armedTimer struct {
	gen     uint64
	expires uint64
	cpu     int
	armed   bool // handed to the host
}

func newKernel(env *Env) *Kernel {
	return &Kernel{env: env, tasks: map[*sched.Task]*taskMirror{}, nextSweep: 64,
		cgroups: map[*sched.Cgroup]*cgMirror{}, cgByAddr: map[uint64]*cgMirror{},
		masks: map[maskKey]*maskRegion{}, timers: map[uint64]armedTimer{}}
}

// execCtx is what vm.Exec.Ctx holds: the kernel plus the CPU the execution
// belongs to, so that stack dumps name the task running there.
type execCtx struct {
	*Kernel
	cpu int
}

// StreamTask implements stream.Tasker: the task running on the CPU.
func (c *execCtx) StreamTask() (pid, uid int, comm string) {
	if c.core != nil {
		if rq := c.core.RQ(c.cpu); rq != nil && rq.Curr() != nil {
			return int(rq.Curr().PID), 0, rq.Curr().Comm
		}
	}
	return 0, 0, fmt.Sprintf("swapper/%d", c.cpu)
}

// cpuExec is the execution context ops run in, and the struct_ops context
// regions per nesting level. One context serves every simulated CPU (the
// simulation is single-threaded): each op sets the CPU it runs on, so one
// stack stays hot in the host's caches instead of one per simulated CPU.
type cpuExec struct {
	e      *vm.Exec
	ctx    *execCtx
	frames []*opFrame
	depth  int
}

// opFrame is the memory one op invocation uses: the u64 argument array
// the program's ctx points at, then room for the argument structs.
type opFrame struct {
	addr    uint64
	b       []byte
	prevCPU int
}

const (
	frameArgs = 0   // u64 args[MAX_BPF_FUNC_ARGS]
	frameData = 128 // argument structs
	frameSize = 512
)

// execOn returns the execution context set to run on cpu; the caller
// restores the previous CPU with leave.
func (k *Kernel) execOn(cpu int) (*cpuExec, int) {
	if cpu < 0 || cpu >= k.env.nCPU {
		cpu = 0
	}
	cx := k.cx
	if cx == nil {
		e := vm.NewExec(k.env.mem)
		ctx := &execCtx{Kernel: k}
		e.Ctx = ctx
		e.Stream = k.env.streams.Sink
		e.Budget = k.env.cfg.Budget
		cx = &cpuExec{e: e, ctx: ctx}
		k.cx = cx
	}
	prev := cx.e.CPU
	cx.e.CPU, cx.ctx.cpu = cpu, cpu
	return cx, prev
}

func (cx *cpuExec) leave(prev int) { cx.e.CPU, cx.ctx.cpu = prev, prev }

// Exec returns the execution context (Ctx is this Kernel, Stream the
// object's stream set), for running programs outside ops and reading
// Steps. Outside an op it is set to run on cpu; while an op runs it is
// returned as is, on the op's CPU.
func (k *Kernel) Exec(cpu int) *vm.Exec {
	if k.cx != nil && k.depth > 0 {
		return k.cx.e
	}
	cx, _ := k.execOn(cpu)
	return cx.e
}

// push returns a cleared frame for the next nesting level.
func (cx *cpuExec) push() *opFrame {
	if cx.depth == len(cx.frames) {
		b := make([]byte, frameSize)
		_, addr := cx.e.Mem.Map("struct_ops ctx", b, vm.PermRead)
		cx.frames = append(cx.frames, &opFrame{addr: addr, b: b})
	}
	f := cx.frames[cx.depth]
	cx.depth++
	clear(f.b[:frameData+64])
	return f
}

func (cx *cpuExec) pop() { cx.depth-- }

func (f *opFrame) arg(i int, v uint64) { le.PutUint64(f.b[frameArgs+8*i:], v) }

// data returns the address and bytes of the argument struct area.
func (f *opFrame) data(size int) (uint64, []byte) {
	b := f.b[frameData : frameData+size]
	clear(b)
	return f.addr + frameData, b
}

// --- helpers.Kernel ------------------------------------------------------

// Runtime implements helpers.Kernel.
func (k *Kernel) Runtime() *helpers.Runtime { return k.env.rt }

// NowNS implements helpers.Kernel: the host's virtual time.
func (k *Kernel) NowNS() uint64 {
	if k.core == nil {
		return 0
	}
	return k.core.Now()
}

// BootNS implements helpers.Kernel (no suspend: boottime is monotonic).
func (k *Kernel) BootNS() uint64 { return k.NowNS() }

// Jiffies implements helpers.Kernel, counting the core's ticks.
func (k *Kernel) Jiffies() uint64 {
	if k.core == nil {
		return 0
	}
	return k.core.Now() / k.core.TickNS()
}

// NrCPUIDs implements helpers.Kernel.
func (k *Kernel) NrCPUIDs() int { return k.env.nCPU }

// CPUNode implements helpers.Kernel.
func (k *Kernel) CPUNode(cpu int) int {
	if m := k.env.cfg.Machine; m != nil {
		if c, ok := m.CPU(cpu); ok && c.Node >= 0 {
			return c.Node
		}
	}
	return 0
}

// CurrentTask implements helpers.Kernel: the task running on cpu.
func (k *Kernel) CurrentTask(cpu int) uint64 {
	if k.core == nil {
		return 0
	}
	rq := k.core.RQ(cpu)
	if rq == nil {
		return 0
	}
	return k.taskAddr(rq.Curr())
}

// Task implements helpers.Kernel.
func (k *Kernel) Task(addr uint64) (helpers.TaskInfo, bool) {
	m, ok := k.taskAt(addr)
	if !ok {
		return helpers.TaskInfo{}, false
	}
	return helpers.TaskInfo{Pid: m.p.PID, Tgid: m.p.TGID, Comm: m.p.Comm,
		Alive: m.p.State() != sched.Dead || m.refs > 0}, true
}

// TaskFromPid implements helpers.Kernel (bpf_task_from_pid()).
func (k *Kernel) TaskFromPid(pid int32) uint64 {
	if k.core == nil {
		return 0
	}
	p := k.core.TaskByPID(pid)
	if p == nil || p.State() == sched.Dead {
		return 0
	}
	a := k.taskAddr(p)
	k.tasks[p].refs++
	return a
}

// TaskAcquire implements helpers.Kernel.
func (k *Kernel) TaskAcquire(addr uint64) bool {
	m, ok := k.taskAt(addr)
	if !ok || (m.p.State() == sched.Dead && m.refs == 0) {
		return false
	}
	m.refs++
	return true
}

// TaskRelease implements helpers.Kernel.
func (k *Kernel) TaskRelease(addr uint64) {
	if m, ok := k.taskAt(addr); ok && m.refs > 0 {
		m.refs--
	}
}

// CgroupFromID implements helpers.Kernel.
func (k *Kernel) CgroupFromID(id uint64) uint64 {
	cg := k.findCgroup(id)
	if cg == nil {
		return 0
	}
	m := k.cgroupOf(cg)
	m.refs++
	return m.addr
}

// CgroupAcquire implements helpers.Kernel.
func (k *Kernel) CgroupAcquire(addr uint64) bool {
	m, ok := k.cgroupAt(addr)
	if ok {
		m.refs++
	}
	return ok
}

// CgroupRelease implements helpers.Kernel.
func (k *Kernel) CgroupRelease(addr uint64) {
	if m, ok := k.cgroupAt(addr); ok && m.refs > 0 {
		m.refs--
	}
}

// CgroupAncestor implements helpers.Kernel.
func (k *Kernel) CgroupAncestor(addr uint64, level int32) uint64 {
	m, ok := k.cgroupAt(addr)
	if !ok || level < 0 || int(level) > m.cg.Level {
		return 0
	}
	cg := m.cg
	for cg.Level > int(level) {
		cg = cg.Parent
	}
	a := k.cgroupOf(cg)
	a.refs++
	return a.addr
}

// CgroupAlive implements helpers.Kernel.
func (k *Kernel) CgroupAlive(addr uint64) bool {
	_, ok := k.cgroupAt(addr)
	return ok
}

// PerCPUPtr implements helpers.Kernel: cpu's copy of the kernel variable
// at ptr, refreshed from the simulated kernel (the runqueue, LLC ids).
func (k *Kernel) PerCPUPtr(ptr uint64, cpu int) uint64 {
	size := uint64(ktypes.PerCPUSize())
	if size == 0 || ptr < k.env.percpuBase || ptr >= k.env.percpuBase+size || cpu < 0 || cpu >= k.env.nCPU {
		return 0
	}
	k.refreshPerCPU(cpu)
	return ptr + uint64(cpu)*size
}

// rqAddr is the address of cpu's struct rq (its copy of runqueues),
// refreshed.
func (k *Kernel) rqAddr(cpu int) uint64 {
	return k.PerCPUPtr(k.env.percpuBase+uint64(percpuLayout.rq), cpu)
}

// TracePrintk implements helpers.Kernel.
func (k *Kernel) TracePrintk(cpu int, msg string) {
	if len(k.PrintkLog) >= printkKeep {
		k.PrintkLog = append(k.PrintkLog[:0], k.PrintkLog[len(k.PrintkLog)-printkKeep/2:]...)
	}
	k.PrintkLog = append(k.PrintkLog, msg)
	if k.Printk != nil {
		k.Printk(cpu, msg)
	}
}

// ArmTimer implements helpers.Kernel: the timer fires through the core's
// host (pinned or not, on cpu).
func (k *Kernel) ArmTimer(id, expires uint64, cpu int, pinned bool) {
	k.timerGen++
	t := armedTimer{gen: k.timerGen, expires: expires, cpu: cpu}
	k.timers[id] = t
	if k.core != nil {
		k.armHost(id, t)
	}
}

func (k *Kernel) armHost(id uint64, t armedTimer) {
	t.armed = true
	k.timers[id] = t
	gen := t.gen
	k.core.Host().ArmTimer(t.expires, func() { k.fireTimer(id, gen) })
}

// DisarmTimer implements helpers.Kernel.
func (k *Kernel) DisarmTimer(id uint64) bool {
	_, ok := k.timers[id]
	delete(k.timers, id)
	return ok
}

// fireTimer runs an expired timer's callback on its CPU; a failing
// callback ejects the scheduler like a failing op.
func (k *Kernel) fireTimer(id, gen uint64) {
	t, ok := k.timers[id]
	if !ok || t.gen != gen {
		return
	}
	delete(k.timers, id)
	cx, prev := k.execOn(t.cpu)
	k.depth++
	err := k.env.rt.FireTimer(cx.e, id)
	k.depth--
	cx.leave(prev)
	k.endOp()
	k.closeIters()
	if err != nil {
		k.vmFailed(err, t.cpu)
	}
}

// refreshPerCPU writes cpu's runqueue and topology variables.
func (k *Kernel) refreshPerCPU(cpu int) {
	size := ktypes.PerCPUSize()
	b := k.env.percpu[cpu*size : (cpu+1)*size]
	v := &percpuLayout
	le.PutUint32(b[v.rqCPU:], uint32(cpu))
	if m := k.env.cfg.Machine; m != nil {
		llc := m.LLCCPUs(cpu)
		id := cpu
		if len(llc) > 0 {
			id = llc[0]
		}
		le.PutUint32(b[v.llcSize:], uint32(max(len(llc), 1)))
		le.PutUint32(b[v.llcID:], uint32(id))
	} else {
		le.PutUint32(b[v.llcSize:], 1)
		le.PutUint32(b[v.llcID:], uint32(cpu))
	}
	if k.core == nil {
		return
	}
	rq := k.core.RQ(cpu)
	if rq == nil {
		return
	}
	le.PutUint32(b[v.rqNrRunning:], uint32(rq.NrRunning))
	le.PutUint64(b[v.rqNrSwitches:], rq.NrSwitches)
	le.PutUint64(b[v.rqClock:], rq.Clock())
	le.PutUint64(b[v.rqClockTask:], rq.Clock())
	online := uint32(0)
	if rq.Online() {
		online = 1
	}
	le.PutUint32(b[v.rqOnline:], online)
	le.PutUint64(b[v.rqCurr:], k.taskAddr(rq.Curr()))
	le.PutUint64(b[v.rqIdle:], k.taskAddr(rq.Idle()))
}

// percpuLayout holds the offsets, inside one CPU's copy of the per-CPU
// area, of the variables' fields the kernel refreshes.
var percpuLayout = func() (v struct {
	rqCPU, rqNrRunning, rqNrSwitches, rqClock, rqClockTask int
	rqOnline, rqCurr, rqIdle, llcSize, llcID, rq           int
}) {
	var rq, llcSize, llcID int
	for _, kv := range ktypes.KernelVars() {
		switch kv.Name {
		case "runqueues":
			rq = kv.Offset
		case "sd_llc_size":
			llcSize = kv.Offset
		case "sd_llc_id":
			llcID = kv.Offset
		}
	}
	o := func(path string) int { return rq + ktypes.MustOffsetof("rq", path) }
	v.rqCPU, v.rqNrRunning, v.rqNrSwitches = o("cpu"), o("nr_running"), o("nr_switches")
	v.rqClock, v.rqClockTask, v.rqOnline = o("clock"), o("clock_task"), o("online")
	v.rqCurr, v.rqIdle = o("curr"), o("idle")
	v.llcSize, v.llcID, v.rq = llcSize, llcID, rq
	return v
}()
