// Package engine is scxsim's discrete-event simulator: a virtual
// nanosecond clock, one ordered event queue, and the driver that feeds the
// scheduling core (kernel/sched, with kernel/scx for sched_ext) the calls
// the kernel's entry points would make: ticks at HZ, wakeups when sleeps
// and timers expire, reschedule IPIs after a latency, blocking, forking and
// exiting as the tasks' programs (package sim/workload) say.
//
// The engine implements sched.Host. It never calls the core from inside a
// Host callback: reschedules, timers and follow-ups are queued as events.
// Everything runs on one goroutine and every random draw comes from one
// generator seeded by Config.Seed, so a run is a pure function of its
// configuration.
//
// Machine effects (context-switch cost, IPI and idle-exit latency, SMT
// slowdown, cache warm-up after migration, capacity and cpuperf scaling)
// are described on Effects.
package engine

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/metrics"
	"github.com/scxsim/scxsim/sim/trace"
	"github.com/scxsim/scxsim/sim/workload"
)

// Scheduler is what runs tasks: the fair class alone (Fair), or a
// sched_ext scheduler the implementation attaches to the core.
type Scheduler interface {
	// Name and Kind ("fair", "go", "bpf") describe it in reports.
	Name() string
	Kind() string
	// Attach installs the scheduler on core before any task exists.
	Attach(core *sched.Core) error
	// Finish fills the scheduler's part of the results at the end.
	Finish(res *metrics.SchedulerResult)
}

// Fair is the built-in weighted-fair class with no sched_ext scheduler.
type Fair struct{}

// Name implements Scheduler.
func (Fair) Name() string { return "fair" }

// Kind implements Scheduler.
func (Fair) Kind() string { return "fair" }

// Attach implements Scheduler.
func (Fair) Attach(*sched.Core) error { return nil }

// Finish implements Scheduler.
func (Fair) Finish(*metrics.SchedulerResult) {}

// Config is one run.
type Config struct {
	Machine *topo.Machine
	// Topology describes the machine in reports.
	Topology string
	Workload *workload.Workload
	// WorkloadName describes the workload in reports (default its Name).
	WorkloadName string
	// Scheduler defaults to Fair.
	Scheduler Scheduler
	// Duration is the simulated time to run, in ns. The run ends earlier
	// when every task has exited and nothing more can start.
	Duration uint64
	Seed     uint64
	// HZ is the tick rate (default 1000, as the CLI and the Go API).
	HZ int
	// Effects; the zero value means DefaultEffects().
	Effects Effects
	// TimelineBins is the number of utilization bins per CPU (default 100).
	TimelineBins int
	// TaskDetail adds per-task results.
	TaskDetail bool
	// Trace, when set, receives the run's scheduling events.
	Trace *trace.Writer
	// Progress, when set, is called now and then with the simulated time
	// and the end time.
	Progress func(now, end uint64)
}

type blockKind uint8

const (
	bNone blockKind = iota
	bSleep
	bWait
	bBarrier
	bFork
	bServe
	bLock
	bCond
)

type frame struct {
	ops  []workload.Op
	pc   int
	left int
}

type timerState struct {
	name string
	next uint64
}

type request struct {
	arrival uint64
	work    uint64
}

// task is the engine's state of one simulated task.
type task struct {
	st     *sched.Task
	rec    *metrics.TaskRec
	g      *group
	idx    int
	frames []frame
	iter   int
	iterAt uint64

	inPhase bool
	scaled  bool
	remain  float64
	gen     uint32
	sgen    uint32

	blocked blockKind
	tokens  int
	need    int
	timers  []timerState
	born    uint64 // creation time: every timer's first base (rt-app's t_first)
	cpu     int    // CPU running it, -1 when not running
	lastCPU int    // CPU it last ran on, -1 before its first run
	parent  *task
	kids    int
	relock  string
	req     *request
	rr      int
	exited  bool
}

type group struct {
	idx    int
	w      *workload.Group
	rec    int
	tasks  []*task
	policy sched.Policy
	cpus   topo.CPUMask
	cg     *sched.Cgroup
}

