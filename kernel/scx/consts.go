package scx

import "math"

// DSQ ids (enum scx_dsq_id_flags).
const (
	DSQFlagBuiltin  uint64 = 1 << 63
	DSQFlagLocalOn  uint64 = 1 << 62
	DSQInvalid             = DSQFlagBuiltin | 0
	DSQGlobal              = DSQFlagBuiltin | 1
	DSQLocal               = DSQFlagBuiltin | 2
	DSQBypass              = DSQFlagBuiltin | 3
	DSQLocalOn             = DSQFlagBuiltin | DSQFlagLocalOn
	DSQLocalCPUMask uint64 = 0xffffffff
)

// Slices and limits (enum scx_public_consts, scx_consts).
const (
	SliceDfl    uint64 = 20_000_000 // SCX_SLICE_DFL
	SliceBypass uint64 = 5_000_000  // SCX_SLICE_BYPASS
	SliceInf    uint64 = math.MaxUint64

	OpsNameLen        = 128   // SCX_OPS_NAME_LEN
	DspDflMaxBatch    = 32    // SCX_DSP_DFL_MAX_BATCH
	DspMaxLoops       = 32    // SCX_DSP_MAX_LOOPS
	WatchdogMaxTimeMS = 30000 // SCX_WATCHDOG_MAX_TIMEOUT (30 s)
	ExitBTLen         = 64    // SCX_EXIT_BT_LEN
	ExitMsgLen        = 1024  // SCX_EXIT_MSG_LEN
	ExitDumpDflLen    = 32768 // SCX_EXIT_DUMP_DFL_LEN
	CPUPerfOne        = 1024  // SCX_CPUPERF_ONE
	TaskIterBatch     = 32    // SCX_TASK_ITER_BATCH

	RescueMaxBWPPT     = 250        // SCX_RESCUE_MAX_BW_PPT
	RescueDisable      = 0xffffffff // SCX_RESCUE_DISABLE
	RescueMinQuantumUS = 1000       // SCX_RESCUE_MIN_QUANTUM_US
	RescueMaxQuantumUS = 100000     // SCX_RESCUE_MAX_QUANTUM_US
)

// Ops flags (enum scx_ops_flags).
const (
	OpsKeepBuiltinIdle      uint64 = 1 << 0
	OpsEnqLast              uint64 = 1 << 1
	OpsEnqExiting           uint64 = 1 << 2
	OpsSwitchPartial        uint64 = 1 << 3
	OpsEnqMigrationDisabled uint64 = 1 << 4
	OpsAllowQueuedWakeup    uint64 = 1 << 5
	OpsBuiltinIdlePerNode   uint64 = 1 << 6
	OpsAlwaysEnqImmed       uint64 = 1 << 7
	OpsTidToTask            uint64 = 1 << 8
	OpsAllFlags             uint64 = 1<<9 - 1
	opsInternalMask         uint64 = 0xff << 56
	OpsHasCPUPreempt        uint64 = 1 << 56
)

// Wake flags (enum scx_wake_flags).
const (
	WakeFork uint64 = 0x04
	WakeTTWU uint64 = 0x08
	WakeSync uint64 = 0x10
)

// Enqueue flags (enum scx_enq_flags).
const (
	EnqWakeup      uint64 = 0x1
	EnqHead        uint64 = 0x10000
	EnqCPUSelected uint64 = 0x100000
	EnqPreempt     uint64 = 1 << 32
	EnqImmed       uint64 = 1 << 33
	EnqRescue      uint64 = 1 << 34
	EnqReenq       uint64 = 1 << 40
	EnqLast        uint64 = 1 << 41
	enqInternal    uint64 = 0xff << 56
	enqClearOpss   uint64 = 1 << 56
	enqDSQPriq     uint64 = 1 << 57
	enqNested      uint64 = 1 << 58
	enqGDSQFallbk  uint64 = 1 << 59
	enqIgnoreCaps  uint64 = 1 << 60
	enqApplySlice  uint64 = 1 << 61
	enqSliceDfl    uint64 = 1 << 62
)

// Dequeue flags (enum scx_deq_flags).
const (
	DeqSleep         uint64 = 0x1
	DeqCoreSchedExec uint64 = 1 << 32
	DeqSchedChange   uint64 = 1 << 33
)

