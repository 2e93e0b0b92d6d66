// Package workload describes what runs on the simulated machine: groups of
// tasks, each task running a small program (run, sleep, timers, wakeups,
// barriers, forks, ...), a cgroup hierarchy, and open-loop request arrivals
// served by worker pools.
//
// A Workload comes from a YAML file (ParseYAML, format in FORMAT.md), an
// rt-app JSON file (ParseRTApp) or a built-in scenario (Builtin). The
// engine (package sim/engine) interprets the programs; this package only
// describes and validates them.
package workload

import (
	"fmt"
	"sort"
	"strings"
)

// Workload is a complete description of what to run.
type Workload struct {
	Name string
	// Duration is the run length the workload asks for, in ns; 0 leaves
	// it to the caller.
	Duration uint64
	// Cgroups lists the cgroups to create, parents before children.
	Cgroups []Cgroup
	// Groups lists the task groups in file order.
	Groups []*Group
	// Arrivals lists the open-loop request streams.
	Arrivals []Arrival
	// Warnings are non-fatal remarks from parsing (rt-app keys with no
	// effect in a simulation, policies mapped to another one).
	Warnings []string
}

// Cgroup is one cgroup of the cpu controller.
type Cgroup struct {
	// Path is absolute ("/batch/low"); "/" is the root.
	Path string
	// Weight is cpu.weight (1..10000), default 100.
	Weight uint32
	// QuotaUS and PeriodUS are cpu.max; QuotaUS 0 means "max".
	QuotaUS, PeriodUS uint64
	// BurstUS is cpu.max.burst (0: none); at most QuotaUS.
	BurstUS uint64
	// Idle is cpu.idle: the group's entities weigh as SCHED_IDLE tasks.
	Idle bool
	Line int
}

// Policy names accepted for groups and the policy op.
var Policies = []string{"normal", "batch", "idle", "ext", "fifo", "rr"}

// Group is a set of identical tasks running the same program.
type Group struct {
	Name string
	// Count is the number of tasks started at Start; 0 makes a template
	// that only fork ops instantiate.
	Count int
	Nice  int
	// Policy is one of Policies; "" is normal.
	Policy string
	// RTPrio is the RT priority (1..99) of a fifo or rr group, else 0.
	RTPrio int
	// CPUs is the affinity; nil means every CPU.
	CPUs []int
	// Cgroup is the path of the cgroup the tasks start in; "" is root.
	Cgroup string
	// Start delays the creation of the tasks, in ns.
	Start uint64
	// Loop is how many times the program runs; -1 (the default) repeats
	// it until the end of the run. A task exits after its last iteration.
	Loop int
	// Program is what each task runs.
	Program []Op
	Line    int
}

// OpKind says what an Op does.
type OpKind uint8

// Program operations. Durations are in ns of the reference CPU (capacity
// 1024 at full performance) for OpRun, wall/CPU time for the others.
const (
	OpRun       OpKind = iota // run Dur of work; slower CPUs take longer
	OpRunTime                 // run for Dur of CPU time, whatever the CPU's speed
	OpSleep                   // sleep Dur
	OpTimer                   // sleep until the next Period boundary of timer Name
	OpWake                    // wake Target (adds a token to each woken task)
	OpWait                    // block until Count tokens arrived, consume them
	OpBarrier                 // wait until every task using barrier Name arrived
	OpFork                    // create Count tasks of group Target.Group; Wait blocks until they exit
	OpExit                    // exit
	OpAffinity                // set the affinity to CPUs (nil: every CPU)
	OpNice                    // set the nice value to Nice
	OpPolicy                  // set the policy to Policy
	OpCgroup                  // move to cgroup Name
	OpYield                   // sched_yield()
	OpLoop                    // run Body Count times (-1: forever)
	OpServe                   // take a request from pool Name (block while empty), run its service time
	OpLock                    // lock mutex Name
	OpUnlock                  // unlock mutex Name
	OpCondWait                // wait on condition Name, releasing mutex Mutex meanwhile
	OpSignal                  // wake the first waiter of condition Name
	OpBroadcast               // wake every waiter of condition Name
)