type cpuState struct {
	id       int
	curr     *task
	segStart uint64
	overhead uint64
	speed    float64
	sibs     []int
	tickOn   bool
	nrTrack  int
}

type barrier struct {
	users, arrived int
	waiters        []*task
}

type mutex struct {
	owner   *task
	waiters []*task
}

type pool struct {
	queue []*request
	head  int
	idle  []*task
}

// Engine is one simulation. Build it with New, run it with Run.
type Engine struct {
	cfg  Config
	fx   Effects
	m    *topo.Machine
	core *sched.Core
	rng  *rand.Rand
	rec  *metrics.Recorder
	tr   *trace.Writer

	now    uint64
	end    uint64
	q      queue
	ctx    int // CPU whose event is being handled, -1 for none
	tickNS uint64
	events uint64

	cpus     []*cpuState // by cpu id; nil for ids not possible
	groups   []*group
	cgroups  map[string]*sched.Cgroup
	barriers map[string]*barrier
	mutexes  map[string]*mutex
	conds    map[string][]*task
	pools    map[string]*pool

	live          int
	pendingStarts int
	openArrivals  int
	forking       *group
	forkParent    *task
	irqCPU        int

	// boot is each CPU's state when the run began: a scheduler's
	// cpuperf setting and hotplug change the shared Machine, and Run
	// puts it back so the next run on it starts the same.
	boot []topo.CPU

	warnings []string
	err      error
	exitInfo *metrics.ExitInfo
	extLog   []string
}

// New prepares a run: builds the core, attaches the scheduler and creates
// the cgroups. Tasks start when Run runs.
func New(cfg Config) (*Engine, error) {
	if cfg.Machine == nil {
		return nil, errors.New("engine: no machine")
	}
	if cfg.Workload == nil {
		return nil, errors.New("engine: no workload")
	}
	if cfg.Duration == 0 {
		return nil, errors.New("engine: duration must be positive")
	}
	if cfg.Scheduler == nil {
		cfg.Scheduler = Fair{}
	}
	if cfg.HZ == 0 {
		cfg.HZ = 1000
	}
	if cfg.HZ < 1 || cfg.HZ > 10000 {
		return nil, fmt.Errorf("engine: HZ %d out of range [1, 10000]", cfg.HZ)
	}
	if cfg.Effects == (Effects{}) {
		cfg.Effects = DefaultEffects()
	}
	if err := cfg.Effects.Validate(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	if cfg.TimelineBins == 0 {
		cfg.TimelineBins = 100
	}
	if err := cfg.Workload.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		cfg: cfg, fx: cfg.Effects, m: cfg.Machine, tr: cfg.Trace,
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		end:      cfg.Duration,
		ctx:      -1,
		tickNS:   uint64(1_000_000_000 / cfg.HZ),
		cgroups:  map[string]*sched.Cgroup{},
		barriers: map[string]*barrier{},
		mutexes:  map[string]*mutex{},
		conds:    map[string][]*task{},
		pools:    map[string]*pool{},
	}
	e.boot = append([]topo.CPU(nil), e.m.CPUs()...)
	e.core = sched.New(e.m, e, sched.Options{TickNS: e.tickNS})
	e.rec = metrics.NewRecorder(e.m.NrCPUIDs(), cfg.Duration, cfg.TimelineBins)
	e.cpus = make([]*cpuState, e.m.NrCPUIDs())
	for _, c := range e.m.CPUs() {
		cs := &cpuState{id: c.ID}
		for _, s := range e.m.Siblings(c.ID) {
			if s != c.ID {
				cs.sibs = append(cs.sibs, s)
			}
		}
		e.cpus[c.ID] = cs
		if e.tr != nil {
			cs.nrTrack = e.tr.CounterTrack(fmt.Sprintf("cpu%d nr_running", c.ID))
		}
	}
	if err := cfg.Scheduler.Attach(e.core); err != nil {
		e.restoreMachine()
		return nil, err
	}
	if err := e.setup(); err != nil {
		e.restoreMachine()
		return nil, err
	}
	return e, nil
}

// Core returns the scheduling core (for tests and schedulers that want to
// look at it).
func (e *Engine) Core() *sched.Core { return e.core }