// Kick flags (enum scx_kick_flags).
const (
	KickIdle    uint64 = 1 << 0
	KickPreempt uint64 = 1 << 1
	KickWait    uint64 = 1 << 2
)

// Pick-idle flags (enum scx_pick_idle_cpu_flags).
const (
	PickIdleCore   uint64 = 1 << 0
	PickIdleInNode uint64 = 1 << 1
)

// Reenqueue flags (enum scx_reenq_flags).
const (
	ReenqAny uint64 = 1 << 0
	// reenqScheduled marks a pending deferred reenq with no filter bit.
	reenqScheduled uint64 = 1 << 63
)

// DSQ iterator flags (enum scx_dsq_iter_flags).
const (
	DSQIterRev uint64 = 1 << 16
)

// Task flags (enum scx_ent_flags) visible in p->scx.flags.
const (
	TaskQueued          uint32 = 1 << 0
	TaskResetRunnableAt uint32 = 1 << 2
	TaskDeqdForSleep    uint32 = 1 << 3
	TaskStateShift             = 8
	TaskStateMask       uint32 = 7 << 8

	// The reason of a re-enqueue, set in p->scx.flags while ops.enqueue()
	// runs with SCX_ENQ_REENQ (SCX_TASK_REENQ_*).
	TaskReenqReasonMask uint32 = 7 << 12
	TaskReenqKfunc      uint32 = 1 << 12 // scx_bpf_dsq_reenq() and friends
	TaskReenqImmed      uint32 = 2 << 12 // an SCX_ENQ_IMMED task could not run at once
	TaskReenqPreempted  uint32 = 3 << 12 // preempted while running (IMMED)
)

// TaskState is the task's sched_ext lifecycle state (SCX_TASK_NONE..DEAD).
type TaskState uint32

const (
	TaskNone      TaskState = 0
	TaskInitBegin TaskState = 1
	TaskInit      TaskState = 2
	TaskReady     TaskState = 3
	TaskEnabled   TaskState = 4
	TaskDead      TaskState = 5
)

func (s TaskState) String() string {
	return [...]string{"none", "init_begin", "init", "ready", "enabled", "dead", "?", "?"}[s&7]
}

// OpsState is the task ownership state (enum scx_ops_state); the high bits
// of the stored value carry the queue sequence number.
type OpsState uint64

const (
	OpssNone        OpsState = 0
	OpssQueueing    OpsState = 1
	OpssQueued      OpsState = 2
	OpssDispatching OpsState = 3
	opssQseqShift            = 2
	opssStateMask   OpsState = 1<<opssQseqShift - 1
)

// ExitKind is enum scx_exit_kind.
type ExitKind int

const (
	ExitNone        ExitKind = 0
	ExitDone        ExitKind = 1
	ExitUnreg       ExitKind = 64
	ExitUnregBPF    ExitKind = 65
	ExitUnregKern   ExitKind = 66
	ExitSysRq       ExitKind = 67
	ExitParent      ExitKind = 68
	ExitParentKill  ExitKind = 69
	ExitError       ExitKind = 1024
	ExitErrorBPF    ExitKind = 1025
	ExitErrorStall  ExitKind = 1026
	ExitErrorReenq  ExitKind = 1027
	ExitErrorRescue ExitKind = 1028
)

// Exit codes (enum scx_exit_code).
const (
	ECodeRsnHotplug       uint64 = 1 << 32
	ECodeRsnCgroupOffline uint64 = 2 << 32
	ECodeActRestart       uint64 = 1 << 48
)

// ExitFlagInitialized is SCX_EFLAG_INITIALIZED: ops.init() succeeded.
const ExitFlagInitialized uint64 = 1 << 0

// EnableState is enum scx_enable_state.
type EnableState int

const (
	Enabling EnableState = iota
	Enabled
	Disabling
	Disabled
)

func (s EnableState) String() string {
	return [...]string{"enabling", "enabled", "disabling", "disabled"}[s]
}

// CPUPreemptReason is enum scx_cpu_preempt_reason.
type CPUPreemptReason int

const (
	CPUPreemptRT CPUPreemptReason = iota
	CPUPreemptDL
	CPUPreemptStop
	CPUPreemptUnknown
)
