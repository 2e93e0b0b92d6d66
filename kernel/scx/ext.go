package scx

import (
	"fmt"
	"syscall"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/topo"
)

// rqState is struct scx_rq: the ext class's part of a runqueue.
type rqState struct {
	rq    *sched.RQ
	local *DSQ
	// online is SCX_RQ_ONLINE: the CPU is online as the BPF scheduler sees it.
	online     bool
	inDispatch bool
	inWakeup   bool
	opsQseq    uint64
	nrRunning  int
	// runnable list sentinel (rq->scx.runnable_list).
	runnable    entity
	cpuReleased bool
	kickSync    uint64
	// ddspDeferred holds tasks direct-dispatched to another CPU's local
	// DSQ from the enqueue path (rq->scx.ddsp_deferred_locals).
	ddspDeferred    []*entity
	reenqLocalFlags uint64
	reenqPending    bool
	cpuperfTarget   uint32
	// perfBefore is the CPU's performance level when the scheduler was
	// enabled: the governor's choice, back in force once it is gone.
	perfBefore uint32
	perfSet    bool // the scheduler set this CPU's performance level
	remoteEnq  uint64
	// idleRenotify is SCX_RQ_ROOT_IDLE_RENOTIFY.
	idleRenotify bool
	nrImmed      int
}

// Ext is the sched_ext class of one simulated machine: the kernel-global
// sched_ext state (scx_root, enable state, idle masks, cid tables) and the
// sched.Ext implementation the core calls. All scx_bpf_* kfuncs are methods
// of Ext.
type Ext struct {
	core *sched.Core
	m    *topo.Machine
	host sched.Host

	state           EnableState
	root            *Sched
	switchingAll    bool
	switchedAll     bool
	enabled         bool // __scx_enabled
	initTaskEnabled bool
	cidType         bool
	cids            *topo.CidTable // published cid tables, nil when none
	lastCids        *topo.CidTable // the tables last published (scx_cpu_to_cid_tbl)
	hotplugSeq      uint64
	enableSeq       uint64
	nrRejected      uint64

	rqs []*rqState

	idle idleState

	// op context: the ops currently running, innermost last.
	ctx []opCtx
	// ddspTask is direct_dispatch_task: the task on the enqueue path
	// (select_cpu/enqueue), ddspSpoiled once it was direct-dispatched.
	ddspTask    *Task
	ddspSpoiled bool

	kicks      []*kickMasks // CPUs with pending kicks, in the order they kicked
	kickPer    []*kickMasks // per kicking CPU
	kickArmed  bool
	wdInterval uint64 // ns; 0: watchdog off
	wdStamp    uint64 // jiffies of the last watchdog run
	wdArmed    bool
	wdGen      uint64

	// Log holds the kernel log lines sched_ext printed (pr_info/pr_err).
	log []string
	// LogSink, when set, also receives each log line.
	LogSink func(line string)
	// TraceOps reports every op call as an EvExtOp event.
	TraceOps bool

	nextSchedID  uint64
	schedDump    *dumpState
	knownCgroups []*Cgroup
	kfCache      [2][nrOps][nrKf]uint8
}

type opCtx struct {
	op    opID
	rq    *sched.RQ // the locked rq (scx_locked_rq()), nil if none
	cpu   int       // smp_processor_id() while the op runs, -1 if unknown
	tasks [2]*Task  // current->scx.kf_tasks[]
}

// New creates the ext class for core and installs it.
func New(core *sched.Core) *Ext {
	x := &Ext{core: core, m: core.Machine(), host: core.Host(), state: Disabled}
	x.rqs = make([]*rqState, core.NrCPUIDs())
	for cpu, rq := range core.RQs() {
		if rq == nil {
			continue
		}
		rs := &rqState{rq: rq, online: rq.Online(), cpuperfTarget: CPUPerfOne}
		rs.runnable.rnext, rs.runnable.rprev = &rs.runnable, &rs.runnable
		rs.local = newDSQ(DSQLocal, nil, cpu, x.cpuNode(cpu))
		rs.local.owner = rs
		rq.Ext = rs
		x.rqs[cpu] = rs
	}
	x.idle.init(x)
	core.SetExt(x)
	return x
}

// Core returns the scheduling core.
func (x *Ext) Core() *sched.Core { return x.core }

// State returns the enable state (scx_enable_state()).
func (x *Ext) State() EnableState { return x.state }

// Root returns the loaded scheduler (scx_root), nil if none.
func (x *Ext) Root() *Sched { return x.root }

// SwitchedAll reports scx_switched_all(): every fair-policy task is on
// sched_ext (not partial mode).
func (x *Ext) SwitchedAll() bool { return x.switchedAll }

// Log returns the kernel log lines printed so far.
func (x *Ext) Log() []string { return append([]string(nil), x.log...) }

// CidTable returns the published cid tables, nil when no scheduler is
// loaded.
func (x *Ext) CidTable() *topo.CidTable { return x.cids }