func policyOf(s string) sched.Policy {
	switch s {
	case "batch":
		return sched.PolicyBatch
	case "idle":
		return sched.PolicyIdle
	case "ext":
		return sched.PolicyExt
	case "fifo":
		return sched.PolicyFIFO
	case "rr":
		return sched.PolicyRR
	}
	return sched.PolicyNormal
}

func (e *Engine) maskOf(cpus []int, what string) (topo.CPUMask, error) {
	if cpus == nil {
		return nil, nil
	}
	m := topo.NewCPUMask(e.m.NrCPUIDs())
	for _, c := range cpus {
		if e.m.Possible(c) {
			m.Set(c)
		}
	}
	if m.Empty() {
		return nil, fmt.Errorf("%s: cpus %s: none of them exists on this machine (cpus 0-%d)", what, topo.FormatCPUList(cpus), e.m.NrCPUIDs()-1)
	}
	return m, nil
}

func (e *Engine) setup() error {
	w := e.cfg.Workload
	e.cgroups["/"] = e.core.RootCgroup()
	e.cgroups[""] = e.core.RootCgroup()
	for _, c := range w.Cgroups {
		parent := e.cgroups[parentOf(c.Path)]
		name := c.Path[len(parentOf(c.Path)):]
		if parentOf(c.Path) != "/" {
			name = name[1:]
		} else {
			name = c.Path[1:]
		}
		cg, err := e.core.NewCgroup(parent, name)
		if err != nil {
			return fmt.Errorf("cgroup %s: %w", c.Path, err)
		}
		if c.Idle {
			// cpu.idle replaces the weight (the parser refuses both).
			if err := e.core.SetCgroupIdle(cg, true); err != nil {
				return fmt.Errorf("cgroup %s: cpu.idle: %w", c.Path, err)
			}
		} else if err := e.core.SetCgroupWeight(cg, c.Weight); err != nil {
			return fmt.Errorf("cgroup %s: weight %d: %w", c.Path, c.Weight, err)
		}
		quota := uint64(math.MaxUint64)
		if c.QuotaUS > 0 {
			quota = c.QuotaUS
		}
		period := c.PeriodUS
		if period == 0 {
			period = 100000
		}
		if err := e.core.SetCgroupBandwidth(cg, period, quota, c.BurstUS); err != nil {
			return fmt.Errorf("cgroup %s: cpu.max: %w", c.Path, err)
		}
		e.cgroups[c.Path] = cg
		if c.QuotaUS > 0 {
			// A limited cgroup is listed even without tasks of its
			// own: its cpu.stat figures bound its children.
			e.rec.AddCgroup(c.Path)
		}
	}
	for i, g := range w.Groups {
		gs := &group{idx: i, w: g, rec: e.rec.AddGroup(g.Name), policy: policyOf(g.Policy), cg: e.cgroups[g.Cgroup]}
		m, err := e.maskOf(g.CPUs, "group "+g.Name)
		if err != nil {
			return err
		}
		gs.cpus = m
		e.groups = append(e.groups, gs)
		if g.Count > 0 {
			e.pendingStarts++
			e.q.push(event{at: g.Start, kind: evStart, cpu: int32(i)})
		}
	}
	for name, n := range w.BarrierUsers() {
		e.barriers[name] = &barrier{users: n}
	}
	for i, a := range w.Arrivals {
		if e.pools[a.Pool] == nil {
			e.pools[a.Pool] = &pool{}
		}
		e.openArrivals++
		e.q.push(event{at: a.Start + a.Interval.Sample(e.rng), kind: evArrival, cpu: int32(i), gen: 0})
	}
	return nil
}

func parentOf(p string) string {
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return "/"
}

// Now implements sched.Host.
func (e *Engine) Now() uint64 { return e.now }

// Resched implements sched.Host: the request reaches cpu after the IPI
// latency (none for the CPU handling the current event, unless idle) plus
// the idle-exit latency if cpu is idle.
func (e *Engine) Resched(cpu int) {
	c := e.cpus[cpu]
	var lat uint64
	if cpu != e.ctx {
		lat += e.fx.IPILatencyNS
	}
	if c.curr == nil {
		lat += e.fx.IdleExitNS
	}
	e.q.push(event{at: e.now + lat, kind: evResched, cpu: int32(cpu)})
}

