package metrics

// Schema identifies the JSON report format (documented in
// sim/report/SCHEMA.md). It changes when a field changes meaning or goes
// away; new fields may appear without a change.
const Schema = "scxsim.report/v1"

// Results is a finished run's measurements, the body of every report.
type Results struct {
	Schema    string          `json:"schema"`
	Run       RunInfo         `json:"run"`
	Summary   Totals          `json:"summary"`
	Groups    []GroupResult   `json:"groups"`
	Cgroups   []CgroupResult  `json:"cgroups"`
	CPUs      []CPUResult     `json:"cpus"`
	Scheduler SchedulerResult `json:"scheduler"`
	// TimelineBinNS is the width of each CPU timeline bin.
	TimelineBinNS uint64       `json:"timeline_bin_ns"`
	Tasks         []TaskResult `json:"tasks,omitempty"`
	Warnings      []string     `json:"warnings,omitempty"`
}

// RunInfo says what ran.
type RunInfo struct {
	Scheduler   string  `json:"scheduler"`
	Topology    string  `json:"topology"`
	CPUs        int     `json:"cpus"`
	Workload    string  `json:"workload"`
	DurationNS  uint64  `json:"duration_ns"`
	Seed        uint64  `json:"seed"`
	HZ          int     `json:"hz"`
	Effects     Effects `json:"effects"`
	StopReason  string  `json:"stop_reason"`
	EventsTotal uint64  `json:"events"`
}

// Effects are the machine effects the engine applied (see sim/engine).
type Effects struct {
	ContextSwitchNS uint64  `json:"context_switch_ns"`
	IPILatencyNS    uint64  `json:"ipi_latency_ns"`
	IdleExitNS      uint64  `json:"idle_exit_ns"`
	SMTFactor       float64 `json:"smt_factor"`
	WarmupSMTNS     uint64  `json:"warmup_smt_ns"`
	WarmupLLCNS     uint64  `json:"warmup_llc_ns"`
	WarmupNodeNS    uint64  `json:"warmup_node_ns"`
	WarmupXNodeNS   uint64  `json:"warmup_xnode_ns"`
}

// Totals sums the whole run.
type Totals struct {
	DurationNS      uint64     `json:"duration_ns"`
	CPUs            int        `json:"cpus"`
	Tasks           int        `json:"tasks"`
	Exited          int        `json:"exited"`
	NeverRan        int        `json:"never_ran"`
	RuntimeNS       uint64     `json:"runtime_ns"`
	BusyNS          uint64     `json:"busy_ns"`
	Utilization     float64    `json:"utilization"`
	ContextSwitches uint64     `json:"context_switches"`
	Voluntary       uint64     `json:"voluntary_switches"`
	Involuntary     uint64     `json:"involuntary_switches"`
	Migrations      Migrations `json:"migrations"`
	Iterations      uint64     `json:"iterations"`
	Requests        uint64     `json:"requests"`
	Wait            Summary    `json:"wait"`
	Wakeup          Summary    `json:"wakeup_latency"`

	migr [nMig]uint64
}

// Migrations counts migrations by distance.
type Migrations struct {
	SMT   uint64 `json:"smt"`
	LLC   uint64 `json:"llc"`
	Node  uint64 `json:"node"`
	XNode uint64 `json:"xnode"`
}

// Total sums every distance.
func (m Migrations) Total() uint64 { return m.SMT + m.LLC + m.Node + m.XNode }

// GroupResult is one task group's figures.
type GroupResult struct {
	Name        string     `json:"name"`
	Tasks       int        `json:"tasks"`
	Exited      int        `json:"exited"`
	NeverRan    int        `json:"never_ran"`
	RuntimeNS   uint64     `json:"runtime_ns"`
	WorkNS      uint64     `json:"work_ns"`
	Wait        Summary    `json:"wait"`
	Wakeup      Summary    `json:"wakeup_latency"`
	Voluntary   uint64     `json:"voluntary_switches"`
	Involuntary uint64     `json:"involuntary_switches"`
	Migrations  Migrations `json:"migrations"`
	Iterations  uint64     `json:"iterations"`
	IterLatency Summary    `json:"iteration_latency"`
	Requests    uint64     `json:"requests"`
	ReqLatency  Summary    `json:"request_latency"`
	// Fairness is Jain's index over the group's tasks of run time per
	// unit of weight per unit of lifetime: 1 is perfectly fair.
	Fairness float64 `json:"fairness"`
}

