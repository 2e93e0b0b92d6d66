package workload

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// ParseRTApp reads an rt-app JSON workload (the format of rt-app's
// doc/tutorial.txt, with the liberties its workgen script allows:
// comments, trailing commas, repeated event keys and a bare "suspend")
// into a Workload. FORMAT.md lists, key by key, what is modelled, what is
// accepted with no effect and what is refused.
//
// Events map onto the program operations with rt-app's semantics:
// suspend and resume are a wait and a broadcast on the condition named by
// their string (a resume with nobody suspended is lost, as in rt-app),
// sync is lock, signal, wait, unlock, and barrier waits for every thread
// that references it.
func ParseRTApp(file string, data []byte) (*Workload, error) {
	root, err := parseJSONish(data)
	if err != nil {
		if je, ok := err.(*jerror); ok {
			return nil, &Error{File: file, Line: je.line, Msg: "invalid rt-app JSON: " + je.msg}
		}
		return nil, err
	}
	r := &rtParser{file: file, w: &Workload{}, cgroups: map[string]bool{},
		condWait: map[string]int{}, condWake: map[string]int{}, timers: map[string]*rtTimerUse{}, warned: map[string]bool{}}
	if err := r.root(root); err != nil {
		return nil, withFile(err, file)
	}
	if err := r.w.Validate(); err != nil {
		return nil, withFile(err, file)
	}
	if err := r.forkBarriers(); err != nil {
		return nil, err
	}
	r.crossChecks()
	return r.w, nil
}

type rtParser struct {
	file          string
	w             *Workload
	defaultPolicy string
	defaultRT     bool
	cgroups       map[string]bool

	// Per task being read.
	task     string
	instance int
	barriers map[string]int // barrier name -> references in this task

	// Across the file, for the warnings of crossChecks: the first line
	// waiting on / waking each condition, and who uses each named timer.
	condWait, condWake map[string]int
	timers             map[string]*rtTimerUse
	warned             map[string]bool
}

type rtTimerUse struct {
	line, threads int
	tasks         map[string]bool
}