var opNames = [...]string{"run", "runtime", "sleep", "timer", "wake", "wait", "barrier", "fork",
	"exit", "affinity", "nice", "policy", "cgroup", "yield", "loop", "serve", "lock", "unlock",
	"condwait", "signal", "broadcast"}

func (k OpKind) String() string {
	if int(k) < len(opNames) {
		return opNames[k]
	}
	return fmt.Sprintf("op(%d)", k)
}

// Which selects the tasks of the target group a wake op reaches.
type Which uint8

const (
	// WhichPeer wakes one task: task i of n wakes task i*m/n of the m
	// target tasks.
	WhichPeer Which = iota
	// WhichPeers wakes the tasks j of the target group with j*n/m == i:
	// the tasks whose peer is the waker.
	WhichPeers
	// WhichAll wakes every task of the group.
	WhichAll
	// WhichRandom wakes one task chosen with the run's seeded generator.
	WhichRandom
	// WhichNext wakes the tasks in turn (round robin per waker).
	WhichNext
)

var whichNames = [...]string{"peer", "peers", "all", "random", "next"}

func (w Which) String() string { return whichNames[w] }

// ParseWhich parses a Which name.
func ParseWhich(s string) (Which, bool) {
	for i, n := range whichNames {
		if n == s {
			return Which(i), true
		}
	}
	return 0, false
}

// Target names the tasks a wake or fork op acts on.
type Target struct {
	Group string
	Which Which
}

// Op is one program step.
type Op struct {
	Kind OpKind
	// Dur is the duration of run, runtime and sleep.
	Dur Dist
	// Period is the timer period.
	Period uint64
	// Absolute makes a timer keep its original time base (rt-app
	// "absolute" mode); otherwise a missed period restarts from now.
	Absolute bool
	// Name is the timer, barrier, pool, mutex or condition name, or the
	// cgroup path.
	Name string
	// Mutex is the mutex a condwait releases.
	Mutex  string
	Target Target
	// Count is the loop count, the fork count or the tokens a wait
	// needs.
	Count int
	// Wait makes a fork block until its children exit.
	Wait   bool
	Nice   int
	Policy string
	// RTPrio is the RT priority of a policy op to fifo or rr.
	RTPrio int
	CPUs   []int
	Body   []Op
	Line   int
}

// Arrival is an open-loop request stream into a worker pool.
type Arrival struct {
	// Pool names the queue; workers take requests with the serve op.
	Pool string
	// Interval is the time between arrivals.
	Interval Dist
	// Service is the work (reference-CPU ns) a request needs.
	Service Dist
	// Start delays the first arrival, in ns.
	Start uint64
	// Max bounds the number of requests (0: no bound).
	Max  int
	Line int
}

// checkRTPrio: fifo and rr need an RT priority 1..99, other policies none.
func checkRTPrio(pol string, prio int) error {
	rt := pol == "fifo" || pol == "rr"
	switch {
	case rt && (prio < 1 || prio > 99):
		return fmt.Errorf("policy %s needs an rtprio in 1..99, not %d", pol, prio)
	case !rt && prio != 0:
		return fmt.Errorf("rtprio %d is for policy fifo or rr, not %q", prio, pol)
	}
	return nil
}