// CgroupResult is one cgroup's share of the run time.
type CgroupResult struct {
	Path      string  `json:"path"`
	Weight    uint32  `json:"weight"`
	QuotaUS   uint64  `json:"quota_us,omitempty"`
	PeriodUS  uint64  `json:"period_us,omitempty"`
	BurstUS   uint64  `json:"burst_us,omitempty"`
	Idle      bool    `json:"idle,omitempty"`
	Tasks     int     `json:"tasks"`
	RuntimeNS uint64  `json:"runtime_ns"`
	Share     float64 `json:"share"`
	// Bandwidth is present for a cgroup with a cpu.max quota.
	Bandwidth *CgroupBandwidth `json:"bandwidth,omitempty"`
}

// CgroupBandwidth is a cgroup's cpu.stat bandwidth figures at the end of
// the run, as the fair class tracked them.
type CgroupBandwidth struct {
	NrPeriods   uint64 `json:"nr_periods"`
	NrThrottled uint64 `json:"nr_throttled"`
	ThrottledUS uint64 `json:"throttled_usec"`
	NrBursts    uint64 `json:"nr_bursts"`
	BurstUS     uint64 `json:"burst_usec"`
}

// CPUResult is one CPU's figures.
type CPUResult struct {
	CPU         int     `json:"cpu"`
	BusyNS      uint64  `json:"busy_ns"`
	Utilization float64 `json:"utilization"`
	Switches    uint64  `json:"switches"`
	// Timeline is the utilization in each TimelineBinNS bin.
	Timeline []float64 `json:"timeline"`
}

// TaskResult is one task's figures (--json with tasks).
type TaskResult struct {
	PID         int32      `json:"pid"`
	Comm        string     `json:"comm"`
	Group       string     `json:"group"`
	Cgroup      string     `json:"cgroup"`
	Weight      uint32     `json:"weight"`
	StartNS     uint64     `json:"start_ns"`
	EndNS       *uint64    `json:"end_ns,omitempty"`
	RuntimeNS   uint64     `json:"runtime_ns"`
	WorkNS      uint64     `json:"work_ns"`
	WaitMean    float64    `json:"wait_mean_ns"`
	WaitMax     uint64     `json:"wait_max_ns"`
	Wakeups     int64      `json:"wakeups"`
	WakeupMean  float64    `json:"wakeup_latency_mean_ns"`
	WakeupMax   uint64     `json:"wakeup_latency_max_ns"`
	Voluntary   uint64     `json:"voluntary_switches"`
	Involuntary uint64     `json:"involuntary_switches"`
	Migrations  Migrations `json:"migrations"`
	Iterations  uint64     `json:"iterations"`
	Requests    uint64     `json:"requests"`
}

// SchedulerResult describes the scheduler's side of the run.
type SchedulerResult struct {
	Name string    `json:"name"`
	Kind string    `json:"kind"` // "fair", "go" or "bpf"
	Ops  []OpCount `json:"ops,omitempty"`
	// Exit is set when a sched_ext scheduler was ejected or exited.
	Exit *ExitInfo `json:"exit,omitempty"`
	// Log lists sched_ext state changes and messages.
	Log []string `json:"log,omitempty"`
	// Streams is the unread BPF stream output of each program that wrote
	// any (bpf_stream_printk, arena fault reports), in program name order.
	Streams []StreamOutput `json:"streams,omitempty"`
	// Printk lists the last bpf_printk/bpf_trace_printk lines, oldest first.
	Printk []string `json:"printk,omitempty"`
}

// StreamOutput is one BPF program's stdout and stderr stream text, with the
// number of messages each stream dropped because it was full.
type StreamOutput struct {
	Prog          string `json:"prog"`
	Stdout        string `json:"stdout,omitempty"`
	Stderr        string `json:"stderr,omitempty"`
	StdoutDropped int    `json:"stdout_dropped,omitempty"`
	StderrDropped int    `json:"stderr_dropped,omitempty"`
}

// OpCount is how often an op was called and, for BPF schedulers, how many
// instructions it executed.
type OpCount struct {
	Op           string  `json:"op"`
	Calls        uint64  `json:"calls"`
	Insns        uint64  `json:"insns,omitempty"`
	InsnsPerCall float64 `json:"insns_per_call,omitempty"`
}

// ExitInfo is struct scx_exit_info as the run ended it.
type ExitInfo struct {
	Kind   string `json:"kind"`
	Reason string `json:"reason,omitempty"`
	Msg    string `json:"msg,omitempty"`
	AtNS   uint64 `json:"at_ns"`
}
