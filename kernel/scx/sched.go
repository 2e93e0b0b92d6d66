package scx

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/scxsim/scxsim/bpf/arena"
	"github.com/scxsim/scxsim/kernel/cmask"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/topo"
)

// ExitInfo is struct scx_exit_info: why a scheduler was disabled, as
// ops.exit() and user space (user_exit_info) see it.
type ExitInfo struct {
	Kind     ExitKind
	ExitCPU  int
	ExitCode int64
	Flags    uint64 // SCX_EFLAG_*
	Reason   string // scx_exit_reason(Kind)
	Msg      string
	Dump     string
}

// Error is a registration error: the errno the kernel returns and the
// kernel log line it printed ("" if none).
type Error struct {
	Errno syscall.Errno
	Log   string
}

// Error gives the kernel log line and the errno as the syscall returns it
// to user space, e.g. "sched_ext: ...: -EINVAL (invalid argument)".
func (e *Error) Error() string {
	errno := fmt.Sprintf("-%s (%s)", unix.ErrnoName(e.Errno), e.Errno.Error())
	if unix.ErrnoName(e.Errno) == "" {
		errno = fmt.Sprintf("-%d (%s)", int(e.Errno), e.Errno.Error())
	}
	if e.Log != "" {
		return e.Log + ": " + errno
	}
	return errno
}

// Unwrap returns the errno.
func (e *Error) Unwrap() error { return e.Errno }

// Events is struct scx_event_stats.
type Events struct {
	SelectCPUFallback        int64
	DispatchLocalDSQOffline  int64
	DispatchKeepLast         int64
	EnqSkipExiting           int64
	EnqSkipMigrationDisabled int64
	ReenqImmed               int64
	ReenqRepeat              int64
	RefillSliceDfl           int64
	SliceClamped             int64
	SliceDenied              int64
	BypassDuration           int64
	BypassDispatch           int64
	BypassActivate           int64
	InsertNotOwned           int64
}

type dspEnt struct {
	p       *Task
	qseq    uint64
	dsqID   uint64
	slice   uint64
	vtime   uint64
	enqFlag uint64
}

// Sched is one loaded scheduler (struct scx_sched).
type Sched struct {
	x      *Ext
	ops    Ops
	form   Form
	hasOp  [nrOps]bool
	id     uint64
	userDs map[uint64]*DSQ
	global []*DSQ // per node
	bypass []*DSQ // per cpu

	sliceDfl        uint64
	bypassDepth     int
	bypassStart     uint64
	aborting        bool
	dead            bool
	dumpDisabled    bool
	warnedZeroSlice bool
	dspMaxBatch     int
	dspBuf          []dspEnt
	dspNrTasks      int
	dspRQ           *sched.RQ
	watchdogTimeout uint64 // jiffies

	exitKind ExitKind
	exitInfo ExitInfo
	exitDone bool

	arena       *arena.Arena
	pool        *arena.Pool
	cmaskSize   uint64
	cmaskScr    []uint64 // per-cpu set_cmask scratch (kernel address)
	cgroupsInit []*Cgroup
	events      Events
	freed       bool
	unregged    bool
}

// Ops returns the scheduler's ops (a copy of what was registered).
func (s *Sched) Ops() *Ops { return &s.ops }

// Name returns ops.name.
func (s *Sched) Name() string { return s.ops.Name }

// ExitInfo returns the exit info (meaningful once ExitKind != ExitNone).
func (s *Sched) ExitInfo() ExitInfo { return s.exitInfo }

// ExitKind returns the claimed exit kind (SCX_EXIT_NONE while running,
// SCX_EXIT_DONE once disabled).
func (s *Sched) ExitKind() ExitKind { return s.exitKind }

// Events returns the event counters (scx_bpf_events()).
func (s *Sched) Events() Events { return s.events }

// Arena returns the scheduler's arena (cid-form), nil otherwise.
func (s *Sched) Arena() *arena.Arena { return s.arena }

// Pool returns the arena sub-allocator (cid-form, while enabled).
func (s *Sched) Pool() *arena.Pool { return s.pool }

// Bypassing reports scx_bypassing().
func (s *Sched) Bypassing() bool { return s.bypassDepth > 0 }

func (s *Sched) has(op opID) bool { return s.hasOp[op] }

func (s *Sched) opName(op opID) string { return s.ops.opName(opNames[op]) }