// ArmTimer implements sched.Host.
func (e *Engine) ArmTimer(at uint64, fn func()) {
	e.q.push(event{at: max(at, e.now), kind: evHostTimer, fn: fn})
}

// later runs fn as an event at the current time, outside any core call.
func (e *Engine) later(fn func()) { e.q.push(event{at: e.now, kind: evHostTimer, fn: fn}) }

// Event implements sched.Host.
func (e *Engine) Event(ev sched.Event) {
	switch ev.Kind {
	case sched.EvSwitch:
		e.onSwitch(ev.CPU, ev.Prev, ev.Task)
	case sched.EvWakeup:
		if t := taskOf(ev.Task); t != nil {
			e.rec.Runnable(t.rec, e.now, true)
			if e.tr != nil {
				e.tr.Waking(e.now, e.traceCPU(ev.CPU), info(ev.Task), ev.CPU)
				e.nrCounter(ev.CPU)
			}
		}
	case sched.EvFork:
		if e.forking == nil {
			return
		}
		t := e.newTask(ev.Task, e.forking, e.forkParent)
		e.rec.Runnable(t.rec, e.now, true)
		if e.tr != nil {
			e.tr.WakeupNew(e.now, e.traceCPU(ev.CPU), info(ev.Task), ev.CPU)
		}
	case sched.EvExit:
		if t := taskOf(ev.Task); t != nil {
			e.onExit(t, ev.CPU, false)
		}
	case sched.EvExtError:
		if e.exitInfo == nil {
			e.exitInfo = &metrics.ExitInfo{Kind: "error", Msg: ev.Msg, AtNS: e.now}
		}
		e.extLog = append(e.extLog, fmt.Sprintf("%.6f: %s", float64(e.now)/1e9, ev.Msg))
	case sched.EvExt:
		e.extLog = append(e.extLog, fmt.Sprintf("%.6f: %s", float64(e.now)/1e9, ev.Msg))
	}
}

func (e *Engine) traceCPU(fallback int) int {
	if e.ctx >= 0 {
		return e.ctx
	}
	return fallback
}

func taskOf(p *sched.Task) *task {
	if p == nil {
		return nil
	}
	t, _ := p.Priv.(*task)
	return t
}

func info(p *sched.Task) trace.Task {
	if p == nil || p.IsIdleTask() {
		cpu := 0
		if p != nil {
			cpu = p.CPU()
		}
		return trace.Task{Comm: fmt.Sprintf("swapper/%d", cpu), PID: 0, Prio: 120}
	}
	return trace.Task{Comm: p.Comm, PID: p.PID, Prio: int32(p.Prio())}
}

func (e *Engine) nrCounter(cpu int) {
	if rq := e.core.RQ(cpu); rq != nil {
		e.tr.Counter(e.now, e.cpus[cpu].nrTrack, float64(rq.NrRunning))
	}
}

// speedOf is the rate at which cpu does reference work now.
func (e *Engine) speedOf(cpu int) float64 {
	c, _ := e.m.CPU(cpu)
	s := float64(c.Capacity) / topo.CapacityScale * float64(c.Perf) / topo.CapacityScale
	for _, sib := range e.cpus[cpu].sibs {
		if sc := e.cpus[sib]; sc != nil && sc.curr != nil {
			s *= e.fx.SMTFactor
			break
		}
	}
	if s <= 0 {
		s = 1.0 / topo.CapacityScale
	}
	return s
}

// account brings the progress of c's task up to now.
func (e *Engine) account(c *cpuState) {
	t := c.curr
	if t == nil {
		return
	}
	el := e.now - c.segStart
	c.segStart = e.now
	if el <= c.overhead {
		c.overhead -= el
		return
	}
	el -= c.overhead
	c.overhead = 0
	if !t.inPhase {
		return
	}
	done := float64(el)
	if t.scaled {
		done *= c.speed
	}
	done = min(done, t.remain)
	t.remain -= done
	if t.scaled {
		e.rec.Work(t.rec, uint64(math.Round(done)))
	}
}

