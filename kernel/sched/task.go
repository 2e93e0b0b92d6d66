package sched

import (
	"fmt"
	"syscall"

	"github.com/scxsim/scxsim/kernel/topo"
)

// Policy is a task's scheduling policy (SCHED_*).
type Policy int

// Scheduling policies of include/uapi/linux/sched.h the core supports.
const (
	PolicyNormal Policy = 0 // SCHED_NORMAL
	PolicyFIFO   Policy = 1 // SCHED_FIFO
	PolicyRR     Policy = 2 // SCHED_RR
	PolicyBatch  Policy = 3 // SCHED_BATCH
	PolicyIdle   Policy = 5 // SCHED_IDLE
	PolicyExt    Policy = 7 // SCHED_EXT
)

func (p Policy) String() string {
	switch p {
	case PolicyNormal:
		return "SCHED_NORMAL"
	case PolicyFIFO:
		return "SCHED_FIFO"
	case PolicyRR:
		return "SCHED_RR"
	case PolicyBatch:
		return "SCHED_BATCH"
	case PolicyIdle:
		return "SCHED_IDLE"
	case PolicyExt:
		return "SCHED_EXT"
	}
	return fmt.Sprintf("policy(%d)", int(p))
}

// normalPrio mirrors normal_prio(): 99-rt_priority for the RT policies,
// 120+nice otherwise.
func normalPrio(pol Policy, rtPriority, nice int) int {
	if pol == PolicyFIFO || pol == PolicyRR {
		return MaxRTPrio - 1 - rtPriority
	}
	return DefaultPrio + nice
}

// checkParams mirrors the checks of __sched_setscheduler(): a known
// policy, rt_priority 1..99 for SCHED_FIFO/SCHED_RR and 0 for the others.
func checkParams(pol Policy, rtPriority int) error {
	switch pol {
	case PolicyNormal, PolicyBatch, PolicyIdle, PolicyExt, PolicyFIFO, PolicyRR:
	default:
		return syscall.EINVAL
	}
	if rtPriority < 0 || rtPriority > MaxRTPrio-1 {
		return syscall.EINVAL
	}
	if (pol == PolicyFIFO || pol == PolicyRR) != (rtPriority != 0) {
		return syscall.EINVAL
	}
	return nil
}

// State is a task's run state (task_struct.__state).
type State int

const (
	// Runnable is TASK_RUNNING: queued on a runqueue or running.
	Runnable State = iota
	// Sleeping is TASK_INTERRUPTIBLE: blocked, waiting for a wakeup.
	Sleeping
	// Dead is TASK_DEAD: exited.
	Dead
	// Forked is a task between fork and wake_up_new_task().
	Forked
)

func (s State) String() string {
	return [...]string{"R", "S", "X", "N"}[s]
}

// Weight constants of kernel/sched.
const (
	Nice0Load  = 1024 // NICE_0_LOAD at the scale scheduling uses
	MinNice    = -20
	MaxNice    = 19
	WeightIdle = 3 // WEIGHT_IDLEPRIO, the weight of SCHED_IDLE tasks
)

// prioToWeight is sched_prio_to_weight[]: nice -20..19 to load weight, each
// step about 1.25x.
var prioToWeight = [40]uint32{
	88761, 71755, 56483, 46273, 36291,
	29154, 23254, 18705, 14949, 11916,
	9548, 7620, 6100, 4904, 3906,
	3121, 2501, 1991, 1586, 1277,
	1024, 820, 655, 526, 423,
	335, 272, 215, 172, 137,
	110, 87, 70, 56, 45,
	36, 29, 23, 18, 15,
}

// NiceToWeight returns the load weight of a nice value (clamped to
// [MinNice, MaxNice]).
func NiceToWeight(nice int) uint32 {
	nice = min(max(nice, MinNice), MaxNice)
	return prioToWeight[nice-MinNice]
}

