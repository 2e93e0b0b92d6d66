package sched

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/scxsim/scxsim/kernel/topo"
)

// RQ is one CPU's runqueue (struct rq).
type RQ struct {
	CPU  int
	core *Core

	curr *Task
	idle *Task
	// nextClass is rq->next_class: the class of the task picked last,
	// raised by a wakeup of a higher class until the CPU schedules.
	nextClass Class
	// NrRunning counts the tasks queued on the rq, the running one
	// included (rq->nr_running).
	NrRunning int
	online    bool
	// needResched is TIF_NEED_RESCHED of the current task.
	needResched bool
	// dlActive counts the active deadline servers (fairServer,
	// extServer): the hot paths skip them when 0.
	dlActive uint8
	clock    uint64
	// NrSwitches counts context switches (rq->nr_switches).
	NrSwitches uint64

	fair fairRQ
	// Ext is the ext class's per-rq state (struct scx_rq).
	Ext any
	// draining is set while an offline CPU pushes its tasks away.
	draining bool

	rt rtRQ
	// fairServer and extServer are the deadline servers of the fair and
	// ext classes (rq->fair_server, rq->ext_server).
	fairServer, extServer dlServer
}

// Core returns the core the rq belongs to.
func (rq *RQ) Core() *Core { return rq.core }

// Curr returns the task running on the CPU (the idle task when idle).
func (rq *RQ) Curr() *Task { return rq.curr }

// Idle returns the CPU's idle task.
func (rq *RQ) Idle() *Task { return rq.idle }

// Online reports whether the CPU is online (cpu_active()).
func (rq *RQ) Online() bool { return rq.online }

// Clock returns rq_clock() as of the last update.
func (rq *RQ) Clock() uint64 { return rq.clock }

// UpdateClock sets rq_clock() to the host's time (update_rq_clock()).
func (rq *RQ) UpdateClock() uint64 {
	rq.clock = rq.core.host.Now()
	return rq.clock
}

// NextClass returns rq->next_class: the class the CPU runs or is about to
// run (a higher class that woke here raises it before the CPU schedules).
func (rq *RQ) NextClass() Class { return rq.nextClass }

// NeedResched reports whether a reschedule is pending on the CPU.
func (rq *RQ) NeedResched() bool { return rq.needResched }

// ChargeCurr charges p, rq's current task, for the time since it was last
// charged and returns that delta (the common part of update_curr()),
// also to the deadline server of p's class (dl_server_update()).
func (rq *RQ) ChargeCurr(p *Task) uint64 {
	d := rq.chargeCurr(p)
	if d != 0 && rq.dlActive != 0 {
		rq.chargeServer(p, d)
	}
	return d
}

// chargeCurr is ChargeCurr without the server, small enough to inline in
// the fair class's hot path, which charges the server itself.
func (rq *RQ) chargeCurr(p *Task) uint64 {
	now := rq.clock
	if now <= p.execStart {
		return 0
	}
	d := now - p.execStart
	p.execStart = now
	p.SumExecRuntime += d
	return d
}

// chargeServer charges d of p's run time to its class's deadline server.
func (rq *RQ) chargeServer(p *Task, d uint64) {
	if s := rq.serverFor(p.class); s != nil && s.active {
		s.consume(d)
	}
}

// Options tune the core.
type Options struct {
	// TickNS is the tick period (1/HZ); default 4 ms (HZ=250).
	TickNS uint64
	// BaseSliceNS is sysctl_sched_base_slice for the fair class; default
	// 750 us times 1+ilog2(min(cpus, 8)), as the kernel scales it.
	BaseSliceNS uint64
}

// Core is the scheduler core of one simulated machine.
type Core struct {
	m    *topo.Machine
	host Host
	opts Options
	rqs  []*RQ // by cpu id; nil for ids that are not possible

	fair *fairClass
	rt   *rtClass
	ext  Ext

	tasks   []*Task // live tasks in creation order; nil holes for dead ones
	taskIdx map[*Task]int
	holes   int
	byPID   map[int32]*Task
	nextPID int32

	active   topo.CPUMask
	possible topo.CPUMask
	idleMask topo.CPUMask // CPUs running their idle task
	root     *Cgroup
	nextCG   uint64
	distrib  int // cursor of cpumask_any_and_distribute()

	inSchedule int
	wakerCPU   int
	// enqExtra adds enqueue flags to the enqueue ending the current
	// changeTask (ENQUEUE_HEAD for a task losing priority).
	enqExtra int
}

// New builds the core for machine m. Every possible CPU gets a runqueue with
// its idle task running; online CPUs are active.
func New(m *topo.Machine, host Host, opts Options) *Core {
	if opts.TickNS == 0 {
		opts.TickNS = 4_000_000
	}
	if opts.BaseSliceNS == 0 {
		n := min(m.NumPossible(), 8)
		factor := uint64(1)
		for n > 1 {
			factor++
			n >>= 1
		}
		opts.BaseSliceNS = 750_000 * factor
	}
	c := &Core{
		m: m, host: host, opts: opts,
		rqs:      make([]*RQ, m.NrCPUIDs()),
		taskIdx:  map[*Task]int{},
		byPID:    map[int32]*Task{},
		nextPID:  1,
		active:   topo.NewCPUMask(m.NrCPUIDs()),
		idleMask: topo.NewCPUMask(m.NrCPUIDs()),
		root:     &Cgroup{ID: 1, Path: "/", Weight: 100, QuotaUS: ^uint64(0), PeriodUS: 100000},
		nextCG:   2,
		wakerCPU: -1,
	}
	c.fair = newFairClass(c)
	c.rt = &rtClass{core: c}
	c.possible = m.PossibleMask()
	for _, cpu := range m.CPUs() {
		rq := &RQ{CPU: cpu.ID, core: c, online: cpu.Online}
		rq.fair.init(rq)
		c.initServers(rq)
		idle := &Task{PID: 0, Comm: fmt.Sprintf("swapper/%d", cpu.ID), class: idleClassSingleton,
			cpu: cpu.ID, weight: Nice0Load, state: Runnable, cgroup: c.root, prio: DefaultPrio}
		idle.cpus = topo.NewCPUMask(m.NrCPUIDs())
		idle.cpus.Set(cpu.ID)
		idle.nrCPUs = 1
		rq.idle, rq.curr = idle, idle
		rq.nextClass = idleClassSingleton
		c.rqs[cpu.ID] = rq
		c.idleMask.Set(cpu.ID)
		if cpu.Online {
			c.active.Set(cpu.ID)
		}
	}
	return c
}

