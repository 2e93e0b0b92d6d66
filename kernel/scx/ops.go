package scx

import (
	"github.com/scxsim/scxsim/bpf/arena"
	"github.com/scxsim/scxsim/kernel/cmask"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/topo"
)

// Task is the task type ops receive.
type Task = sched.Task

// Cgroup is the cgroup type ops receive.
type Cgroup = sched.Cgroup

// Form says which ops struct a scheduler registers: struct sched_ext_ops
// (cpu numbers) or struct sched_ext_ops_cid (cids, cmasks).
type Form int

const (
	FormCPU Form = iota // bpf_sched_ext_ops
	FormCid             // bpf_sched_ext_ops_cid
)

func (f Form) String() string {
	if f == FormCid {
		return "cid"
	}
	return "cpu"
}

// InitTaskArgs is struct scx_init_task_args.
type InitTaskArgs struct {
	Fork   bool    // called on the fork path
	Cgroup *Cgroup // the cgroup the task is joining
}

// ExitTaskArgs is struct scx_exit_task_args.
type ExitTaskArgs struct {
	Cancelled bool // the task exited before running on sched_ext
}

// CgroupInitArgs is struct scx_cgroup_init_args.
type CgroupInitArgs struct {
	Weight                           uint32
	BWPeriodUS, BWQuotaUS, BWBurstUS uint64
}

// CPUReleaseArgs is struct scx_cpu_release_args.
type CPUReleaseArgs struct {
	Reason CPUPreemptReason
	Task   *Task // the task about to run
}

// DumpCtx is struct scx_dump_ctx.
type DumpCtx struct {
	Kind      ExitKind
	ExitCode  int64
	Reason    string
	AtNS      uint64
	AtJiffies uint64
}

// CmaskArg is the cmask ops.set_cmask() receives: a view of the scratch
// cmask in the scheduler's arena and its arena address (what a BPF
// program is handed).
type CmaskArg struct {
	Mask cmask.Mask
	Addr uint64 // BPF arena address (kernel-view offset under the arena's user base)
}

// Ops describes a scheduler: struct sched_ext_ops (Form FormCPU) or struct
// sched_ext_ops_cid (Form FormCid). A nil function is an absent op, as a
// NULL member in C. In cid-form every cpu argument and return value is a
// cid (SelectCPU is select_cid, Dispatch/UpdateIdle/DumpCPU/CPUOnline/
// CPUOffline take cids), SetCmask replaces SetCPUMask and the Cgroup* ops
// are the cpuctl_* ops; the core translates at the boundary as
// scx_cpu_arg()/scx_cpu_ret() do. CPUAcquire/CPURelease exist only in
// cpu-form.
type Ops struct {
	Form Form

	SelectCPU       func(p *Task, prevCPU int32, wakeFlags uint64) int32
	Enqueue         func(p *Task, enqFlags uint64)
	Dequeue         func(p *Task, deqFlags uint64)
	Dispatch        func(cpu int32, prev *Task)
	Tick            func(p *Task)
	Runnable        func(p *Task, enqFlags uint64)
	Running         func(p *Task)
	Stopping        func(p *Task, runnable bool)
	Quiescent       func(p *Task, deqFlags uint64)
	Yield           func(from, to *Task) bool
	CoreSchedBefore func(a, b *Task) bool
	SetWeight       func(p *Task, weight uint32)
	SetCPUMask      func(p *Task, cpus topo.CPUMask) // cpu-form only
	SetCmask        func(p *Task, m CmaskArg)        // cid-form only
	UpdateIdle      func(cpu int32, idle bool)
	InitTask        func(p *Task, args InitTaskArgs) int32
	ExitTask        func(p *Task, args ExitTaskArgs)
	Enable          func(p *Task)
	Disable         func(p *Task)
	Dump            func(ctx *DumpCtx)
	DumpCPU         func(ctx *DumpCtx, cpu int32, idle bool)
	DumpTask        func(ctx *DumpCtx, p *Task)

	CgroupInit         func(cg *Cgroup, args CgroupInitArgs) int32
	CgroupExit         func(cg *Cgroup)
	CgroupPrepMove     func(p *Task, from, to *Cgroup) int32
	CgroupMove         func(p *Task, from, to *Cgroup)
	CgroupCancelMove   func(p *Task, from, to *Cgroup)
	CgroupSetWeight    func(cg *Cgroup, weight uint32)
	CgroupSetBandwidth func(cg *Cgroup, periodUS, quotaUS, burstUS uint64)
	CgroupSetIdle      func(cg *Cgroup, idle bool)

	CPUOnline  func(cpu int32)
	CPUOffline func(cpu int32)
	InitCids   func() int32 // cid-form only
	Init       func() int32
	Exit       func(info *ExitInfo)

	CPUAcquire func(cpu int32)                      // cpu-form only, deprecated
	CPURelease func(cpu int32, args CPUReleaseArgs) // cpu-form only, deprecated

	// SubAttach and SubDetach are ops.sub_attach/sub_detach. scxsim
	// attaches no sub-schedulers, so they are never called; their
	// presence only matters to scx_validate_ops() (cid-form only).
	SubAttach func(cgroupPath string) int32
	SubDetach func(cgroupPath string)

	DispatchMaxBatch uint32
	Flags            uint64
	TimeoutMS        uint32
	ExitDumpLen      uint32
	HotplugSeq       uint64
	CidShardSize     uint32
	// RescueBandwidthPPT and RescueQuantumUS are the rescue knobs of
	// sub-scheduling; only their limits are checked.
	RescueBandwidthPPT uint32
	RescueQuantumUS    uint32
	SubCgroupID        uint64
	Name               string

	// Arenas lists, per member program, the arena it uses (nil for a
	// program without one): the kernel's view of prog->aux->arena across
	// the struct_ops map's programs. A cid-form scheduler needs exactly
	// one distinct arena. Go schedulers list the arena they allocate from.
	Arenas []*arena.Arena

	// ArenaActor names the program on whose behalf the kernel touches the
	// arena while preparing an op's arguments (the set_cmask cmask), so a
	// fault lands on that program's BPF stream. nil attributes the access
	// to the scheduler by name, with no stream.
	ArenaActor func(op string) arena.OnBehalf
}

// opName lists the ops the core may call, for the kfunc context rules and
// for messages; cid-form names are used for a cid-form scheduler.
func (o *Ops) opName(cpuName string) string {
	if o.Form != FormCid {
		return cpuName
	}
	switch cpuName {
	case "select_cpu":
		return "select_cid"
	case "set_cpumask":
		return "set_cmask"
	case "dump_cpu":
		return "dump_cid"
	case "cpu_online":
		return "cid_online"
	case "cpu_offline":
		return "cid_offline"
	}
	if len(cpuName) > 7 && cpuName[:7] == "cgroup_" {
		return "cpuctl_" + cpuName[7:]
	}
	return cpuName
}