// Task is a task_struct as the scheduler sees it.
type Task struct {
	PID  int32
	TGID int32
	Comm string

	policy Policy
	nice   int
	weight uint32 // load weight (set_load_weight())

	// cpus is p->cpus_ptr / cpus_mask; nrCPUs its weight.
	cpus   topo.CPUMask
	nrCPUs int
	// migrationDisabled counts migrate_disable() nesting.
	migrationDisabled int

	cgroup *Cgroup

	state State
	onRQ  bool // task_on_rq_queued()
	cpu   int  // task_cpu()
	class Class

	// Exiting is PF_EXITING: set at the start of do_exit().
	Exiting bool

	// SumExecRuntime is the total CPU time used, in ns.
	SumExecRuntime uint64
	execStart      uint64
	// NrSwitches counts the times the task was switched in;
	// NrMigrations the times its CPU changed.
	NrSwitches   uint64
	NrMigrations uint64
	// LastSwitchIn is when the task last started running.
	LastSwitchIn uint64
	// WaitTime sums the time spent runnable but not running, in ns.
	WaitTime      uint64
	runnableSince uint64

	fair fairEntity

	// Ext is the sched_ext entity (struct sched_ext_entity), owned by the
	// ext class (package kernel/scx).
	Ext any
	// Priv is free for the embedder (the engine's per-task state, the
	// adapter's task_struct mirror).
	Priv any

	pendingMigration bool
	migrating        bool

	// rtPriority is p->rt_priority; prio is p->prio (= normal_prio, no
	// priority inheritance).
	rtPriority int
	prio       int
	rt         rtEntity
}

// Policy returns the scheduling policy.
func (p *Task) Policy() Policy { return p.policy }

// RTPriority returns p->rt_priority: 1..99 for SCHED_FIFO/SCHED_RR, else 0.
func (p *Task) RTPriority() int { return p.rtPriority }

// Prio returns p->prio: 99-rt_priority for an RT task, 120+nice
// otherwise (the idle tasks' is 120). Lower is more important.
func (p *Task) Prio() int { return p.prio }

// Nice returns the nice value.
func (p *Task) Nice() int { return p.nice }

// Weight returns the load weight (p->se.load.weight scaled down,
// sched_prio_to_weight[] units; WeightIdle for SCHED_IDLE).
func (p *Task) Weight() uint32 { return p.weight }

// CPU returns task_cpu(p): the CPU the task runs or is queued on, or last ran.
func (p *Task) CPU() int { return p.cpu }

// State returns the run state.
func (p *Task) State() State { return p.state }

// OnRQ reports task_on_rq_queued(p).
func (p *Task) OnRQ() bool { return p.onRQ }

// Class returns the scheduling class the task is in.
func (p *Task) Class() Class { return p.class }

// Cgroup returns the task's cgroup.
func (p *Task) Cgroup() *Cgroup { return p.cgroup }

// CPUsAllowed returns p->cpus_ptr. The mask is shared; do not modify it.
func (p *Task) CPUsAllowed() topo.CPUMask { return p.cpus }

// NrCPUsAllowed returns p->nr_cpus_allowed.
func (p *Task) NrCPUsAllowed() int { return p.nrCPUs }

// MigrationDisabled reports is_migration_disabled(p).
func (p *Task) MigrationDisabled() bool { return p.migrationDisabled > 0 }

// Allowed reports whether p may run on cpu (cpumask_test_cpu(cpu, p->cpus_ptr)).
func (p *Task) Allowed(cpu int) bool { return p.cpus.Test(cpu) }

// IsIdleTask reports whether p is a CPU's idle task (pid 0).
func (p *Task) IsIdleTask() bool { return p.class == idleClassSingleton }

func (p *Task) String() string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s[%d]", p.Comm, p.PID)
}

// Cgroup is a cgroup of the cpu controller as the scheduler sees it.
type Cgroup struct {
	ID     uint64
	Path   string
	Parent *Cgroup
	Level  int
	// Weight is cpu.weight [1..10000], default 100.
	Weight uint32
	// Bandwidth from cpu.max and cpu.max.burst, in us; QuotaUS is
	// math.MaxUint64 for "max".
	PeriodUS, QuotaUS, BurstUS uint64
	// Idle is cpu.idle.
	Idle bool
	// Priv is free for the embedder (the adapter's struct cgroup mirror).
	Priv any
	// Ext is the ext class's per-cgroup state.
	Ext any

	// fair is the fair class's task group (created on first use).
	fair *taskGroup
}