// SetExt installs the ext class (done by package kernel/scx).
func (c *Core) SetExt(x Ext) { c.ext = x }

// ExtClass returns the installed ext class, nil if none.
func (c *Core) ExtClass() Ext { return c.ext }

// FairClass returns the fair class.
func (c *Core) FairClass() Class { return c.fair }

// RTClass returns the RT class (SCHED_FIFO, SCHED_RR).
func (c *Core) RTClass() Class { return c.rt }

// Machine returns the simulated machine.
func (c *Core) Machine() *topo.Machine { return c.m }

// Host returns the engine interface.
func (c *Core) Host() Host { return c.host }

// Options returns the effective options.
func (c *Core) Options() Options { return c.opts }

// Now returns the host's virtual time.
func (c *Core) Now() uint64 { return c.host.Now() }

// NrCPUIDs is nr_cpu_ids.
func (c *Core) NrCPUIDs() int { return len(c.rqs) }

// RQ returns cpu's runqueue, nil for an id that is not possible.
func (c *Core) RQ(cpu int) *RQ {
	if cpu < 0 || cpu >= len(c.rqs) {
		return nil
	}
	return c.rqs[cpu]
}

// RQs returns the runqueues by cpu id (nil entries for ids that are not
// possible). The slice is shared; do not modify it.
func (c *Core) RQs() []*RQ { return c.rqs }

// Active returns cpu_active_mask. The mask is shared; do not modify it.
func (c *Core) Active() topo.CPUMask { return c.active }