// HotplugSeq returns scx_hotplug_seq.
func (x *Ext) HotplugSeq() uint64 { return x.hotplugSeq }

// OnlineCgroups lists the cgroups below the root that came online through
// the core (scx_tg_online()) and are not offline yet, in the order they
// came online.
func (x *Ext) OnlineCgroups() []*Cgroup { return append([]*Cgroup(nil), x.knownCgroups...) }

func (x *Ext) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	x.log = append(x.log, line)
	if x.LogSink != nil {
		x.LogSink(line)
	}
}

func (x *Ext) rqOf(cpu int) *rqState {
	if cpu < 0 || cpu >= len(x.rqs) {
		return nil
	}
	return x.rqs[cpu]
}

func rs(rq *sched.RQ) *rqState { return rq.Ext.(*rqState) }

func (x *Ext) cpuNode(cpu int) int {
	c, ok := x.m.CPU(cpu)
	if !ok || c.Node < 0 {
		return 0
	}
	return c.Node
}

func (x *Ext) now() uint64 { return x.host.Now() }

// jiffies converts virtual time to ticks, as the kernel's watchdog counts.
func (x *Ext) jiffies() uint64 { return x.host.Now() / x.core.TickNS() }

func (x *Ext) msecsToJiffies(ms uint64) uint64 {
	t := x.core.TickNS()
	return (ms*1_000_000 + t - 1) / t
}

func (x *Ext) jiffiesToMsecs(j uint64) uint64 { return j * x.core.TickNS() / 1_000_000 }

// curCPU is smp_processor_id() for kfuncs: the CPU of the innermost op
// context, else the waker's CPU during a wakeup, else the first online CPU.
func (x *Ext) curCPU() int {
	for i := len(x.ctx) - 1; i >= 0; i-- {
		if x.ctx[i].cpu >= 0 {
			return x.ctx[i].cpu
		}
	}
	if c := x.core.WakerCPU(); c >= 0 {
		return c
	}
	return x.core.Active().First()
}

func (x *Ext) curOp() opID {
	if len(x.ctx) == 0 {
		return opNone
	}
	return x.ctx[len(x.ctx)-1].op
}

// lockedRQ is scx_locked_rq().
func (x *Ext) lockedRQ() *sched.RQ {
	if len(x.ctx) == 0 {
		return nil
	}
	return x.ctx[len(x.ctx)-1].rq
}

// kfArgTaskOK mirrors scx_kf_arg_task_ok(): p must be a task the current
// op operates on.
func (x *Ext) kfArgTaskOK(sch *Sched, p *Task) bool {
	if len(x.ctx) > 0 {
		c := &x.ctx[len(x.ctx)-1]
		if p != nil && (p == c.tasks[0] || p == c.tasks[1]) {
			return true
		}
	}
	x.scxError(sch, "called on a task not being operated on")
	return false
}

// call runs one op with its context recorded, as SCX_CALL_OP*() does. A
// panic in a Go op is turned into a scheduler error so the simulation
// keeps its tasks.
func (x *Ext) call(sch *Sched, op opID, rq *sched.RQ, t0, t1 *Task, fn func()) {
	cpu := -1
	if rq != nil {
		cpu = rq.CPU
	}
	x.callOn(sch, op, rq, cpu, t0, t1, fn)
}

// callOn is call with the running CPU given separately from the locked rq
// (ops.select_cpu() runs under p's pi_lock only, on the waker's CPU).
func (x *Ext) callOn(sch *Sched, op opID, rq *sched.RQ, cpu int, t0, t1 *Task, fn func()) {
	if x.TraceOps {
		x.core.Event(sched.Event{Kind: sched.EvExtOp, CPU: cpu, Task: t0, Prev: t1, Msg: sch.opName(op)})
	}
	tasks := [2]*Task{t0, t1}
	if opNoKfTasks[op] {
		tasks = [2]*Task{}
	}
	x.ctx = append(x.ctx, opCtx{op: op, rq: rq, cpu: cpu, tasks: tasks})
	defer func() {
		x.ctx = x.ctx[:len(x.ctx)-1]
		if r := recover(); r != nil {
			x.scxError(sch, "ops.%s() panicked: %v", sch.opName(op), r)
		}
	}()
	fn()
}

// opNoKfTasks lists the ops with a task argument that the kernel calls
// through SCX_CALL_OP*() rather than SCX_CALL_OP_TASK*(): their task is not
// recorded in current->scx.kf_tasks[], so kfuncs checking
// scx_kf_arg_task_ok() refuse it there.
var opNoKfTasks = [nrOps]bool{
	opDispatch:         true,
	opInitTask:         true,
	opCgroupPrepMove:   true,
	opCgroupCancelMove: true,
	opDumpTask:         true,
}

// cpuArg mirrors scx_cpu_arg(): the number an op receives for cpu.
func (x *Ext) cpuArg(cpu int) int32 {
	if x.cidType && x.cids != nil {
		return int32(x.cids.Cid(cpu))
	}
	return int32(cpu)
}