// Validate checks references between the parts of w: wake and fork
// targets, cgroups, pools and barriers. Parsers call it; a Workload built
// in Go should be validated before use.
func (w *Workload) Validate() error {
	groups := map[string]*Group{}
	for _, g := range w.Groups {
		if g.Name == "" {
			return lineErr(g.Line, "group without a name")
		}
		if groups[g.Name] != nil {
			return lineErr(g.Line, "duplicate group name %q", g.Name)
		}
		if err := checkRTPrio(g.Policy, g.RTPrio); err != nil {
			return lineErr(g.Line, "group %q: %v", g.Name, err)
		}
		groups[g.Name] = g
	}
	cgs := map[string]bool{"/": true, "": true}
	for _, c := range w.Cgroups {
		if !strings.HasPrefix(c.Path, "/") {
			return lineErr(c.Line, "cgroup path %q: expected an absolute path starting with /", c.Path)
		}
		if cgs[c.Path] {
			return lineErr(c.Line, "duplicate cgroup %q", c.Path)
		}
		if p := parentPath(c.Path); !cgs[p] {
			return lineErr(c.Line, "cgroup %q: parent %q is not declared before it", c.Path, p)
		}
		if c.QuotaUS > 0 && c.BurstUS > c.QuotaUS {
			return lineErr(c.Line, "cgroup %q: burst %dus exceeds the cpu.max quota %dus (cpu.max.burst must be <= quota)", c.Path, c.BurstUS, c.QuotaUS)
		}
		cgs[c.Path] = true
	}
	pools := map[string]bool{}
	for _, a := range w.Arrivals {
		if a.Pool == "" {
			return lineErr(a.Line, "arrival without a pool")
		}
		pools[a.Pool] = true
	}
	served := map[string]bool{}
	var check func(ops []Op, depth int) error
	check = func(ops []Op, depth int) error {
		if depth > 32 {
			return lineErr(ops[0].Line, "loops nested more than 32 deep")
		}
		for i := range ops {
			op := &ops[i]
			switch op.Kind {
			case OpPolicy:
				if err := checkRTPrio(op.Policy, op.RTPrio); err != nil {
					return lineErr(op.Line, "policy: %v", err)
				}
			case OpWake, OpFork:
				if groups[op.Target.Group] == nil {
					return lineErr(op.Line, "%s: no group named %q", op.Kind, op.Target.Group)
				}
			case OpCgroup:
				if !cgs[op.Name] {
					return lineErr(op.Line, "cgroup: %q is not declared under cgroups", op.Name)
				}
			case OpServe:
				if !pools[op.Name] {
					return lineErr(op.Line, "serve: no arrivals feed pool %q", op.Name)
				}
				served[op.Name] = true
			case OpLoop:
				if len(op.Body) == 0 {
					return lineErr(op.Line, "loop: empty body")
				}
				if err := check(op.Body, depth+1); err != nil {
					return err
				}
			case OpCondWait:
				if op.Mutex == "" {
					return lineErr(op.Line, "condwait: expected a mutex")
				}
			}
		}
		return nil
	}
	for _, g := range w.Groups {
		if !cgs[g.Cgroup] {
			return lineErr(g.Line, "group %q: cgroup %q is not declared under cgroups", g.Name, g.Cgroup)
		}
		if g.Count < 0 {
			return lineErr(g.Line, "group %q: count %d is negative", g.Name, g.Count)
		}
		if len(g.Program) == 0 {
			return lineErr(g.Line, "group %q: empty program", g.Name)
		}
		if err := check(g.Program, 0); err != nil {
			return err
		}
	}
	for _, a := range w.Arrivals {
		if !served[a.Pool] {
			return lineErr(a.Line, "arrivals into pool %q: no group serves it", a.Pool)
		}
	}
	return nil
}

// BarrierUsers counts, per barrier name, the tasks started at load time
// whose program uses it (a task using it twice counts once). A barrier
// releases when that many tasks wait on it.
func (w *Workload) BarrierUsers() map[string]int {
	out := map[string]int{}
	for _, g := range w.Groups {
		seen := map[string]bool{}
		walkOps(g.Program, func(op *Op) {
			if op.Kind == OpBarrier {
				seen[op.Name] = true
			}
		})
		names := make([]string, 0, len(seen))
		for n := range seen {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			out[n] += g.Count
		}
	}
	return out
}

func walkOps(ops []Op, fn func(*Op)) {
	for i := range ops {
		fn(&ops[i])
		if ops[i].Kind == OpLoop {
			walkOps(ops[i].Body, fn)
		}
	}
}

// Group returns the group named name, nil if none.
func (w *Workload) Group(name string) *Group {
	for _, g := range w.Groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// NumTasks is the number of tasks started at load time.
func (w *Workload) NumTasks() int {
	n := 0
	for _, g := range w.Groups {
		n += g.Count
	}
	return n
}

func parentPath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// Error is a workload file error with its position.
type Error struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, "%d:", e.Col)
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(e.Msg)
	return b.String()
}

func lineErr(line int, format string, args ...any) *Error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// withFile sets the file name of a position error.
func withFile(err error, file string) error {
	if e, ok := err.(*Error); ok && e.File == "" {
		e.File = file
	}
	return err
}