func (r *rtParser) errf(line int, format string, args ...any) error {
	return &Error{File: r.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// warn records a warning once per distinct message: a key repeated in
// every thread is reported at its first line.
func (r *rtParser) warn(line int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if r.warned[msg] {
		return
	}
	r.warned[msg] = true
	r.w.Warnings = append(r.w.Warnings, fmt.Sprintf("%s:%d: %s", r.file, line, msg))
}

// rtGlobalKeys are rt-app's global keys with no effect on a simulation:
// calibration (run durations are in reference-CPU time), logging, tracing,
// memory locking, priority inheritance (not modelled),
// the mem/iorun buffers and slack accounting.
var rtGlobalKeys = map[string]bool{
	"calibration": true, "pi_enabled": true, "lock_pages": true, "logdir": true,
	"log_basename": true, "log_size": true, "ftrace": true, "gnuplot": true, "io_device": true,
	"mem_buffer_size": true, "cumulative_slack": true,
}

func (r *rtParser) root(v *jval) error {
	if v.kind != 'o' {
		return r.errf(v.line, "expected an object with a tasks key, got %s", v.kindName())
	}
	var tasks *jval
	var global *jval
	for _, k := range v.keys {
		switch k.name {
		case "tasks":
			tasks = k.val
		case "global":
			global = k.val
		case "resources":
			// Kept by rt-app for backward compatibility; resources are
			// created on use.
		default:
			return r.errf(k.line, "unknown top-level key %q (expected tasks, global or resources)", k.name)
		}
	}
	r.defaultPolicy = "normal"
	if global != nil {
		if err := r.global(global); err != nil {
			return err
		}
	}
	if tasks == nil {
		return r.errf(v.line, "expected a tasks object")
	}
	if tasks.kind != 'o' || len(tasks.keys) == 0 {
		return r.errf(tasks.line, "tasks: expected a non-empty object of threads, got %s", tasks.kindName())
	}
	for _, t := range tasks.keys {
		g, err := r.thread(t)
		if err != nil {
			return err
		}
		r.w.Groups = append(r.w.Groups, g)
	}
	// Declare the taskgroups used, parents first.
	paths := make([]string, 0, len(r.cgroups))
	for p := range r.cgroups {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		r.w.Cgroups = append(r.w.Cgroups, Cgroup{Path: p, Weight: 100, PeriodUS: 100000})
	}
	return nil
}

func (r *rtParser) global(v *jval) error {
	if v.kind != 'o' {
		return r.errf(v.line, "global: expected an object, got %s", v.kindName())
	}
	for _, k := range v.keys {
		switch k.name {
		case "duration":
			n, err := r.integer(k, math.MinInt32, math.MaxInt32)
			if err != nil {
				return err
			}
			if n > 0 {
				r.w.Duration = uint64(n) * 1e9
			}
		case "default_policy":
			p, rt, err := r.policy(k)
			if err != nil {
				return err
			}
			r.defaultPolicy, r.defaultRT = p, rt
		case "calibration":
			// rt-app takes "CPUn" (calibrate on that CPU) or a ns-per-loop
			// integer; either way run durations here are reference-CPU
			// time.
			if k.val.kind == 's' && !strings.HasPrefix(k.val.str, "CPU") {
				return r.errf(k.line, "calibration: expected \"CPUn\" or a ns-per-loop integer, got %s", k.val.kindName())
			}
			if k.val.kind != 's' && k.val.kind != 'n' {
				return r.errf(k.line, "calibration: expected \"CPUn\" or a ns-per-loop integer, got %s", k.val.kindName())
			}
		default:
			if !rtGlobalKeys[k.name] {
				r.warn(k.line, "global key %q is unknown to rt-app's format; ignored", k.name)
			}
		}
	}
	return nil
}

func (r *rtParser) integer(k jkey, lo, hi int) (int, error) {
	if k.val.kind != 'n' || k.val.num != math.Trunc(k.val.num) {
		return 0, r.errf(k.line, "%s: expected an integer, got %s", k.name, k.val.kindName())
	}
	if k.val.num < float64(lo) || k.val.num > float64(hi) {
		return 0, r.errf(k.line, "%s: %g is out of range [%d, %d]", k.name, k.val.num, lo, hi)
	}
	return int(k.val.num), nil
}

func (r *rtParser) str(k jkey) (string, error) {
	if k.val.kind != 's' {
		return "", r.errf(k.line, "%s: expected a string, got %s", k.name, k.val.kindName())
	}
	return k.val.str, nil
}

// usec reads a non-negative microsecond count as ns.
func (r *rtParser) usec(k jkey) (uint64, error) {
	n, err := r.integer(k, 0, math.MaxInt32)
	if err != nil {
		return 0, err
	}
	return uint64(n) * 1000, nil
}

// policy maps an rt-app policy name; rt reports a real-time or deadline
// policy, whose priority is not a nice value (SCHED_FIFO/SCHED_RR take it
// as the RT priority; SCHED_DEADLINE runs as SCHED_NORMAL, its priority
// ignored).
func (r *rtParser) policy(k jkey) (pol string, rt bool, err error) {
	s, err := r.str(k)
	if err != nil {
		return "", false, err
	}
	switch s {
	case "SCHED_OTHER", "SCHED_NORMAL":
		return "normal", false, nil
	case "SCHED_BATCH":
		return "batch", false, nil
	case "SCHED_IDLE":
		return "idle", false, nil
	case "SCHED_EXT":
		return "ext", false, nil
	case "SCHED_FIFO":
		return "fifo", true, nil
	case "SCHED_RR":
		return "rr", true, nil
	case "SCHED_DEADLINE":
		r.warn(k.line, "%s is not modelled (no deadline class); the task runs as SCHED_NORMAL", s)
		return "normal", true, nil
	}
	return "", false, r.errf(k.line, "%s: unknown policy %q (expected SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_FIFO, SCHED_RR or SCHED_DEADLINE)", k.name, s)
}

func (r *rtParser) cpus(k jkey) ([]int, error) {
	if k.val.kind != 'a' || len(k.val.arr) == 0 {
		return nil, r.errf(k.line, "cpus: expected a non-empty list of cpu numbers, got %s", k.val.kindName())
	}
	var out []int
	for _, e := range k.val.arr {
		if e.kind != 'n' || e.num != math.Trunc(e.num) || e.num < 0 || e.num >= 8192 {
			return nil, r.errf(e.line, "cpus: expected a cpu number, got %s", e.kindName())
		}
		out = append(out, int(e.num))
	}
	return normCPUs(out), nil
}

func (r *rtParser) taskgroup(k jkey) (string, error) {
	s, err := r.str(k)
	if err != nil {
		return "", err
	}
	if s == "" || s == "/" {
		return "", nil
	}
	if !strings.HasPrefix(s, "/") {
		s = "/" + s
	}
	s = strings.TrimSuffix(s, "/")
	if strings.Contains(s, "//") {
		return "", r.errf(k.line, "taskgroup: invalid path %q", s)
	}
	for p := s; p != "/"; p = parentPath(p) {
		r.cgroups[p] = true
	}
	return s, nil
}

// rtProps are the settings a thread or a phase may carry.
type rtProps struct {
	policy, cgroup       string
	nice                 int
	hasNice, hasPolicy   bool
	cpus                 []int
	hasCPUs, hasCgroup   bool
	rt                   bool
	prioLine, policyLine int
	cgroupLine           int
}

// rtIgnored are thread and phase keys accepted with no effect, and why.
var rtIgnored = map[string]string{
	"util_min":      "utilization clamping is not modelled",
	"util_max":      "utilization clamping is not modelled",
	"nodes_membind": "NUMA memory binding is not modelled",
	"membind_nodes": "NUMA memory binding is not modelled",
	"dl-runtime":    "SCHED_DEADLINE parameters (and the SCHED_OTHER custom slice) are not modelled",
	"dl-period":     "SCHED_DEADLINE parameters are not modelled",
	"dl-deadline":   "SCHED_DEADLINE parameters are not modelled",
	"dl-reclaim":    "SCHED_DEADLINE bandwidth reclaiming is not modelled",
}

// rtLegacy are keys of rt-app's first grammar (exec, period and a
// lock_order over a resources table), which current rt-app no longer
// reads as a workload.
var rtLegacy = map[string]bool{"exec": true, "lock_order": true, "resources": true}

// prop handles a property key; false if k is not one. thread says k sits
// at thread level, where rt-app also reads the old deadline keys period
// and deadline.
func (r *rtParser) prop(k jkey, p *rtProps, thread bool) (bool, error) {
	var err error
	switch k.name {
	case "policy":
		p.policy, p.rt, err = r.policy(k)
		p.hasPolicy, p.policyLine = true, k.line
	case "priority":
		p.nice, err = r.integer(k, -100, 100)
		p.hasNice, p.prioLine = true, k.line
	case "cpus":
		p.cpus, err = r.cpus(k)
		p.hasCPUs = true
	case "taskgroup":
		p.cgroup, err = r.taskgroup(k)
		p.hasCgroup, p.cgroupLine = true, k.line
	case "util_min", "util_max":
		if _, err = r.integer(k, -1, 1024); err == nil {
			r.warn(k.line, "%s: %s", k.name, rtIgnored[k.name])
		}
	case "dl-runtime", "dl-period", "dl-deadline":
		if _, err = r.integer(k, 0, math.MaxInt32); err == nil {
			r.warn(k.line, "%s: %s", k.name, rtIgnored[k.name])
		}
	case "period", "deadline":
		if !thread {
			return false, nil
		}
		if _, err = r.integer(k, 0, math.MaxInt32); err == nil {
			r.warn(k.line, "%s: rt-app reads it as dl-%s; SCHED_DEADLINE parameters are not modelled", k.name, k.name)
		}
	default:
		if rtLegacy[k.name] {
			return true, r.errf(k.line, "%s: this is rt-app's first grammar (exec, period, lock_order and a resources table), which rt-app no longer reads; describe the thread with run, sleep, timer, lock and unlock events", k.name)
		}
		if what, ok := rtIgnored[k.name]; ok {
			r.warn(k.line, "%s: %s", k.name, what)
			return true, nil
		}
		return false, nil
	}
	return true, err
}

// niceFor returns the nice value a priority gives: for SCHED_OTHER and
// friends rt-app uses the priority as the nice value; real-time priorities
// have no meaning here and are dropped.
func (r *rtParser) niceFor(p *rtProps, rt bool) (int, error) {
	if !p.hasNice || rt {
		return 0, nil
	}
	if p.nice < -20 || p.nice > 19 {
		return 0, r.errf(p.prioLine, "priority: %d is not a nice value in [-20, 19]", p.nice)
	}
	return p.nice, nil
}

// rtDefaultPrio is rt-app's DEFAULT_THREAD_PRIORITY: a SCHED_FIFO or
// SCHED_RR thread's priority when none is given.
const rtDefaultPrio = 10

func isRTPolicy(pol string) bool { return pol == "fifo" || pol == "rr" }

// rtPrioFor returns the RT priority of a SCHED_FIFO/SCHED_RR thread or
// phase: its priority, else rt-app's default. rt-app exits when
// sched_setscheduler() refuses a priority outside [1, 99].
func (r *rtParser) rtPrioFor(p *rtProps) (int, error) {
	if !p.hasNice {
		return rtDefaultPrio, nil
	}
	if p.nice < 1 || p.nice > 99 {
		return 0, r.errf(p.prioLine, "priority: %d is not a SCHED_FIFO/SCHED_RR priority in [1, 99] (sched_setscheduler() refuses it)", p.nice)
	}
	return p.nice, nil
}

// checkGroupPolicy mirrors rt-app's refusal of a taskgroup on a thread
// whose policy is real-time or deadline.
func (r *rtParser) checkGroupPolicy(inGroup bool, groupLine int, rt bool) error {
	if inGroup && rt {
		return r.errf(groupLine, "taskgroup: rt-app supports taskgroups only for SCHED_OTHER and SCHED_IDLE threads")
	}
	return nil
}

func (r *rtParser) thread(t jkey) (*Group, error) {
	if t.val.kind != 'o' {
		return nil, r.errf(t.line, "task %q: expected an object, got %s", t.name, t.val.kindName())
	}
	g := &Group{Name: t.name, Count: 1, Loop: -1, Line: t.line}
	r.task, r.barriers = t.name, map[string]int{}
	var props rtProps
	var phases *jval
	var events []jkey
	for _, k := range t.val.keys {
		switch k.name {
		case "instance":
			n, err := r.integer(k, 0, 1<<20)
			if err != nil {
				return nil, err
			}
			g.Count = n
		case "loop":
			n, err := r.integer(k, -1, math.MaxInt32)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				return nil, r.errf(k.line, "loop: expected -1 (forever) or a positive count")
			}
			g.Loop = n
		case "delay":
			d, err := r.usec(k)
			if err != nil {
				return nil, err
			}
			g.Start = d
		case "phases":
			if k.val.kind != 'o' || len(k.val.keys) == 0 {
				return nil, r.errf(k.line, "phases: expected a non-empty object of phases, got %s", k.val.kindName())
			}
			phases = k.val
		default:
			ok, err := r.prop(k, &props, true)
			if err != nil {
				return nil, err
			}
			if !ok {
				events = append(events, k)
			}
		}
	}
	r.instance = g.Count
	g.Policy = r.defaultPolicy
	rt := r.defaultRT
	if props.hasPolicy {
		g.Policy, rt = props.policy, props.rt
	}
	nice, err := r.niceFor(&props, rt)
	if err != nil {
		return nil, err
	}
	if err := r.checkGroupPolicy(props.cgroup != "", props.cgroupLine, rt); err != nil {
		return nil, err
	}
	g.Nice = nice
	if isRTPolicy(g.Policy) {
		if g.RTPrio, err = r.rtPrioFor(&props); err != nil {
			return nil, err
		}
	}
	pol := g.Policy
	g.CPUs = props.cpus
	g.Cgroup = props.cgroup
	if phases != nil {
		if len(events) > 0 {
			return nil, r.errf(events[0].line, "task %q: event %q next to a phases object (events go inside the phases)", t.name, events[0].name)
		}
		inGroup := g.Cgroup != ""
		// rt-app sets each phase's affinity from the phase's cpus, else
		// the thread's, else every CPU: once a phase sets cpus, the
		// others reset them.
		var reset *[]int
		for _, ph := range phases.keys {
			if ph.val.kind == 'o' {
				for _, k := range ph.val.keys {
					if k.name == "cpus" {
						reset = &g.CPUs
					}
				}
			}
		}
		for _, ph := range phases.keys {
			ops, err := r.phase(ph, &rt, &pol, &inGroup, reset)
			if err != nil {
				return nil, err
			}
			g.Program = append(g.Program, ops...)
		}
	} else {
		if len(events) == 0 {
			return nil, r.errf(t.line, "task %q: expected events (run, sleep, ...) or a phases object", t.name)
		}
		ops, err := r.events(events)
		if err != nil {
			return nil, err
		}
		g.Program = ops
	}
	if len(g.Program) == 0 {
		return nil, r.errf(t.line, "task %q: no events with an effect", t.name)
	}
	for _, name := range sortedKeys(r.barriers) {
		if n := r.barriers[name]; n > 1 && g.Count > 0 {
			r.warn(t.line, "task %q references barrier %q %d times: rt-app counts every reference as a user and would wait forever; scxsim counts the thread once", t.name, name, n)
		}
	}
	return g, nil
}

// phase reads one phase; rt and inGroup carry the thread's current
// real-time status and taskgroup membership from phase to phase. A
// non-nil reset is the affinity a phase without cpus sets.
func (r *rtParser) phase(ph jkey, rt *bool, pol *string, inGroup *bool, reset *[]int) ([]Op, error) {
	if ph.val.kind != 'o' {
		return nil, r.errf(ph.line, "phase %q: expected an object, got %s", ph.name, ph.val.kindName())
	}
	loop := 1
	var props rtProps
	var events []jkey
	for _, k := range ph.val.keys {
		if k.name == "loop" {
			n, err := r.integer(k, -1, math.MaxInt32)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				return nil, r.errf(k.line, "loop: expected -1 (forever) or a positive count")
			}
			loop = n
			continue
		}
		ok, err := r.prop(k, &props, false)
		if err != nil {
			return nil, err
		}
		if !ok {
			events = append(events, k)
		}
	}
	if len(events) == 0 {
		return nil, r.errf(ph.line, "phase %q: no events (rt-app refuses a phase without events)", ph.name)
	}
	// Settings apply when the phase starts, as rt-app's do.
	var pre []Op
	if props.hasPolicy {
		*rt, *pol = props.rt, props.policy
		op := Op{Kind: OpPolicy, Policy: props.policy, Line: props.policyLine}
		if isRTPolicy(op.Policy) {
			var err error
			if op.RTPrio, err = r.rtPrioFor(&props); err != nil {
				return nil, err
			}
		}
		pre = append(pre, op)
	} else if props.hasNice && isRTPolicy(*pol) {
		// A priority alone changes the RT priority of the policy in
		// force.
		prio, err := r.rtPrioFor(&props)
		if err != nil {
			return nil, err
		}
		pre = append(pre, Op{Kind: OpPolicy, Policy: *pol, RTPrio: prio, Line: props.prioLine})
	}
	if props.hasNice {
		nice, err := r.niceFor(&props, *rt)
		if err != nil {
			return nil, err
		}
		if !*rt {
			pre = append(pre, Op{Kind: OpNice, Nice: nice, Line: props.prioLine})
		}
	} else if props.hasPolicy && props.policy == "normal" && !props.rt {
		// SCHED_OTHER without a priority takes its default priority,
		// nice 0, as rt-app's parse_sched_data and _set_thread_cfs do.
		pre = append(pre, Op{Kind: OpNice, Nice: 0, Line: props.policyLine})
	}
	if props.hasCPUs {
		pre = append(pre, Op{Kind: OpAffinity, CPUs: props.cpus, Line: ph.line})
	} else if reset != nil {
		pre = append(pre, Op{Kind: OpAffinity, CPUs: *reset, Line: ph.line})
	}
	line := ph.line
	if props.hasCgroup {
		*inGroup, line = props.cgroup != "", props.cgroupLine
		cg := props.cgroup
		if cg == "" {
			cg = "/"
		}
		pre = append(pre, Op{Kind: OpCgroup, Name: cg, Line: props.cgroupLine})
	}
	if err := r.checkGroupPolicy(*inGroup, line, *rt); err != nil {
		return nil, err
	}
	ops, err := r.events(events)
	if err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return pre, nil
	}
	if loop == 1 {
		return append(pre, ops...), nil
	}
	return append(pre, Op{Kind: OpLoop, Count: loop, Body: ops, Line: ph.line}), nil
}