// cpuRet mirrors scx_cpu_ret(): the cpu for a number an op returned or
// passed to a kfunc. Negative numbers and cpu-form numbers pass through
// unchanged, so the caller's cpuValid reports them; a cid-form scheduler's
// invalid cid is an error and -EINVAL, as scx_cid_to_cpu() returns.
func (x *Ext) cpuRet(sch *Sched, v int32) int {
	if v < 0 || !x.cidType || x.cids == nil {
		return int(v)
	}
	if err := x.cids.CidValid(int(v)); err != nil {
		x.scxError(sch, "%s", err.Error())
		return -int(syscall.EINVAL)
	}
	return x.cids.CPU(int(v))
}

// cpuValid mirrors scx_cpu_valid().
func (x *Ext) cpuValid(sch *Sched, cpu int, where string) bool {
	if cpu >= 0 && cpu < len(x.rqs) && x.rqs[cpu] != nil {
		return true
	}
	if where != "" {
		x.scxError(sch, "invalid CPU %d %s", cpu, where)
	} else {
		x.scxError(sch, "invalid CPU %d", cpu)
	}
	return false
}

// rqOnline mirrors scx_rq_online().
func (x *Ext) rqOnline(r *rqState) bool { return r.online && r.rq.Online() }

// --- sched.Ext: hooks core.c calls -------------------------------------

// Name implements sched.Class.
func (x *Ext) Name() string { return "ext" }

// Enabled mirrors scx_enabled().
func (x *Ext) Enabled() bool { return x.enabled }

// ShouldSCX mirrors task_should_scx().
func (x *Ext) ShouldSCX(pol sched.Policy) bool {
	if !x.enabled || x.state == Disabling {
		return false
	}
	if x.switchingAll {
		return true
	}
	return pol == sched.PolicyExt
}

// Tick mirrors scx_tick(): the watchdog must have checked in.
func (x *Ext) Tick(rq *sched.RQ) {
	if !x.enabled || x.root == nil {
		return
	}
	sch := x.root
	j := x.jiffies()
	if j > x.wdStamp+sch.watchdogTimeout {
		d := x.jiffiesToMsecs(j - x.wdStamp)
		x.scxExit(sch, ExitErrorStall, 0, rq.CPU, "watchdog failed to check in for %d.%03ds", d/1000, d%1000)
	}
}

// Hotplug mirrors handle_hotplug().
func (x *Ext) Hotplug(rq *sched.RQ, online bool) {
	x.hotplugSeq++
	sch := x.root
	if sch == nil {
		return
	}
	if x.enabled {
		x.idle.updateTopology()
	}
	arg := int32(rq.CPU)
	if x.cidType && x.cids != nil {
		arg = int32(x.cids.Cid(rq.CPU))
	}
	switch {
	case online && sch.has(opCPUOnline):
		x.call(sch, opCPUOnline, nil, nil, nil, func() { sch.ops.CPUOnline(arg) })
	case !online && sch.has(opCPUOffline):
		x.call(sch, opCPUOffline, nil, nil, nil, func() { sch.ops.CPUOffline(arg) })
	default:
		what := "offline"
		if online {
			what = "online"
		}
		x.scxExit(sch, ExitUnregKern, int64(ECodeActRestart|ECodeRsnHotplug), rq.CPU,
			"cpu %d going %s, exiting scheduler", rq.CPU, what)
	}
}

// RQOnline mirrors rq_online_scx().
func (x *Ext) RQOnline(rq *sched.RQ) { rs(rq).online = true }

// RQOffline mirrors rq_offline_scx().
func (x *Ext) RQOffline(rq *sched.RQ) { rs(rq).online = false }

// preemptReason mirrors preempt_reason_from_class(): RT for the RT
// class; the simulated kernel has no stop or deadline class (a deadline
// server runs tasks of its own class), so anything else is UNKNOWN.
func (x *Ext) preemptReason(cl sched.Class) CPUPreemptReason {
	if cl == x.core.RTClass() {
		return CPUPreemptRT
	}
	return CPUPreemptUnknown
}

// SwitchClass mirrors switch_class(): ops.cpu_release() once when a higher
// class takes the CPU. A CPU going idle (next class below ext) is not
// released: the scheduler chose to run nothing there.
func (x *Ext) SwitchClass(rq *sched.RQ, next *Task) {
	sch := x.root
	if sch == nil || sch.ops.Flags&OpsHasCPUPreempt == 0 {
		return
	}
	if x.core.ClassAbove(x, next.Class()) {
		return
	}
	r := rs(rq)
	if r.cpuReleased {
		return
	}
	if sch.ops.CPURelease != nil {
		args := CPUReleaseArgs{Reason: x.preemptReason(next.Class()), Task: next}
		x.call(sch, opCPURelease, rq, nil, nil, func() { sch.ops.CPURelease(int32(rq.CPU), args) })
	}
	r.cpuReleased = true
}