// armPhase queues the end of c's task's current phase (or, with no phase,
// the moment it continues its program) at the current speed.
func (e *Engine) armPhase(c *cpuState) {
	t := c.curr
	t.gen++
	at := e.now + c.overhead
	if t.inPhase {
		d := t.remain
		if t.scaled {
			d /= c.speed
		}
		at += uint64(math.Ceil(d))
	}
	e.q.push(event{at: at, kind: evPhaseEnd, t: t, gen: t.gen})
}

func (e *Engine) onSwitch(cpu int, prev, next *sched.Task) {
	c := e.cpus[cpu]
	wasBusy := c.curr != nil
	if pt := c.curr; pt != nil {
		e.account(c)
		pt.gen++
		pt.cpu = -1
		pt.lastCPU = cpu
		runnable := prev != nil && prev.State() == sched.Runnable && prev.OnRQ()
		e.rec.SwitchOut(pt.rec, e.now, runnable, prev != nil && prev.State() == sched.Dead)
		c.curr = nil
	}
	if nt := taskOf(next); nt != nil {
		over := e.fx.ContextSwitchNS
		if nt.lastCPU >= 0 && nt.lastCPU != cpu {
			d := distance(e.m, nt.lastCPU, cpu)
			e.rec.Migrated(nt.rec, d)
			over += e.fx.warmup(d)
		}
		c.curr = nt
		nt.cpu = cpu
		c.segStart = e.now
		c.overhead = over
		c.speed = e.speedOf(cpu)
		e.rec.SwitchIn(nt.rec, cpu, e.now)
		e.armPhase(c)
		if !c.tickOn {
			c.tickOn = true
			e.q.push(event{at: (e.now/e.tickNS + 1) * e.tickNS, kind: evTick, cpu: int32(cpu)})
		}
	}
	if wasBusy != (c.curr != nil) {
		for _, s := range c.sibs {
			sc := e.cpus[s]
			if sc == nil || sc.curr == nil {
				continue
			}
			e.account(sc)
			if sp := e.speedOf(s); sp != sc.speed {
				sc.speed = sp
				e.armPhase(sc)
			}
		}
	}
	if e.tr != nil {
		var state int64
		if prev != nil && !prev.IsIdleTask() {
			switch prev.State() {
			case sched.Sleeping:
				state = trace.StateSleeping
			case sched.Dead:
				state = trace.StateDead
			}
		}
		e.tr.Switch(e.now, cpu, info(prev), state, info(next))
		e.nrCounter(cpu)
	}
}

func (e *Engine) newTask(p *sched.Task, g *group, parent *task) *task {
	t := &task{st: p, g: g, idx: len(g.tasks), cpu: -1, lastCPU: -1, parent: parent, iterAt: e.now, born: e.now}
	t.frames = []frame{{ops: g.w.Program, left: -1}}
	cg := "/"
	if p.Cgroup() != nil {
		cg = p.Cgroup().Path
	}
	t.rec = e.rec.NewTask(p.PID, p.Comm, g.rec, cg, p.Weight(), e.now)
	p.Priv = t
	g.tasks = append(g.tasks, t)
	e.live++
	if parent != nil {
		parent.kids++
	}
	if e.tr != nil {
		ppid := int32(0)
		if parent != nil {
			ppid = parent.st.PID
		}
		e.tr.Thread(p.PID, ppid, p.Comm)
	}
	return t
}

// spawn creates one task of g; parent is the forking task or nil.
func (e *Engine) spawn(g *group, parent *task) error {
	comm := fmt.Sprintf("%s-%d", g.w.Name, len(g.tasks))
	if len(comm) > 15 {
		comm = comm[len(comm)-15:]
	}
	spec := sched.TaskSpec{Comm: comm, Policy: g.policy, RTPriority: g.w.RTPrio, Nice: g.w.Nice, CPUs: g.cpus, Cgroup: g.cg, CPU: -1}
	if parent != nil && parent.cpu >= 0 && (g.cpus == nil || g.cpus.Test(parent.cpu)) {
		spec.CPU = parent.cpu
	}
	e.forking, e.forkParent = g, parent
	p, err := e.core.Fork(nil, spec)
	e.forking, e.forkParent = nil, nil
	if err != nil {
		return fmt.Errorf("group %s: fork: %w", g.w.Name, err)
	}
	if p.Priv == nil {
		// The core reported no fork event; set the task up anyway.
		t := e.newTask(p, g, parent)
		e.rec.Runnable(t.rec, e.now, true)
	}
	return nil
}