// rtEvents lists event names in match order: a key is the first name it
// starts with ("runtime" before "run"), as rt-app matches them.
var rtEvents = []string{"runtime", "run", "sleep", "timer", "barrier", "suspend", "resume",
	"yield", "fork", "lock", "unlock", "wait", "signal", "broad", "sync", "mem", "iorun",
	"external_workload"}

func (r *rtParser) events(keys []jkey) ([]Op, error) {
	var ops []Op
	for _, k := range keys {
		name := ""
		for _, e := range rtEvents {
			if strings.HasPrefix(k.name, e) {
				name = e
				break
			}
		}
		if k.val.bare && name != "suspend" {
			return nil, r.errf(k.line, "%s: expected a value (only a bare \"suspend\" may omit it; it suspends on the thread's own name)", k.name)
		}
		op := Op{Line: k.line}
		var err error
		switch name {
		case "run", "runtime", "sleep":
			var d uint64
			if d, err = r.usec(k); err != nil {
				return nil, err
			}
			if d == 0 {
				continue
			}
			op.Kind = map[string]OpKind{"run": OpRun, "runtime": OpRunTime, "sleep": OpSleep}[name]
			op.Dur = FixedDist(d)
		case "timer":
			if op, err = r.timer(k); err != nil {
				return nil, err
			}
			if op.Period == 0 {
				continue
			}
		case "barrier":
			op.Kind = OpBarrier
			op.Name, err = r.str(k)
			r.barriers[op.Name]++
		case "suspend", "resume":
			// rt-app: a wait, and a broadcast, on the condition named by
			// the string, each under the mutex of the same name.
			var s string
			if k.val.bare || (k.val.kind == 's' && k.val.str == "" && name == "suspend") {
				s = r.task // what workgen fills in
			} else if s, err = r.str(k); err != nil {
				return nil, err
			}
			mid := Op{Kind: OpCondWait, Name: s, Mutex: s, Line: k.line}
			if name == "resume" {
				mid = Op{Kind: OpBroadcast, Name: s, Line: k.line}
				r.wakes(s, k.line)
			} else {
				r.waits(s, k.line)
			}
			ops = append(ops, Op{Kind: OpLock, Name: s, Line: k.line}, mid, Op{Kind: OpUnlock, Name: s, Line: k.line})
			continue
		case "yield":
			op.Kind = OpYield
		case "fork":
			op.Kind = OpFork
			op.Count = 1
			op.Target.Group, err = r.str(k)
		case "lock", "unlock":
			op.Kind = map[string]OpKind{"lock": OpLock, "unlock": OpUnlock}[name]
			op.Name, err = r.str(k)
		case "signal", "broad":
			op.Kind = map[string]OpKind{"signal": OpSignal, "broad": OpBroadcast}[name]
			op.Name, err = r.str(k)
			r.wakes(op.Name, k.line)
		case "wait", "sync":
			if k.val.kind != 'o' {
				return nil, r.errf(k.line, "%s: expected an object {\"ref\": ..., \"mutex\": ...}, got %s", k.name, k.val.kindName())
			}
			for _, tk := range k.val.keys {
				switch tk.name {
				case "ref":
					op.Name, err = r.str(tk)
				case "mutex":
					op.Mutex, err = r.str(tk)
				default:
					err = r.errf(tk.line, "%s: unknown key %q (expected ref and mutex)", k.name, tk.name)
				}
				if err != nil {
					return nil, err
				}
			}
			if op.Name == "" || op.Mutex == "" {
				return nil, r.errf(k.line, "%s: expected ref and mutex", k.name)
			}
			op.Kind = OpCondWait
			r.waits(op.Name, k.line)
			if name == "sync" {
				// lock, signal, wait, unlock.
				r.wakes(op.Name, k.line)
				ops = append(ops, Op{Kind: OpLock, Name: op.Mutex, Line: k.line},
					Op{Kind: OpSignal, Name: op.Name, Line: k.line}, op,
					Op{Kind: OpUnlock, Name: op.Mutex, Line: k.line})
				continue
			}
		case "mem", "iorun":
			return nil, r.errf(k.line, "event %q is not supported: the simulation has no memory or IO model (rt-app's mem and iorun write buffers and a device)", k.name)
		case "external_workload":
			return nil, r.errf(k.line, "event %q is not supported: a simulation cannot load and run a shared library", k.name)
		default:
			return nil, r.errf(k.line, "unknown key %q (expected an event: run, runtime, sleep, timer, barrier, suspend, resume, yield, fork, lock, unlock, wait, signal, broad, sync; or a property: loop, policy, priority, cpus, taskgroup)", k.name)
		}
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func (r *rtParser) timer(k jkey) (Op, error) {
	op := Op{Kind: OpTimer, Line: k.line}
	if k.val.kind != 'o' {
		return op, r.errf(k.line, "%s: expected an object {\"ref\": ..., \"period\": ...}, got %s", k.name, k.val.kindName())
	}
	var err error
	for _, tk := range k.val.keys {
		switch tk.name {
		case "ref":
			op.Name, err = r.str(tk)
		case "period":
			op.Period, err = r.usec(tk)
		case "mode":
			var m string
			m, err = r.str(tk)
			if err == nil {
				switch m {
				case "absolute":
					op.Absolute = true
				case "relative":
				default:
					err = r.errf(tk.line, "mode: expected relative or absolute, got %q", m)
				}
			}
		default:
			err = r.errf(tk.line, "%s: unknown key %q (expected ref, period or mode)", k.name, tk.name)
		}
		if err != nil {
			return op, err
		}
	}
	if op.Name == "" {
		op.Name = "unique"
	}
	if !strings.HasPrefix(op.Name, "unique") {
		u := r.timers[op.Name]
		if u == nil {
			u = &rtTimerUse{line: k.line, tasks: map[string]bool{}}
			r.timers[op.Name] = u
		}
		if !u.tasks[r.task] {
			u.tasks[r.task] = true
			u.threads += r.instance
		}
	}
	return op, nil
}

// forkBarriers refuses a fork of a thread that uses a barrier, as
// rt-app's format does: a barrier counts its users when the file is read,
// so forked threads cannot take part.
func (r *rtParser) forkBarriers() error {
	var err error
	for _, g := range r.w.Groups {
		walkOps(g.Program, func(op *Op) {
			if op.Kind != OpFork || err != nil {
				return
			}
			walkOps(r.w.Group(op.Target.Group).Program, func(b *Op) {
				if b.Kind == OpBarrier && err == nil {
					err = r.errf(op.Line, "fork: thread %q uses barrier %q; rt-app cannot count forked threads at a barrier", op.Target.Group, b.Name)
				}
			})
		})
	}
	return err
}

func (r *rtParser) waits(cond string, line int) {
	if _, ok := r.condWait[cond]; !ok {
		r.condWait[cond] = line
	}
}

func (r *rtParser) wakes(cond string, line int) {
	if _, ok := r.condWake[cond]; !ok {
		r.condWake[cond] = line
	}
}

// crossChecks warns about what rt-app accepts silently but a reader
// surely did not mean, or what scxsim runs differently: wakeups nobody
// waits for, waits nobody ends, and named timers several threads share.
func (r *rtParser) crossChecks() {
	for _, c := range sortedKeys(r.condWake) {
		if _, ok := r.condWait[c]; !ok {
			r.warn(r.condWake[c], "nothing suspends or waits on %q, so its resume, signal or broad wakes nobody", c)
		}
	}
	for _, c := range sortedKeys(r.condWait) {
		if _, ok := r.condWake[c]; !ok {
			r.warn(r.condWait[c], "nothing resumes, signals or broadcasts %q, so threads suspended or waiting on it stay blocked", c)
		}
	}
	for _, name := range sortedKeys(r.timers) {
		if u := r.timers[name]; u.threads > 1 {
			r.warn(u.line, "timer %q: rt-app shares a timer whose ref does not start with \"unique\" among all %d threads using it; scxsim gives each thread its own", name, u.threads)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