func (s *Sched) globalDSQ(cpu int) *DSQ { return s.global[s.x.cpuNode(cpu)] }

// validName mirrors bpf_obj_name_cpy()'s check: non-empty, isalnum/_/.
func validName(n string) bool {
	if n == "" || len(n) >= OpsNameLen {
		return false
	}
	for _, c := range []byte(n) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (x *Ext) regErr(errno syscall.Errno, log string) error {
	if log != "" {
		x.logf("%s", log)
	}
	return &Error{Errno: errno, Log: log}
}

// Register loads a scheduler: the struct_ops value checks of
// bpf_scx_init_member(), then bpf_scx_reg() / bpf_scx_reg_cid() and
// scx_enable(). As in the kernel, a failure after the scheduler was
// allocated (ops.init() failing, an invalid op combination, ...) does not
// fail Register: the scheduler is returned already disabled with its exit
// info, and must still be Unregistered to be freed.
func (x *Ext) Register(ops *Ops) (*Sched, error) {
	if ops == nil {
		return nil, x.regErr(syscall.EINVAL, "")
	}
	o := *ops
	// bpf_scx_init_member()
	if o.DispatchMaxBatch > math.MaxInt32 {
		return nil, x.regErr(syscall.E2BIG, "")
	}
	if o.Flags&^OpsAllFlags != 0 {
		return nil, x.regErr(syscall.EINVAL, "")
	}
	if !validName(o.Name) {
		return nil, x.regErr(syscall.EINVAL, "")
	}
	if o.TimeoutMS > WatchdogMaxTimeMS {
		return nil, x.regErr(syscall.E2BIG, "")
	}
	if o.ExitDumpLen == 0 {
		o.ExitDumpLen = ExitDumpDflLen
	}
	if o.RescueBandwidthPPT > RescueMaxBWPPT && o.RescueBandwidthPPT != RescueDisable {
		return nil, x.regErr(syscall.E2BIG, "")
	}
	if o.RescueQuantumUS > RescueMaxQuantumUS {
		return nil, x.regErr(syscall.E2BIG, "")
	}
	if o.RescueQuantumUS != 0 && o.RescueQuantumUS < RescueMinQuantumUS {
		return nil, x.regErr(syscall.EINVAL, "")
	}
	if o.SubCgroupID > 1 {
		return nil, x.regErr(syscall.EOPNOTSUPP, "sched_ext: scxsim does not support sub-schedulers")
	}
	var ar *arena.Arena
	if o.Form == FormCid {
		// bpf_scx_reg_cid(): one arena across the member programs.
		for _, a := range o.Arenas {
			if a == nil {
				continue
			}
			if ar != nil && ar != a {
				return nil, x.regErr(syscall.EINVAL, "sched_ext: cid-form scheduler uses multiple arena maps")
			}
			ar = a
		}
		if ar == nil {
			return nil, x.regErr(syscall.EINVAL, "sched_ext: cid-form scheduler must use a BPF arena map")
		}
		ar.Get()
	}
	sch, err := x.enable(&o, ar)
	if err != nil && ar != nil {
		// The reference was not handed to a scheduler: drop it.
		ar.Put()
	}
	return sch, err
}

// Unregister mirrors bpf_scx_unreg(): disable the scheduler (exit kind
// SCX_EXIT_UNREG unless it already exited) and free it, dropping its arena
// reference.
func (x *Ext) Unregister(sch *Sched) {
	if sch == nil || sch.unregged {
		return
	}
	sch.unregged = true
	x.disable(sch, ExitUnreg)
	x.flushDisable(sch)
	x.free(sch)
}

func (x *Ext) free(sch *Sched) {
	if sch.freed {
		return
	}
	sch.freed = true
	if sch.arena != nil {
		sch.arena.Put()
		sch.arena = nil
	}
}

// allocSched mirrors scx_alloc_and_add_sched().
func (x *Ext) allocSched(o *Ops, ar *arena.Arena) *Sched {
	x.nextSchedID++
	sch := &Sched{x: x, ops: *o, form: o.Form, id: x.nextSchedID, userDs: map[uint64]*DSQ{}}
	sch.exitInfo.ExitCPU = -1
	nodes := x.m.NrNodeIDs()
	if nodes < 1 {
		nodes = 1
	}
	sch.global = make([]*DSQ, nodes)
	for n := range sch.global {
		sch.global[n] = newDSQ(DSQGlobal, sch, -1, n)
	}
	sch.bypass = make([]*DSQ, len(x.rqs))
	for cpu := range sch.bypass {
		sch.bypass[cpu] = newDSQ(DSQBypass, sch, -1, x.cpuNode(cpu))
	}
	sch.dspMaxBatch = int(o.DispatchMaxBatch)
	if sch.dspMaxBatch == 0 {
		sch.dspMaxBatch = DspDflMaxBatch
	}
	sch.dspBuf = make([]dspEnt, 0, sch.dspMaxBatch)
	if o.TimeoutMS != 0 {
		sch.watchdogTimeout = x.msecsToJiffies(uint64(o.TimeoutMS))
	} else {
		sch.watchdogTimeout = x.msecsToJiffies(WatchdogMaxTimeMS)
	}
	sch.sliceDfl = SliceDfl
	sch.arena = ar
	return sch
}

// enable mirrors scx_root_enable_workfn().
func (x *Ext) enable(o *Ops, ar *arena.Arena) (*Sched, error) {
	if x.state != Disabled {
		return nil, x.regErr(syscall.EBUSY, "")
	}
	sch := x.allocSched(o, ar)
	x.cidType = sch.form == FormCid
	x.state = Enabling
	x.nrRejected = 0
	for _, r := range x.rqs {
		if r != nil {
			r.local.sch = sch
			r.cpuperfTarget = CPUPerfOne
			if c, ok := x.m.CPU(r.rq.CPU); ok {
				r.perfBefore = c.Perf
			}
		}
	}
	fail := func(ret int) (*Sched, error) {
		x.scxError(sch, "scx_root_enable() failed (%d)", ret)
		x.flushDisable(sch)
		return sch, nil
	}
	// scx_cid_init(): the cid tables under construction.
	cids, err := topo.NewCidTable(x.m, o.CidShardSize)
	if err != nil {
		x.root = sch
		return fail(-int(syscall.EINVAL))
	}
	x.root = sch
	x.cids = cids
	x.linkSched(sch)
	x.idle.enable(o)
	if sch.form == FormCid && o.InitCids != nil {
		var ret int32
		x.call(sch, opInitCids, nil, nil, nil, func() { ret = o.InitCids() })
		if ret != 0 {
			ret = x.sanitizeErr(sch, "init_cids", ret)
			x.scxError(sch, "ops.init_cids() failed (%d)", ret)
			return fail(int(ret))
		}
	}
	// scx_cid_publish_tables(): the layout is final.
	x.lastCids = cids
	if sch.form == FormCid {
		if err := x.arenaPoolInit(sch); err != nil {
			return fail(-int(syscall.ENOMEM))
		}
		if err := x.setCmaskScratchAlloc(sch); err != nil {
			return fail(-int(syscall.ENOMEM))
		}
	}
	if o.Init != nil {
		var ret int32
		x.call(sch, opInit, nil, nil, nil, func() { ret = o.Init() })
		if ret != 0 {
			ret = x.sanitizeErr(sch, "init", ret)
			x.scxError(sch, "ops.init() failed (%d)", ret)
			return fail(int(ret))
		}
		sch.exitInfo.Flags |= ExitFlagInitialized
	}
	h := o.present()
	sch.hasOp[opCPUOnline], sch.hasOp[opCPUOffline] = h[opCPUOnline], h[opCPUOffline]
	if o.HotplugSeq != 0 && o.HotplugSeq != x.hotplugSeq {
		x.scxExit(sch, ExitUnregKern, int64(ECodeActRestart|ECodeRsnHotplug), -1,
			"expected hotplug seq %d did not match actual %d", o.HotplugSeq, x.hotplugSeq)
		return fail(-int(syscall.EBUSY))
	}
	x.idle.updateTopology()
	if ret := x.validateOps(sch, o); ret != 0 {
		return fail(ret)
	}
	x.bypass(sch, true)
	sch.hasOp = h
	if o.CPUAcquire != nil || o.CPURelease != nil {
		sch.ops.Flags |= OpsHasCPUPreempt
	}
	x.initTaskEnabled = true
	if ret := x.cgroupInitAll(sch); ret != 0 {
		return fail(ret)
	}
	tasks := x.core.Tasks()
	for _, p := range tasks {
		e := ent(p)
		e.setState(TaskInitBegin)
		ret := x.initTask(sch, p, nil, false)
		if ret != 0 {
			e.setState(TaskNone)
			x.scxError(sch, "ops.init_task() failed (%d) for %s[%d]", ret, p.Comm, p.PID)
			return fail(int(ret))
		}
		e.setState(TaskInit)
		e.sch = sch
		e.setState(TaskReady)
	}
	x.switchingAll = o.Flags&OpsSwitchPartial == 0
	x.enabled = true
	for _, p := range tasks {
		e := ent(p)
		if e.State() != TaskReady {
			continue
		}
		e.Slice = sch.sliceDfl
		x.core.Reclass(p)
	}
	x.bypass(sch, false)
	if x.state != Enabling || sch.exitKind != ExitNone {
		return fail(-int(syscall.EBUSY))
	}
	x.state = Enabled
	if o.Flags&OpsSwitchPartial == 0 {
		x.switchedAll = true
	}
	part := " (partial)"
	if x.switchedAll {
		part = ""
	}
	x.logf("sched_ext: BPF scheduler \"%s\" enabled%s", sch.ops.Name, part)
	x.enableSeq++
	x.core.Event(sched.Event{Kind: sched.EvExt, CPU: -1, Msg: fmt.Sprintf("enabled %s", sch.ops.Name)})
	return sch, nil
}

// sanitizeErr mirrors scx_ops_sanitize_err().
func (x *Ext) sanitizeErr(sch *Sched, op string, err int32) int32 {
	if err < 0 && err >= -4095 {
		return err
	}
	x.scxError(sch, "ops.%s() returned an invalid errno %d", op, err)
	return -int32(syscall.EPROTO)
}

// validateOps mirrors scx_validate_ops().
func (x *Ext) validateOps(sch *Sched, o *Ops) int {
	if o.Flags&OpsEnqLast != 0 && o.Enqueue == nil {
		x.scxError(sch, "SCX_OPS_ENQ_LAST requires ops.enqueue() to be implemented")
		return -int(syscall.EINVAL)
	}
	if o.Flags&OpsBuiltinIdlePerNode != 0 && o.UpdateIdle != nil && o.Flags&OpsKeepBuiltinIdle == 0 {
		x.scxError(sch, "SCX_OPS_BUILTIN_IDLE_PER_NODE requires CPU idle selection enabled")
		return -int(syscall.EINVAL)
	}
	if sch.form == FormCPU && (o.CPUAcquire != nil || o.CPURelease != nil) {
		x.logf("ops->cpu_acquire/release() are deprecated, use sched_switch TP instead")
	}
	if sch.form == FormCPU && (o.SubAttach != nil || o.SubDetach != nil) {
		x.scxError(sch, "sub_attach/sub_detach requires cid-form struct_ops")
		return -int(syscall.EINVAL)
	}
	return 0
}

// arenaPoolInit mirrors scx_arena_pool_init().
func (x *Ext) arenaPoolInit(sch *Sched) error {
	sch.pool = arena.NewPool(sch.arena)
	return nil
}

// setCmaskScratchAlloc mirrors scx_set_cmask_scratch_alloc(): one cmask
// covering every cid per CPU, in the scheduler's arena.
func (x *Ext) setCmaskScratchAlloc(sch *Sched) error {
	sch.cmaskSize = uint64(cmask.Size(uint32(x.m.NumPossible())))
	sch.cmaskScr = make([]uint64, len(x.rqs))
	for cpu := range x.rqs {
		if x.rqs[cpu] == nil {
			continue
		}
		a, err := sch.pool.Alloc(sch.cmaskSize)
		if err != nil {
			return err
		}
		sch.cmaskScr[cpu] = a
	}
	return nil
}

// linkSched mirrors scx_link_sched() + refresh_watchdog().
func (x *Ext) linkSched(sch *Sched) {
	x.wdStamp = x.jiffies()
	x.wdInterval = max(sch.watchdogTimeout/2, 1) * x.core.TickNS()
	x.armWatchdog()
}

func (x *Ext) armWatchdog() {
	x.wdGen++
	gen := x.wdGen
	x.host.ArmTimer(x.now()+x.wdInterval, func() { x.watchdogWork(gen) })
}

// watchdogWork mirrors scx_watchdog_workfn() + check_rq_for_timeouts().
func (x *Ext) watchdogWork(gen uint64) {
	if gen != x.wdGen || x.wdInterval == 0 {
		return
	}
	x.wdStamp = x.jiffies()
	sch := x.root
	if sch != nil && sch.exitKind == ExitNone {
		j := x.jiffies()
	outer:
		for cpu, r := range x.rqs {
			if r == nil || !r.rq.Online() {
				continue
			}
			for e := r.runnable.rnext; e != &r.runnable; e = e.rnext {
				if j > e.runnableAt+sch.watchdogTimeout {
					d := x.jiffiesToMsecs(j - e.runnableAt)
					x.scxExit(sch, ExitErrorStall, 0, cpu, "%s[%d] failed to run for %d.%03ds",
						e.p.Comm, e.p.PID, d/1000, d%1000)
					break outer
				}
			}
		}
	}
	x.armWatchdog()
}

// bypass mirrors scx_bypass().
func (x *Ext) bypass(sch *Sched, on bool) {
	if on {
		sch.bypassDepth++
		if sch.bypassDepth != 1 {
			return
		}
		sch.sliceDfl = SliceBypass
		sch.bypassStart = x.now()
		sch.events.BypassActivate++
	} else {
		sch.bypassDepth--
		if sch.bypassDepth != 0 {
			return
		}
		sch.sliceDfl = SliceDfl
		sch.events.BypassDuration += int64(x.now() - sch.bypassStart)
	}
	if !x.enabled {
		return
	}
	for _, r := range x.rqs {
		if r == nil {
			continue
		}
		var tasks []*Task
		for e := r.runnable.rprev; e != &r.runnable; e = e.rprev {
			tasks = append(tasks, e.p)
		}
		for _, p := range tasks {
			if on && r.rq.Curr() == p {
				ent(p).flags &^= taskImmed
			}
			x.core.Requeue(p, sched.DequeueSave|sched.DequeueMove)
		}
		if !on {
			// unbypass_renotify_idle(): owe the scheduler the idle
			// notifications bypass suppressed.
			r.idleRenotify = true
		}
		if r.rq.Online() {
			x.core.ReschedCurr(r.rq)
		}
	}
}

// scxError mirrors scx_error(): exit with SCX_EXIT_ERROR.
func (x *Ext) scxError(sch *Sched, format string, args ...any) bool {
	return x.scxExit(sch, ExitError, 0, x.curCPU(), format, args...)
}

// scxExit mirrors __scx_exit() / scx_vexit(): the first exit claimed wins,
// its message is recorded and the disable work queued.
func (x *Ext) scxExit(sch *Sched, kind ExitKind, code int64, cpu int, format string, args ...any) bool {
	if sch == nil || sch.exitKind != ExitNone {
		return false
	}
	if kind == ExitNone || kind == ExitDone {
		kind = ExitError
	}
	sch.exitKind = kind
	sch.aborting = true
	msg := fmt.Sprintf(format, args...)
	if len(msg) >= ExitMsgLen {
		msg = msg[:ExitMsgLen-1]
	}
	ei := &sch.exitInfo
	ei.Msg = msg
	ei.ExitCode = code
	ei.Kind = kind
	ei.Reason = exitReason(kind)
	ei.ExitCPU = cpu
	x.core.Event(sched.Event{Kind: sched.EvExtError, CPU: cpu, Msg: fmt.Sprintf("%s (%s)", ei.Reason, msg)})
	x.host.ArmTimer(x.now(), func() { x.disableIRQWork(sch) })
	return true
}

// disable mirrors scx_disable(): claim an exit of kind and queue the work.
func (x *Ext) disable(sch *Sched, kind ExitKind) {
	if sch.exitKind != ExitNone {
		return
	}
	sch.exitKind = kind
	sch.aborting = true
	sch.exitInfo.Kind = kind
	sch.exitInfo.Reason = exitReason(kind)
	x.host.ArmTimer(x.now(), func() { x.disableIRQWork(sch) })
}

// flushDisable mirrors scx_flush_disable_work(): run the queued disable
// work now.
func (x *Ext) flushDisable(sch *Sched) {
	if sch.exitKind != ExitNone {
		x.disableIRQWork(sch)
	}
}

// disableIRQWork mirrors scx_disable_irq_workfn() + scx_disable_workfn().
func (x *Ext) disableIRQWork(sch *Sched) {
	if sch.exitDone || sch.exitKind == ExitNone {
		return
	}
	if sch.exitInfo.Kind >= ExitError {
		sch.exitInfo.Dump = x.dumpState(sch, sch.exitInfo, int(sch.ops.ExitDumpLen))
	}
	sch.exitDone = true
	kind := sch.exitKind
	sch.exitKind = ExitDone
	sch.exitInfo.Kind = kind
	sch.exitInfo.Reason = exitReason(kind)
	x.rootDisable(sch)
}

func exitReason(k ExitKind) string {
	switch k {
	case ExitUnreg:
		return "unregistered from user space"
	case ExitUnregBPF:
		return "unregistered from BPF"
	case ExitUnregKern:
		return "unregistered from the main kernel"
	case ExitSysRq:
		return "disabled by sysrq-S"
	case ExitParent:
		return "parent exiting"
	case ExitParentKill:
		return "killed by parent scheduler"
	case ExitError:
		return "runtime error"
	case ExitErrorBPF:
		return "scx_bpf_error"
	case ExitErrorStall:
		return "runnable task stall"
	case ExitErrorReenq:
		return "reenqueue limit"
	case ExitErrorRescue:
		return "rescue bandwidth overload"
	}
	return "<UNKNOWN>"
}

// rootDisable mirrors scx_root_disable().
func (x *Ext) rootDisable(sch *Sched) {
	x.bypass(sch, true)
	prev := x.state
	x.state = Disabling
	if prev == Disabled {
		x.logf("sched_ext: ops error detected without ops (%s)", sch.exitInfo.Msg)
		x.state = Disabled
		x.bypass(sch, false)
		return
	}
	x.switchedAll = false
	x.switchingAll = false
	x.cgroupExitAll(sch)
	x.initTaskEnabled = false
	for _, p := range x.core.Tasks() {
		e := ent(p)
		if e.State() == TaskDead {
			continue
		}
		x.core.Reclass(p)
		x.disableAndExitTask(sch, p)
	}
	sch.dumpDisabled = true
	x.enabled = false
	x.cidType = false
	x.idle.disable()
	x.logSchedDisable(sch)
	if sch.ops.Exit != nil {
		ei := sch.exitInfo
		x.call(sch, opExit, nil, nil, nil, func() { sch.ops.Exit(&ei) })
	}
	sch.dead = true
	x.wdInterval = 0
	x.wdGen++
	x.root = nil
	x.cids = nil
	if sch.pool != nil {
		sch.pool.Destroy()
		sch.pool = nil
	}
	sch.cmaskScr = nil
	// Free the DSQs: every queued task is gone by now.
	for _, id := range slices.Sorted(mapsKeys(sch.userDs)) {
		sch.userDs[id].destroyed = true
	}
	sch.userDs = map[uint64]*DSQ{}
	for _, r := range x.rqs {
		if r != nil {
			r.local.sch = nil
			// scx_cpuperf_target() reads 0 once sched_ext is off: the
			// scheduler's cpuperf settings stop steering frequency.
			if r.perfSet {
				_ = x.m.SetPerf(r.rq.CPU, r.perfBefore)
				r.cpuperfTarget, r.perfSet = CPUPerfOne, false
			}
		}
	}
	x.state = Disabled
	x.bypass(sch, false)
	x.core.Event(sched.Event{Kind: sched.EvExt, CPU: -1, Msg: fmt.Sprintf("disabled %s (%s)", sch.ops.Name, sch.exitInfo.Reason)})
}

func mapsKeys(m map[uint64]*DSQ) func(func(uint64) bool) {
	return func(yield func(uint64) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// logSchedDisable mirrors scx_log_sched_disable().
func (x *Ext) logSchedDisable(sch *Sched) {
	ei := &sch.exitInfo
	if ei.Kind >= ExitError {
		x.logf("sched_ext: BPF scheduler \"%s\" disabled (%s)", sch.ops.Name, ei.Reason)
		if ei.Msg != "" {
			x.logf("sched_ext: %s: %s", sch.ops.Name, ei.Msg)
		}
	} else {
		x.logf("sched_ext: BPF scheduler \"%s\" disabled (%s)", sch.ops.Name, ei.Reason)
	}
}

// DebugDump mirrors the SysRq-D dump (scx_dump_state() with exit kind
// SCX_EXIT_NONE): the scheduler's state and its dump ops' output, "" when
// no scheduler is loaded.
func (x *Ext) DebugDump(reason string) string {
	sch := x.root
	if sch == nil {
		return ""
	}
	return x.dumpState(sch, ExitInfo{Kind: ExitNone, ExitCPU: -1, Reason: reason}, int(sch.ops.ExitDumpLen))
}

// dumpState mirrors scx_dump_state(): the debug dump of an exit (or of a
// SysRq-D request when ei.Kind is SCX_EXIT_NONE).
func (x *Ext) dumpState(sch *Sched, eiv ExitInfo, dumpLen int) string {
	if sch.dumpDisabled {
		return ""
	}
	ei := &eiv
	d := &dumpState{}
	x.schedDump = d
	defer func() { x.schedDump = nil }()
	ctx := &DumpCtx{Kind: ei.Kind, ExitCode: ei.ExitCode, Reason: ei.Reason, AtNS: x.now(), AtJiffies: x.jiffies()}
	d.line("%s: root", sch.ops.Name)
	switch {
	case ei.Kind == ExitNone:
		d.line("Debug dump triggered by %s", ei.Reason)
	default:
		if ei.ExitCPU >= 0 {
			d.line("%s[%d] triggered exit kind %d on CPU %d:", "kworker", 0, ei.Kind, ei.ExitCPU)
		} else {
			d.line("%s[%d] triggered exit kind %d:", "kworker", 0, ei.Kind)
		}
		d.line("  %s (%s)", ei.Reason, ei.Msg)
		d.line("")
		d.line("Backtrace:")
	}
	if sch.has(opDump) {
		d.prefix, d.first = "", true
		x.call(sch, opDump, nil, nil, nil, func() { sch.ops.Dump(ctx) })
		d.flush()
	}
	d.line("")
	d.line("CPU states")
	d.line("----------")
	order := make([]int, 0, len(x.rqs))
	if ei.ExitCPU >= 0 && ei.ExitCPU < len(x.rqs) && x.rqs[ei.ExitCPU] != nil {
		order = append(order, ei.ExitCPU)
	}
	for cpu, r := range x.rqs {
		if r != nil && cpu != ei.ExitCPU {
			order = append(order, cpu)
		}
	}
	for _, cpu := range order {
		x.dumpCPU(sch, d, ctx, cpu)
	}
	d.line("")
	d.line("Event counters")
	d.line("--------------")
	ev := sch.events
	for _, kv := range []struct {
		n string
		v int64
	}{
		{"SCX_EV_SELECT_CPU_FALLBACK", ev.SelectCPUFallback},
		{"SCX_EV_DISPATCH_LOCAL_DSQ_OFFLINE", ev.DispatchLocalDSQOffline},
		{"SCX_EV_DISPATCH_KEEP_LAST", ev.DispatchKeepLast},
		{"SCX_EV_ENQ_SKIP_EXITING", ev.EnqSkipExiting},
		{"SCX_EV_ENQ_SKIP_MIGRATION_DISABLED", ev.EnqSkipMigrationDisabled},
		{"SCX_EV_REENQ_IMMED", ev.ReenqImmed},
		{"SCX_EV_REENQ_REPEAT", ev.ReenqRepeat},
		{"SCX_EV_REFILL_SLICE_DFL", ev.RefillSliceDfl},
		{"SCX_EV_SLICE_CLAMPED", ev.SliceClamped},
		{"SCX_EV_SLICE_DENIED", ev.SliceDenied},
		{"SCX_EV_BYPASS_DURATION", ev.BypassDuration},
		{"SCX_EV_BYPASS_DISPATCH", ev.BypassDispatch},
		{"SCX_EV_BYPASS_ACTIVATE", ev.BypassActivate},
		{"SCX_EV_INSERT_NOT_OWNED", ev.InsertNotOwned},
	} {
		d.line("%40s: %16d", kv.n, kv.v)
	}
	out := d.b.String()
	// The dump is a NUL-terminated seq_buf of dumpLen bytes: at most
	// dumpLen-1 characters fit, and an overflow ends them with the marker.
	if dumpLen > 0 && len(out) >= dumpLen {
		const marker = "\n\n~~~~ TRUNCATED ~~~~\n"
		out = out[:dumpLen-1]
		if dumpLen > len(marker) {
			out = out[:dumpLen-1-len(marker)] + marker
		}
	}
	return out
}

func (x *Ext) dumpCPU(sch *Sched, d *dumpState, ctx *DumpCtx, cpu int) {
	r := x.rqs[cpu]
	rq := r.rq
	idle := r.runnable.rnext == &r.runnable && rq.Curr().IsIdleTask()
	if idle && !sch.has(opDumpCPU) {
		return
	}
	mark := d.b.Len()
	d.line("")
	d.line("CPU %-4d: nr_run=%d flags=0x%x cpu_rel=%d ops_qseq=%d ksync=%d", cpu, r.nrRunning,
		r.flagsWord(), b2i(r.cpuReleased), r.opsQseq, r.kickSync)
	d.line("          curr=%s[%d] class=%s_sched_class", rq.Curr().Comm, rq.Curr().PID, rq.Curr().Class().Name())
	used := d.b.Len()
	if sch.has(opDumpCPU) {
		d.prefix, d.first = "  ", true
		x.call(sch, opDumpCPU, rq, nil, nil, func() { sch.ops.DumpCPU(ctx, x.cpuArg(cpu), idle) })
		d.flush()
	}
	if idle && used == d.b.Len() {
		s := d.b.String()[:mark]
		d.b.Reset()
		d.b.WriteString(s)
		return
	}
	if c := rq.Curr(); c.Class() == sched.Class(x) {
		x.dumpTask(sch, d, ctx, rq, c, '*')
	}
	for e := r.runnable.rnext; e != &r.runnable; e = e.rnext {
		x.dumpTask(sch, d, ctx, rq, e.p, ' ')
	}
}

func (x *Ext) dumpTask(sch *Sched, d *dumpState, ctx *DumpCtx, rq *sched.RQ, p *Task, marker byte) {
	e := ent(p)
	dsq := "(n/a)"
	if e.dsq != nil {
		dsq = fmt.Sprintf("0x%x", e.dsq.ID)
	}
	d.line("")
	d.line(" %c%s %s[%d] *root %+dms", marker, p.State(), p.Comm, p.PID,
		-int64(x.jiffiesToMsecs(x.jiffies()-min(e.runnableAt, x.jiffies()))))
	d.line("      scx_state/flags=%d/0x%x dsq_flags=0x%x ops_state/qseq=%d/%d", e.State(),
		e.flags&^TaskStateMask, b2i(e.onPriq), e.opsState&uint64(opssStateMask), e.opsState>>opssQseqShift)
	d.line("      sticky/holding_cpu=%d/%d dsq_id=%s", e.stickyCPU, e.holdingCPU, dsq)
	d.line("      dsq_vtime=%d slice=%d weight=%d", e.DsqVtime, e.Slice, e.Weight)
	d.line("      cpus=%s no_mig=%d", cpusHex(p.CPUsAllowed()), b2i(p.MigrationDisabled()))
	if sch.has(opDumpTask) {
		d.prefix, d.first = "    ", true
		x.call(sch, opDumpTask, rq, p, nil, func() { sch.ops.DumpTask(ctx, p) })
		d.flush()
	}
}

func cpusHex(m topo.CPUMask) string {
	var sb strings.Builder
	started := false
	for i := len(m) - 1; i >= 0; i-- {
		if !started {
			if m[i] == 0 && i > 0 {
				continue
			}
			fmt.Fprintf(&sb, "%x", m[i])
			started = true
			continue
		}
		fmt.Fprintf(&sb, ",%016x", m[i])
	}
	return sb.String()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *rqState) flagsWord() uint32 {
	var f uint32
	if r.online {
		f |= 1
	}
	if r.inDispatch {
		f |= 1 << 3
	}
	return f
}

// dumpState collects a debug dump; scx_bpf_dump() appends to line.
type dumpState struct {
	b      strings.Builder
	prefix string
	first  bool
	cur    strings.Builder
}

func (d *dumpState) line(format string, args ...any) {
	d.b.WriteString(fmt.Sprintf(format, args...))
	d.b.WriteByte('\n')
}

// flush mirrors ops_dump_flush(): emit what scx_bpf_dump() collected, a
// blank line first, each line prefixed.
func (d *dumpState) flush() {
	if d.cur.Len() == 0 {
		return
	}
	if d.first {
		d.line("")
		d.first = false
	}
	s := strings.TrimSuffix(d.cur.String(), "\n")
	for _, l := range strings.Split(s, "\n") {
		d.line("%s%s", d.prefix, l)
	}
	d.cur.Reset()
}