// onExit records t's exit and wakes a parent waiting for its children;
// now says the caller may wake it at once (t's own exit path), rather than
// after the event being handled.
func (e *Engine) onExit(t *task, cpu int, now bool) {
	if t.exited {
		return
	}
	t.exited = true
	e.rec.Exit(t.rec, e.now)
	e.live--
	if e.tr != nil {
		e.tr.Exit(e.now, cpu, info(t.st))
	}
	if p := t.parent; p != nil {
		p.kids--
		if p.kids == 0 && p.blocked == bFork {
			if now {
				e.wake(p, bFork)
			} else {
				e.later(func() { e.wake(p, bFork) })
			}
		}
	}
}

// restoreMachine puts back the CPUs' performance levels and online
// states the run began with.
func (e *Engine) restoreMachine() {
	for _, c := range e.boot {
		if now, _ := e.m.CPU(c.ID); now.Perf != c.Perf {
			_ = e.m.SetPerf(c.ID, c.Perf)
		}
		if now, _ := e.m.CPU(c.ID); now.Online != c.Online {
			_ = e.m.SetOnline(c.ID, c.Online)
		}
	}
}

// Run runs the simulation to the end and returns the results. The
// machine's CPUs are left as the run found them.
func (e *Engine) Run() (*metrics.Results, error) {
	defer e.restoreMachine()
	stop := "duration"
	for e.q.len() > 0 {
		if e.q.peek().at >= e.end {
			break
		}
		ev := e.q.pop()
		e.now = ev.at
		e.events++
		e.dispatch(&ev)
		if e.err != nil {
			return nil, e.err
		}
		if e.live == 0 && e.pendingStarts == 0 && e.openArrivals == 0 {
			stop = "all tasks exited"
			e.end = e.now
			break
		}
		if e.cfg.Progress != nil && e.events&0xffff == 0 {
			e.cfg.Progress(e.now, e.end)
		}
	}
	if stop == "duration" && e.q.len() == 0 {
		stop = "no more events"
	}
	e.now = e.end
	for _, c := range e.cpus {
		if c != nil && c.curr != nil {
			e.account(c)
		}
	}
	if e.cfg.Progress != nil {
		e.cfg.Progress(e.end, e.end)
	}
	return e.results(stop), nil
}

func (e *Engine) dispatch(ev *event) {
	switch ev.kind {
	case evTick:
		c := e.cpus[ev.cpu]
		if c.curr == nil {
			c.tickOn = false
			return
		}
		e.ctx = int(ev.cpu)
		e.core.Tick(int(ev.cpu))
		if c.curr != nil {
			// cpuperf may have changed.
			if sp := e.speedOf(c.id); sp != c.speed {
				e.account(c)
				c.speed = sp
				e.armPhase(c)
			}
		}
		e.q.push(event{at: e.now + e.tickNS, kind: evTick, cpu: ev.cpu})
	case evResched:
		e.ctx = int(ev.cpu)
		e.core.Schedule(int(ev.cpu))
	case evPhaseEnd:
		t := ev.t
		if ev.gen != t.gen || t.cpu < 0 {
			return
		}
		c := e.cpus[t.cpu]
		e.ctx = t.cpu
		e.account(c)
		if t.inPhase && t.remain >= 0.5 {
			e.armPhase(c)
			return
		}
		t.inPhase = false
		if t.req != nil {
			e.rec.Request(t.rec, e.now-t.req.arrival)
			t.req = nil
		}
		e.advance(t)
	case evSleepEnd:
		t := ev.t
		if ev.gen != t.sgen {
			return
		}
		e.ctx = t.st.CPU()
		e.wake(t, bSleep)
	case evHostTimer:
		e.ctx = -1
		ev.fn()
	case evArrival:
		e.ctx = -1
		e.arrival(int(ev.cpu), int(ev.gen))
	case evStart:
		e.ctx = -1
		g := e.groups[ev.cpu]
		e.pendingStarts--
		for i := 0; i < g.w.Count; i++ {
			if err := e.spawn(g, nil); err != nil {
				e.err = err
				return
			}
		}
	}
}