// Tasks returns the live tasks (not yet dead) in creation order.
func (c *Core) Tasks() []*Task {
	out := make([]*Task, 0, len(c.tasks)-c.holes)
	for _, p := range c.tasks {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// ForEachTask calls fn for every live task in creation order.
func (c *Core) ForEachTask(fn func(p *Task)) {
	for _, p := range c.Tasks() {
		fn(p)
	}
}

// TaskByPID finds a live task.
func (c *Core) TaskByPID(pid int32) *Task { return c.byPID[pid] }

// RootCgroup returns the root cgroup.
func (c *Core) RootCgroup() *Cgroup { return c.root }

// Event reports e to the host, stamped with the current time.
func (c *Core) Event(e Event) {
	e.Time = c.host.Now()
	c.host.Event(e)
}

// classRank orders classes as the kernel links them (rt > fair > ext >
// idle): lower is higher priority.
func (c *Core) classRank(cl Class) int {
	switch {
	case cl == Class(c.rt):
		return 0
	case cl == Class(c.fair):
		return 1
	case cl == idleClassSingleton:
		return 3
	default:
		return 2
	}
}

// classAbove mirrors sched_class_above(a, b).
func (c *Core) classAbove(a, b Class) bool { return c.classRank(a) < c.classRank(b) }

// schedulerClass mirrors __setscheduler_class(): the class a task of this
// policy belongs to now.
func (c *Core) schedulerClass(pol Policy) Class {
	if pol == PolicyFIFO || pol == PolicyRR {
		return c.rt
	}
	if c.ext != nil && c.ext.ShouldSCX(pol) {
		return c.ext
	}
	return c.fair
}

// ReschedCurr mirrors resched_curr(): mark rq's current task for preemption
// and send the IPI.
func (c *Core) ReschedCurr(rq *RQ) {
	if rq.needResched {
		return
	}
	rq.needResched = true
	c.host.Resched(rq.CPU)
}

// TaskSpec describes a new task.
type TaskSpec struct {
	Comm   string
	Policy Policy
	Nice   int
	// CPUs is the affinity; nil means every possible CPU.
	CPUs topo.CPUMask
	// Cgroup; nil means the parent's (root for NewTask).
	Cgroup *Cgroup
	// CPU is where the task is created (the parent's CPU), -1 for the
	// first allowed active CPU.
	CPU int
	// RTPriority is sched_param.sched_priority: 1..99 for SCHED_FIFO and
	// SCHED_RR, 0 otherwise.
	RTPriority int
}

// ErrFork wraps a fork refused by a class hook.
var ErrFork = errors.New("fork failed")

// NewTask creates a task as a fork of init and wakes it up.
func (c *Core) NewTask(spec TaskSpec) (*Task, error) { return c.Fork(nil, spec) }

// Fork creates a child of parent (nil: no parent, spec as given) and wakes
// it up: copy_process()'s scheduler part and wake_up_new_task(). The child
// inherits the parent's policy, nice, affinity and cgroup unless spec sets
// them (a zero Policy/Nice in spec inherits when parent is not nil).
func (c *Core) Fork(parent *Task, spec TaskSpec) (*Task, error) {
	p := &Task{PID: c.nextPID, Comm: spec.Comm, policy: spec.Policy, nice: spec.Nice, state: Forked,
		rtPriority: spec.RTPriority}
	p.TGID = p.PID
	cpus := spec.CPUs
	cg := spec.Cgroup
	cpu := spec.CPU
	if parent != nil {
		if spec.Policy == 0 {
			p.policy = parent.policy
			if spec.RTPriority == 0 {
				p.rtPriority = parent.rtPriority
			}
		}
		if spec.Nice == 0 {
			p.nice = parent.nice
		}
		if cpus == nil {
			cpus = parent.cpus
		}
		if cg == nil {
			cg = parent.cgroup
		}
		if cpu < 0 {
			cpu = parent.cpu
		}
	}
	if p.Comm == "" {
		p.Comm = fmt.Sprintf("task%d", p.PID)
	}
	if err := checkParams(p.policy, p.rtPriority); err != nil {
		return nil, err
	}
	if p.nice < MinNice || p.nice > MaxNice {
		return nil, syscall.EINVAL
	}
	if cg == nil {
		cg = c.root
	}
	p.cgroup = cg
	p.cpus = topo.NewCPUMask(len(c.rqs))
	if cpus == nil {
		copy(p.cpus, c.m.PossibleMask())
	} else {
		copy(p.cpus, cpus)
		p.cpus.And(c.possible)
	}
	p.nrCPUs = p.cpus.Weight()
	if p.nrCPUs == 0 {
		return nil, syscall.EINVAL
	}
	if cpu < 0 || !c.isCPUAllowed(p, cpu) {
		cpu = c.anyAllowedActive(p)
		if cpu < 0 {
			return nil, syscall.EINVAL
		}
	}
	p.cpu = cpu
	c.setLoadWeight(p)
	p.prio = normalPrio(p.policy, p.rtPriority, p.nice)
	p.rt.savedIdx = -1
	// sched_fork(): class by policy, class fork hook.
	p.class = c.schedulerClass(p.policy)
	p.class.TaskFork(p)
	// sched_cgroup_fork() -> scx_fork().
	if c.ext != nil {
		if err := c.ext.Fork(p); err != nil {
			c.ext.CancelFork(p)
			return nil, fmt.Errorf("%w: %w", ErrFork, err)
		}
	}
	c.nextPID++
	c.taskIdx[p] = len(c.tasks)
	c.tasks = append(c.tasks, p)
	c.byPID[p.PID] = p
	// sched_post_fork()
	if c.ext != nil {
		c.ext.PostFork(p)
	}
	c.Event(Event{Kind: EvFork, CPU: p.cpu, Task: p, Prev: parent})
	c.wakeUpNewTask(p)
	return p, nil
}

func (c *Core) setLoadWeight(p *Task) {
	if p.policy == PolicyIdle {
		p.weight = WeightIdle
	} else {
		p.weight = NiceToWeight(p.nice)
	}
}

// wakeUpNewTask mirrors wake_up_new_task().
func (c *Core) wakeUpNewTask(p *Task) {
	p.state = Runnable
	wf := WFFork
	cpu := c.selectTaskRQ(p, p.cpu, &wf)
	if cpu != p.cpu {
		c.setTaskCPU(p, cpu)
	}
	rq := c.rqs[p.cpu]
	rq.UpdateClock()
	c.activateTask(rq, p, EnqueueNoClock|EnqueueInitial)
	c.wakeupPreempt(rq, p, WFFork)
	if p.class == Class(c.rt) {
		c.rt.taskWoken(rq, p)
	}
}

func (c *Core) isCPUAllowed(p *Task, cpu int) bool {
	return p.cpus.Test(cpu) && c.active.Test(cpu)
}

func (c *Core) anyAllowedActive(p *Task) int {
	for i := range p.cpus {
		if w := p.cpus[i] & c.active[i]; w != 0 {
			for b := 0; b < 64; b++ {
				if w&(1<<b) != 0 {
					return i*64 + b
				}
			}
		}
	}
	return -1
}

// selectTaskRQ mirrors select_task_rq().
func (c *Core) selectTaskRQ(p *Task, cpu int, wf *int) int {
	if p.nrCPUs > 1 && !p.MigrationDisabled() {
		cpu = p.class.SelectTaskRQ(p, cpu, *wf)
		*wf |= WFRQSelected
	} else {
		cpu = p.cpus.First()
	}
	if cpu < 0 || cpu >= len(c.rqs) || !c.isCPUAllowed(p, cpu) {
		cpu = c.selectFallbackRQ(p.cpu, p)
	}
	return cpu
}

// selectFallbackRQ mirrors select_fallback_rq(): an allowed active CPU on
// cpu's node, then any allowed active CPU, then widen the affinity to every
// possible CPU.
func (c *Core) selectFallbackRQ(cpu int, p *Task) int {
	if cc, ok := c.m.CPU(cpu); ok && cc.Node >= 0 {
		for _, n := range c.m.NodeCPUs(cc.Node) {
			if c.isCPUAllowed(p, n) {
				return n
			}
		}
	}
	if d := c.anyAllowedActive(p); d >= 0 {
		return d
	}
	// cpuset_cpus_allowed_fallback(): no longer affine.
	c.Event(Event{Kind: EvPolicy, CPU: cpu, Task: p,
		Msg: fmt.Sprintf("process %d (%s) no longer affine to cpu%d", p.PID, p.Comm, cpu)})
	all := c.m.PossibleMask()
	c.doSetCPUsAllowed(p, all)
	return c.anyAllowedActive(p)
}

// setTaskCPU mirrors set_task_cpu().
func (c *Core) setTaskCPU(p *Task, cpu int) {
	if p.cpu == cpu {
		return
	}
	p.class.MigrateTaskRQ(p, cpu)
	from := p.cpu
	p.cpu = cpu
	p.NrMigrations++
	c.Event(Event{Kind: EvMigrate, CPU: cpu, Task: p, Arg: int64(from)})
}

// activateTask mirrors activate_task().
func (c *Core) activateTask(rq *RQ, p *Task, flags int) {
	p.onRQ = true
	rq.NrRunning++
	p.runnableSince = rq.clock
	p.class.Enqueue(rq, p, flags)
	c.serverCount(rq, p.class, 1)
}

// deactivateTask mirrors deactivate_task().
func (c *Core) deactivateTask(rq *RQ, p *Task, flags int) {
	if rq.curr == p {
		p.class.UpdateCurr(rq)
	}
	p.class.Dequeue(rq, p, flags)
	p.onRQ = false
	rq.NrRunning--
	c.serverCount(rq, p.class, -1)
}

// EnqueueTask and DequeueTask expose enqueue_task()/dequeue_task() with
// the on-rq accounting to classes that move tasks between runqueues.
func (c *Core) EnqueueTask(rq *RQ, p *Task, flags int) { c.activateTask(rq, p, flags) }

// DequeueTask: see EnqueueTask.
func (c *Core) DequeueTask(rq *RQ, p *Task, flags int) { c.deactivateTask(rq, p, flags) }

// wakeupPreempt mirrors wakeup_preempt(): the class the CPU is about to
// run decides between tasks of its own; a higher class tells it that it is
// being preempted, reschedules and becomes the next class.
func (c *Core) wakeupPreempt(rq *RQ, p *Task, wf int) {
	nc := rq.nextClass
	if p.class == nc {
		nc.WakeupPreempt(rq, p, wf)
	} else if c.classAbove(p.class, nc) {
		nc.WakeupPreempt(rq, p, wf)
		c.ReschedCurr(rq)
		rq.nextClass = p.class
	}
}

// WakeupPreempt exposes wakeup_preempt() to classes that queue a task on a
// runqueue outside the core's wakeup paths.
func (c *Core) WakeupPreempt(rq *RQ, p *Task, wf int) { c.wakeupPreempt(rq, p, wf) }

// Wake mirrors try_to_wake_up() for a sleeping task; wakeFlags may add
// WFSync. It returns false if p was not sleeping. The waker's CPU is not
// known (an interrupt or another machine); see WakeFrom.
func (c *Core) Wake(p *Task, wakeFlags int) bool { return c.WakeFrom(p, wakeFlags, -1) }

// WakerCPU returns the CPU the current wakeup runs on (smp_processor_id()
// in try_to_wake_up()), -1 outside a wakeup or when unknown.
func (c *Core) WakerCPU() int { return c.wakerCPU }

// WakeFrom is Wake run on CPU wakerCPU (the waker's CPU, which a
// WF_SYNC wakeup may pull the wakee to); -1 if unknown.
func (c *Core) WakeFrom(p *Task, wakeFlags int, wakerCPU int) bool {
	if p.state != Sleeping {
		return false
	}
	c.wakerCPU = wakerCPU
	defer func() { c.wakerCPU = -1 }()
	wf := WFTTWU | (wakeFlags &^ (WFTTWU | WFFork | WFMigrated | WFRQSelected))
	p.state = Runnable
	cpu := c.selectTaskRQ(p, p.cpu, &wf)
	if cpu != p.cpu {
		wf |= WFMigrated
		c.setTaskCPU(p, cpu)
	}
	rq := c.rqs[p.cpu]
	rq.UpdateClock()
	en := EnqueueWakeup | EnqueueNoClock
	if wf&WFMigrated != 0 {
		en |= EnqueueMigrated
	}
	if wf&WFRQSelected != 0 {
		en |= EnqueueRQSelected
	}
	c.activateTask(rq, p, en)
	c.Event(Event{Kind: EvWakeup, CPU: p.cpu, Task: p})
	c.wakeupPreempt(rq, p, wf)
	if p.class == Class(c.rt) {
		c.rt.taskWoken(rq, p)
	}
	return true
}

func (c *Core) currentOf(p *Task) (*RQ, error) {
	if p == nil || p.state == Dead || p.cpu < 0 || p.cpu >= len(c.rqs) {
		return nil, syscall.ESRCH
	}
	rq := c.rqs[p.cpu]
	if rq == nil || rq.curr != p {
		return nil, fmt.Errorf("task %s is not running: %w", p, syscall.EINVAL)
	}
	return rq, nil
}

// Block makes p, which must be running, sleep and schedules its CPU
// (set_current_state(TASK_INTERRUPTIBLE); schedule()).
func (c *Core) Block(p *Task) error {
	rq, err := c.currentOf(p)
	if err != nil {
		return err
	}
	p.state = Sleeping
	c.Event(Event{Kind: EvBlock, CPU: rq.CPU, Task: p})
	c.schedule(rq, false)
	return nil
}

// Exit makes p, which must be running, exit: do_exit() sets PF_EXITING,
// the final schedule switches away and the task is dead.
func (c *Core) Exit(p *Task) error {
	rq, err := c.currentOf(p)
	if err != nil {
		return err
	}
	p.Exiting = true
	p.state = Dead
	c.schedule(rq, false)
	return nil
}

// Yield mirrors sched_yield() by p, which must be running.
func (c *Core) Yield(p *Task) error {
	rq, err := c.currentOf(p)
	if err != nil {
		return err
	}
	rq.UpdateClock()
	p.class.Yield(rq)
	c.schedule(rq, false)
	return nil
}

// YieldTo mirrors yield_to(): running task p yields to target, which must
// be queued and not running; true if the class accepted, ESRCH when both
// CPUs have nothing else to run.
func (c *Core) YieldTo(p, target *Task) (bool, error) {
	rq, err := c.currentOf(p)
	if err != nil {
		return false, err
	}
	if target == nil || target.state == Dead || target.cpu < 0 || target.cpu >= len(c.rqs) {
		return false, syscall.ESRCH
	}
	trq := c.rqs[target.cpu]
	if rq.NrRunning == 1 && trq.NrRunning == 1 {
		return false, syscall.ESRCH
	}
	if target.class != p.class || trq.curr == target || !target.onRQ {
		return false, nil
	}
	rq.UpdateClock()
	ok := p.class.YieldTo(rq, target)
	if ok {
		if trq != rq {
			c.ReschedCurr(trq)
		}
		c.schedule(rq, true)
	}
	return ok, nil
}

// Tick mirrors sched_tick() on cpu.
func (c *Core) Tick(cpu int) {
	rq := c.RQ(cpu)
	if rq == nil {
		return
	}
	rq.UpdateClock()
	curr := rq.curr
	curr.class.TaskTick(rq, curr)
	if c.ext != nil {
		c.ext.Tick(rq)
	}
	c.fair.balanceTick(rq)
}

// TickNS is the tick period the engine should drive Tick with.
func (c *Core) TickNS() uint64 { return c.opts.TickNS }

// Schedule runs the scheduler on cpu (__schedule(SM_PREEMPT)): the engine
// calls it when a resched it was asked for is delivered. Calling it with
// no resched pending is harmless.
func (c *Core) Schedule(cpu int) {
	rq := c.RQ(cpu)
	if rq == nil {
		return
	}
	c.schedule(rq, true)
}

// schedule mirrors __schedule().
func (c *Core) schedule(rq *RQ, preempt bool) {
	c.inSchedule++
	defer func() { c.inSchedule-- }()
	prev := rq.curr
	rq.UpdateClock()
	if !preempt && prev.state != Runnable && prev.onRQ {
		c.deactivateTask(rq, prev, DequeueSleep|DequeueNoClock)
	}
	// An offline CPU keeps nothing, and a running task whose affinity
	// left its CPU moves. The kernel's stopper (migration_cpu_stop(),
	// balance_push()) preempts it first: put_prev_task() with the task
	// still queued. Then it is moved as a queued task, and the CPU picks
	// with the stopper, not the task, as the previous one.
	var pushPrev, prevPut bool
	if prev != rq.idle && prev.onRQ && (!rq.online || (prev.pendingMigration && !prev.cpus.Test(rq.CPU))) {
		prev.pendingMigration = false
		prev.class.PutPrev(rq, prev, nil)
		prevPut = true
		rq.curr = rq.idle
		prev.migrating = true
		c.deactivateTask(rq, prev, DequeueNoClock|DequeueMigrating)
		prev.migrating = false
		pushPrev = true
	}
	next := c.pickNextTask(rq, prev, prevPut)
	rq.nextClass = next.class
	rq.needResched = false
	if next != prev {
		rq.curr = next
		rq.NrSwitches++
		next.NrSwitches++
		next.LastSwitchIn = rq.clock
		if next.runnableSince != 0 && rq.clock > next.runnableSince {
			next.WaitTime += rq.clock - next.runnableSince
		}
		next.runnableSince = 0
		if prev.state == Runnable && prev.onRQ && prev != rq.idle {
			c.Event(Event{Kind: EvPreempt, CPU: rq.CPU, Task: prev})
		}
		c.Event(Event{Kind: EvSwitch, CPU: rq.CPU, Task: next, Prev: prev})
		if prev.onRQ && prev.state == Runnable {
			prev.runnableSince = rq.clock
		}
		if prev.state == Dead {
			c.finishDead(prev)
		}
	}
	if pushPrev {
		c.pushAway(prev)
	}
	// The push set_next_task_rt() queues as a balance callback.
	if next != prev && next.class == Class(c.rt) && rq.rt.overload {
		c.rt.pushTasks(rq)
	}
}

// pickNextTask mirrors pick_next_task() -> __pick_next_task(): balance
// from prev's class (from ext when sched_ext is enabled and prev's class
// is below it), pick from the highest class with a task, then
// put_prev_set_next_task() (without the put when prevPut: prev was put
// already).
func (c *Core) pickNextTask(rq *RQ, prev *Task, prevPut bool) *Task {
	// prev_balance()
	start := prev.class
	if c.ext != nil && c.ext.Enabled() && c.classAbove(c.ext, start) {
		start = c.ext
	}
	classes := c.classes()
	for i := c.classRank(start); i < len(classes); i++ {
		if classes[i] != nil && classes[i].Balance(rq, prev) {
			break
		}
	}
	var next *Task
	if rq.dlActive != 0 {
		next = c.serverPick(rq)
	}
	for _, cl := range classes {
		if next != nil {
			break
		}
		if cl == nil {
			continue
		}
		next = cl.PickTask(rq)
	}
	if next == nil {
		next = rq.idle
	}
	if next != prev {
		if !prevPut {
			prev.class.PutPrev(rq, prev, next)
		}
		next.class.SetNext(rq, next, true)
	}
	return next
}

func (c *Core) classes() [4]Class {
	var ext Class
	if c.ext != nil {
		ext = c.ext
	}
	return [4]Class{c.rt, c.fair, ext, idleClassSingleton}
}

func (c *Core) finishDead(p *Task) {
	p.class.TaskDead(p)
	if c.ext != nil {
		c.ext.Dead(p)
	}
	if i, ok := c.taskIdx[p]; ok {
		// Leave a hole; compact once half the slots are holes, so exits
		// cost O(1) amortized and creation order is kept.
		c.tasks[i] = nil
		delete(c.taskIdx, p)
		c.holes++
		if c.holes > 32 && c.holes*2 > len(c.tasks) {
			live := c.tasks[:0]
			for _, q := range c.tasks {
				if q != nil {
					c.taskIdx[q] = len(live)
					live = append(live, q)
				}
			}
			clear(c.tasks[len(live):])
			c.tasks = live
			c.holes = 0
		}
	}
	delete(c.byPID, p.PID)
	c.Event(Event{Kind: EvExit, CPU: p.cpu, Task: p})
}

// pushAway re-activates a task taken off an offline CPU on a fallback CPU.
func (c *Core) pushAway(p *Task) {
	dst := c.distribute(p)
	if dst < 0 {
		dst = c.selectFallbackRQ(p.cpu, p)
	}
	c.setTaskCPU(p, dst)
	drq := c.rqs[dst]
	drq.UpdateClock()
	p.migrating = true
	c.activateTask(drq, p, EnqueueNoClock|EnqueueMigrating)
	p.migrating = false
	c.wakeupPreempt(drq, p, 0)
}

// migrateQueued mirrors move_queued_task() to an allowed active CPU
// (cpumask_any_and_distribute() over the affinity).
func (c *Core) migrateQueued(p *Task) {
	dst := c.distribute(p)
	if dst < 0 {
		dst = c.selectFallbackRQ(p.cpu, p)
	}
	c.MoveQueuedTask(p, dst)
}

// MoveQueuedTask mirrors move_queued_task(): a queued, not running task
// moves to dst's runqueue.
func (c *Core) MoveQueuedTask(p *Task, dst int) {
	src := c.rqs[p.cpu]
	src.UpdateClock()
	p.migrating = true
	c.deactivateTask(src, p, DequeueNoClock|DequeueMigrating)
	c.setTaskCPU(p, dst)
	drq := c.rqs[dst]
	drq.UpdateClock()
	c.activateTask(drq, p, EnqueueNoClock|EnqueueMigrating)
	p.migrating = false
	c.wakeupPreempt(drq, p, 0)
}

func (c *Core) distribute(p *Task) int {
	n := len(c.rqs)
	for i := 0; i < n; i++ {
		cpu := (c.distrib + 1 + i) % n
		if c.isCPUAllowed(p, cpu) {
			c.distrib = cpu
			return cpu
		}
	}
	return -1
}

// Requeue cycles p through dequeue and enqueue (with deqFlags and
// ENQUEUE_RESTORE) without changing anything, as scx_bypass() does to move
// queued tasks to the DSQs the new mode dictates.
func (c *Core) Requeue(p *Task, deqFlags int) {
	if p.state == Dead || p.state == Forked || p.state == Sleeping {
		return
	}
	c.changeTask(p, deqFlags, func(*RQ) {})
}

// SetTaskCPU mirrors set_task_cpu() for a task the caller took off its
// runqueue.
func (c *Core) SetTaskCPU(p *Task, cpu int) { c.setTaskCPU(p, cpu) }

// Migrating reports task_on_rq_migrating(p): p is being moved between
// runqueues (the dequeue/enqueue pair is not a sleep/wakeup).
func (p *Task) Migrating() bool { return p.migrating }

// changeTask runs fn with p taken off its runqueue and out of the running
// slot, as the kernel's sched_change guard does: dequeue with deqFlags if
// queued, put_prev if running, fn, enqueue with RESTORE, set_next.
func (c *Core) changeTask(p *Task, deqFlags int, fn func(rq *RQ)) {
	rq := c.rqs[p.cpu]
	rq.UpdateClock()
	queued := p.onRQ
	running := rq.curr == p
	if queued {
		c.deactivateTask(rq, p, deqFlags|DequeueNoClock)
	}
	if running {
		p.class.PutPrev(rq, p, p)
	}
	fn(rq)
	if queued {
		enq := EnqueueRestore | EnqueueNoClock
		if deqFlags&DequeueMove != 0 {
			enq |= EnqueueMove
		}
		enq |= c.enqExtra
		c.activateTask(rq, p, enq)
	}
	c.enqExtra = 0
	if running {
		p.class.SetNext(rq, p, false)
	}
}

// SetCPUsAllowedCommon mirrors set_cpus_allowed_common(): store the mask.
func (c *Core) SetCPUsAllowedCommon(p *Task, mask topo.CPUMask) {
	copy(p.cpus, mask)
	for i := len(mask); i < len(p.cpus); i++ {
		p.cpus[i] = 0
	}
	p.cpus.And(c.possible)
	p.nrCPUs = p.cpus.Weight()
}

// doSetCPUsAllowed mirrors do_set_cpus_allowed().
func (c *Core) doSetCPUsAllowed(p *Task, mask topo.CPUMask) {
	if p.state == Sleeping || p.state == Forked {
		p.class.SetCPUsAllowed(p, mask)
		return
	}
	c.changeTask(p, DequeueSave, func(rq *RQ) { p.class.SetCPUsAllowed(p, mask) })
}

// SetAffinity mirrors sched_setaffinity() -> __set_cpus_allowed_ptr():
// EINVAL when mask has no active CPU; a queued task on a CPU it may no
// longer use moves right away, a running one as soon as it is switched out
// (the stopper's job in the kernel: its CPU is asked to reschedule).
func (c *Core) SetAffinity(p *Task, mask topo.CPUMask) error {
	if p == nil || p.state == Dead || p.PID == 0 {
		return syscall.ESRCH
	}
	m := topo.NewCPUMask(len(c.rqs))
	copy(m, mask)
	m.And(c.m.PossibleMask())
	act := topo.NewCPUMask(len(c.rqs))
	copy(act, m)
	act.And(c.active)
	if act.Empty() {
		return syscall.EINVAL
	}
	c.doSetCPUsAllowed(p, m)
	if p.cpus.Test(p.cpu) || !p.onRQ {
		return nil
	}
	rq := c.rqs[p.cpu]
	if rq.curr == p {
		p.pendingMigration = true
		c.ReschedCurr(rq)
		return nil
	}
	c.migrateQueued(p)
	return nil
}

// SetNice mirrors set_user_nice().
func (c *Core) SetNice(p *Task, nice int) error {
	if p == nil || p.state == Dead || p.PID == 0 {
		return syscall.ESRCH
	}
	if nice < MinNice || nice > MaxNice {
		return syscall.EINVAL
	}
	if p.nice == nice {
		return nil
	}
	old := p.weight
	apply := func(rq *RQ) {
		p.nice = nice
		p.prio = normalPrio(p.policy, p.rtPriority, p.nice)
		c.setLoadWeight(p)
		if p.weight != old {
			p.class.Reweight(rq, p, old)
		}
	}
	if p.state == Sleeping || p.state == Forked {
		apply(c.rqs[p.cpu])
		return nil
	}
	c.changeTask(p, DequeueSave, apply)
	c.checkPreemptAfterChange(p)
	return nil
}

// checkPreemptAfterChange resched the CPU of a queued task whose
// attributes changed, as prio_changed does for a task that may now win.
func (c *Core) checkPreemptAfterChange(p *Task) {
	if !p.onRQ {
		return
	}
	rq := c.rqs[p.cpu]
	if rq.curr == p {
		return
	}
	c.wakeupPreempt(rq, p, 0)
}

// SetPolicy is SetScheduler with priority 0: the policies other than
// SCHED_FIFO and SCHED_RR.
func (c *Core) SetPolicy(p *Task, pol Policy) error { return c.SetScheduler(p, pol, 0) }

// SetScheduler mirrors sched_setscheduler(): EINVAL for an unknown policy,
// a priority outside 1..99 for SCHED_FIFO/SCHED_RR or not 0 for the
// others. Switching to SCHED_EXT moves the task to the ext class when a
// scheduler is loaded (partial mode) and leaves it on fair otherwise;
// SCHED_FIFO/SCHED_RR move it to the RT class whatever the ext class does.
func (c *Core) SetScheduler(p *Task, pol Policy, rtPriority int) error {
	if p == nil || p.state == Dead || p.PID == 0 {
		return syscall.ESRCH
	}
	if err := checkParams(pol, rtPriority); err != nil {
		return err
	}
	if pol == p.policy && rtPriority == p.rtPriority {
		return nil
	}
	if c.ext != nil {
		if err := c.ext.CheckSetscheduler(p, pol); err != nil {
			return err
		}
	}
	oldPrio := p.prio
	prevClass := p.class
	c.changeClass(p, func(rq *RQ) {
		old := p.weight
		p.policy = pol
		p.rtPriority = rtPriority
		p.prio = normalPrio(pol, rtPriority, p.nice)
		if oldPrio < p.prio && rq != nil && (pol == PolicyFIFO || pol == PolicyRR) {
			// An RT task losing priority goes to the head of its
			// new list, as __sched_setscheduler() queues it (the
			// flag is not passed to the other classes here).
			c.enqExtra = EnqueueHead
		}
		c.setLoadWeight(p)
		// set_load_weight(p, true): the current class reweights.
		if rq != nil {
			p.class.Reweight(rq, p, old)
		}
	})
	// prio_changed() within the RT class.
	if p.class == prevClass && p.class == Class(c.rt) && p.prio != oldPrio && p.state == Runnable {
		c.rt.prioChanged(c.rqs[p.cpu], p, oldPrio)
	}
	return nil
}

// Reclass re-evaluates p's class (after the ext class changed state) and
// moves it, with the kernel's switching_to/switched_from/switched_to
// sequence. Used by the ext class when enabling and disabling.
func (c *Core) Reclass(p *Task) { c.changeClass(p, func(*RQ) {}) }

// changeClass runs update with p off its runqueue (rq is nil for a task
// not on any: dead or not yet woken), then moves p to the class its policy
// now calls for.
func (c *Core) changeClass(p *Task, update func(rq *RQ)) {
	if p.state == Dead || p.state == Forked {
		update(nil)
		p.class = c.schedulerClass(p.policy)
		return
	}
	prevClass := p.class
	var rqp *RQ
	c.changeTask(p, DequeueSave|DequeueMove, func(rq *RQ) {
		rqp = rq
		update(rq)
		nc := c.schedulerClass(p.policy)
		if nc != prevClass {
			nc.SwitchingTo(rq, p)
			p.class = nc
		}
	})
	if p.class != prevClass {
		prevClass.SwitchedFrom(rqp, p)
		p.class.SwitchedTo(rqp, p)
		c.Event(Event{Kind: EvPolicy, CPU: p.cpu, Task: p, Msg: p.class.Name()})
		if p.onRQ && rqp.curr != p {
			c.wakeupPreempt(rqp, p, 0)
		} else if rqp.curr == p {
			// sched_change_end(): a promotion tells the old class it
			// got preempted.
			if c.classAbove(p.class, rqp.nextClass) {
				rqp.nextClass.WakeupPreempt(rqp, p, 0)
				rqp.nextClass = p.class
			}
			c.ReschedCurr(rqp)
		}
	}
}

// SetOnline mirrors CPU hotplug: sched_cpu_activate() brings cpu up,
// sched_cpu_deactivate() + sched_cpu_dying() take it down, moving every
// task queued there to other CPUs.
func (c *Core) SetOnline(cpu int, online bool) error {
	rq := c.RQ(cpu)
	if rq == nil {
		return syscall.ENODEV
	}
	if rq.online == online {
		return nil
	}
	if !online && c.active.Weight() == 1 {
		return syscall.EBUSY
	}
	if err := c.m.SetOnline(cpu, online); err != nil {
		return err
	}
	rq.UpdateClock()
	if online {
		c.active.Set(cpu)
		rq.online = true
		c.fair.RQOnline(rq)
		if c.ext != nil {
			c.ext.RQOnline(rq)
			c.ext.Hotplug(rq, true)
		}
		c.Event(Event{Kind: EvOnline, CPU: cpu, Arg: 1})
		return nil
	}
	if c.ext != nil {
		c.ext.Hotplug(rq, false)
	}
	c.active.Clear(cpu)
	rq.online = false
	c.fair.RQOffline(rq)
	if c.ext != nil {
		c.ext.RQOffline(rq)
	}
	// Push queued tasks away, then switch the running one out.
	for _, p := range c.queuedOn(rq) {
		if p == rq.curr {
			continue
		}
		dst := c.selectFallbackRQ(cpu, p)
		c.MoveQueuedTask(p, dst)
	}
	if rq.curr != rq.idle {
		c.schedule(rq, true)
	}
	c.Event(Event{Kind: EvOnline, CPU: cpu, Arg: 0})
	return nil
}

// queuedOn lists the tasks queued on rq, in task creation order.
func (c *Core) queuedOn(rq *RQ) []*Task {
	var out []*Task
	for _, p := range c.tasks {
		if p != nil && p.onRQ && p.cpu == rq.CPU {
			out = append(out, p)
		}
	}
	return out
}

// NewCgroup creates a child cgroup of parent (root when nil) with default
// weight and bandwidth; the ext class may refuse it.
func (c *Core) NewCgroup(parent *Cgroup, name string) (*Cgroup, error) {
	if parent == nil {
		parent = c.root
	}
	path := parent.Path + name
	if parent.Path != "/" {
		path = parent.Path + "/" + name
	}
	cg := &Cgroup{ID: c.nextCG, Path: path, Parent: parent, Level: parent.Level + 1,
		Weight: 100, PeriodUS: 100000, QuotaUS: ^uint64(0)}
	if c.ext != nil {
		if err := c.ext.CgroupOnline(cg); err != nil {
			return nil, err
		}
	}
	c.nextCG++
	return cg, nil
}

// RemoveCgroup takes cg offline (it must hold no task).
func (c *Core) RemoveCgroup(cg *Cgroup) error {
	for _, p := range c.tasks {
		if p != nil && p.cgroup == cg {
			return syscall.EBUSY
		}
	}
	if c.ext != nil {
		c.ext.CgroupOffline(cg)
	}
	c.fair.cgroupRemove(cg)
	return nil
}

// MoveCgroup moves p to cgroup to: cpu_cgroup_can_attach() (the ext class
// may refuse), then sched_move_task() with p dequeued.
func (c *Core) MoveCgroup(p *Task, to *Cgroup) error {
	if p == nil || p.state == Dead || p.PID == 0 {
		return syscall.ESRCH
	}
	from := p.cgroup
	if from == to {
		return nil
	}
	if c.ext != nil {
		if err := c.ext.CgroupCanAttach(p, from, to); err != nil {
			return err
		}
	}
	move := func(*RQ) {
		if c.ext != nil {
			c.ext.CgroupMove(p, from, to)
		}
		if p.class == Class(c.fair) {
			c.fair.taskMoveGroup(p, from, to)
		}
		p.cgroup = to
	}
	if p.state == Sleeping || p.state == Forked {
		move(nil)
		return nil
	}
	c.changeTask(p, DequeueSave|DequeueMove, move)
	// sched_move_task(): a running task may have joined a throttled
	// group, so its CPU reschedules; a queued one may now be runnable on
	// a CPU that idles with only throttled tasks.
	if p.class == Class(c.fair) && p.onRQ {
		rq := c.rqs[p.cpu]
		if rq.curr == p {
			c.ReschedCurr(rq)
		} else {
			c.wakeupPreempt(rq, p, 0)
		}
	}
	return nil
}

// SetCgroupWeight sets cpu.weight (EINVAL while cpu.idle is set, as the
// kernel refuses). The ext class sees the old values in cg during the
// call (as the kernel compares before storing).
func (c *Core) SetCgroupWeight(cg *Cgroup, weight uint32) error {
	if weight < 1 || weight > 10000 {
		return syscall.ERANGE
	}
	if cg.Idle {
		// sched_group_set_shares() refuses an idle group's weight.
		return syscall.EINVAL
	}
	if c.ext != nil {
		c.ext.CgroupSetWeight(cg, weight)
	}
	cg.Weight = weight
	c.fair.cgroupSetWeight(cg, weight)
	return nil
}

// SetCgroupBandwidth sets cpu.max and cpu.max.burst.
func (c *Core) SetCgroupBandwidth(cg *Cgroup, periodUS, quotaUS, burstUS uint64) error {
	if c.ext != nil {
		c.ext.CgroupSetBandwidth(cg, periodUS, quotaUS, burstUS)
	}
	cg.PeriodUS, cg.QuotaUS, cg.BurstUS = periodUS, quotaUS, burstUS
	c.fair.cgroupSetBandwidth(cg)
	return nil
}

// SetCgroupIdle sets cpu.idle.
func (c *Core) SetCgroupIdle(cg *Cgroup, idle bool) error {
	if c.ext != nil {
		c.ext.CgroupSetIdle(cg, idle)
	}
	cg.Idle = idle
	c.fair.cgroupSetIdle(cg, idle)
	return nil
}

// MigrateDisable and MigrateEnable mirror migrate_disable() /
// migrate_enable() for the running task p.
func (c *Core) MigrateDisable(p *Task) { p.migrationDisabled++ }

// MigrateEnable: see MigrateDisable.
func (c *Core) MigrateEnable(p *Task) {
	if p.migrationDisabled > 0 {
		p.migrationDisabled--
	}
}

// ClassAbove mirrors sched_class_above(a, b).
func (c *Core) ClassAbove(a, b Class) bool { return c.classAbove(a, b) }

// SetExecStart sets the time p's execution is charged from (a class's
// set_next_task does this).
func (p *Task) SetExecStart(t uint64) { p.execStart = t }

// ExecStart returns when p's current execution was last charged from.
func (p *Task) ExecStart() uint64 { return p.execStart }