func (e *Engine) arrival(i, n int) {
	a := &e.cfg.Workload.Arrivals[i]
	p := e.pools[a.Pool]
	p.queue = append(p.queue, &request{arrival: e.now, work: a.Service.Sample(e.rng)})
	if len(p.idle) > 0 {
		w := p.idle[0]
		p.idle = p.idle[1:]
		e.wake(w, bServe)
	}
	n++
	if a.Max > 0 && n >= a.Max {
		e.openArrivals--
		return
	}
	e.q.push(event{at: e.now + max(a.Interval.Sample(e.rng), 1), kind: evArrival, cpu: int32(i), gen: uint32(n)})
}

// wake wakes t if it is blocked for reason kind.
func (e *Engine) wake(t *task, kind blockKind) {
	if t.exited || t.blocked != kind {
		return
	}
	t.blocked = bNone
	e.core.Wake(t.st, 0)
}

// block puts the running task t to sleep for reason kind.
func (e *Engine) block(t *task, kind blockKind) {
	t.blocked = kind
	if err := e.core.Block(t.st); err != nil {
		e.err = fmt.Errorf("task %s: block: %w", t.st, err)
	}
}

func (e *Engine) warnf(format string, args ...any) {
	if len(e.warnings) < 100 {
		e.warnings = append(e.warnings, fmt.Sprintf("%.6fs: ", float64(e.now)/1e9)+fmt.Sprintf(format, args...))
	}
}

func (e *Engine) results(stop string) *metrics.Results {
	cpus := make([]int, 0, len(e.m.CPUs()))
	for _, c := range e.m.CPUs() {
		cpus = append(cpus, c.ID)
	}
	res := e.rec.Finish(e.end, cpus, e.cfg.TaskDetail)
	name := e.cfg.WorkloadName
	if name == "" {
		name = e.cfg.Workload.Name
	}
	res.Run = metrics.RunInfo{
		Scheduler: e.cfg.Scheduler.Name(), Topology: e.cfg.Topology, CPUs: len(cpus),
		Workload: name, DurationNS: e.end, Seed: e.cfg.Seed, HZ: e.cfg.HZ,
		Effects: e.fx.metrics(), StopReason: stop, EventsTotal: e.events,
	}
	for i := range res.Cgroups {
		c := &res.Cgroups[i]
		if cg := e.cgroups[c.Path]; cg != nil {
			c.Weight = cg.Weight
			if cg.QuotaUS != math.MaxUint64 {
				c.QuotaUS, c.PeriodUS, c.BurstUS = cg.QuotaUS, cg.PeriodUS, cg.BurstUS
				st := e.core.CPUStat(cg)
				c.Bandwidth = &metrics.CgroupBandwidth{
					NrPeriods: st.NrPeriods, NrThrottled: st.NrThrottled,
					ThrottledUS: st.ThrottledNS / 1000,
					NrBursts:    st.NrBursts, BurstUS: st.BurstNS / 1000,
				}
			}
			c.Idle = cg.Idle
		}
	}
	res.Scheduler = metrics.SchedulerResult{Name: e.cfg.Scheduler.Name(), Kind: e.cfg.Scheduler.Kind()}
	e.cfg.Scheduler.Finish(&res.Scheduler)
	if res.Scheduler.Exit == nil && e.exitInfo != nil {
		res.Scheduler.Exit = e.exitInfo
	} else if x := res.Scheduler.Exit; x != nil && x.AtNS == 0 && e.exitInfo != nil {
		x.AtNS = e.exitInfo.AtNS
	}
	if len(res.Scheduler.Log) == 0 {
		res.Scheduler.Log = e.extLog
	}
	res.Warnings = append(append([]string(nil), e.cfg.Workload.Warnings...), e.warnings...)
	return res
}

// Run is New followed by Engine.Run.
func Run(cfg Config) (*metrics.Results, error) {
	e, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return e.Run()
}
