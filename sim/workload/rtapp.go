package workload

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// ParseRTApp reads an rt-app JSON workload (the format of rt-app's
// doc/tutorial.txt, with its comments, trailing commas and repeated event
// keys) into a Workload.
//
// Supported: global duration and default_policy; per task instance, loop,
// delay, phases, policy, priority (nice for SCHED_OTHER), cpus and
// taskgroup; events run, runtime, sleep, timer (ref, period, mode),
// barrier, suspend, resume, yield, fork, lock, unlock, wait, signal, broad
// and sync. Event keys match by prefix as rt-app's do ("run0", "sleep2").
// Keys with no effect in a simulation (calibration, logging, util clamps,
// NUMA memory binding) are accepted with a warning; real-time and deadline
// policies run as SCHED_NORMAL with a warning; mem, iorun and external
// workloads are errors.
func ParseRTApp(file string, data []byte) (*Workload, error) {
	root, err := parseJSONish(data)
	if err != nil {
		if je, ok := err.(*jerror); ok {
			return nil, &Error{File: file, Line: je.line, Msg: "invalid rt-app JSON: " + je.msg}
		}
		return nil, err
	}
	r := &rtParser{file: file, w: &Workload{}, cgroups: map[string]bool{}}
	if err := r.root(root); err != nil {
		return nil, withFile(err, file)
	}
	if err := r.w.Validate(); err != nil {
		return nil, withFile(err, file)
	}
	return r.w, nil
}

type rtParser struct {
	file          string
	w             *Workload
	defaultPolicy string
	defaultRT     bool
	cgroups       map[string]bool
}

func (r *rtParser) errf(line int, format string, args ...any) error {
	return &Error{File: r.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (r *rtParser) warn(line int, format string, args ...any) {
	r.w.Warnings = append(r.w.Warnings, fmt.Sprintf("%s:%d: %s", r.file, line, fmt.Sprintf(format, args...)))
}

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
		g, err := r.task(t)
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
// policy (run as SCHED_NORMAL, its priority ignored).
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
	case "SCHED_FIFO", "SCHED_RR", "SCHED_DEADLINE":
		r.warn(k.line, "%s is not modelled (only fair and sched_ext classes are); the task runs as SCHED_NORMAL", s)
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

// props are the settings a thread or a phase may carry.
type rtProps struct {
	policy, cgroup       string
	nice                 int
	hasNice, hasPolicy   bool
	cpus                 []int
	hasCPUs, hasCgroup   bool
	rt                   bool
	prioLine, policyLine int
}

var rtIgnored = map[string]string{
	"util_min":      "utilization clamping",
	"util_max":      "utilization clamping",
	"membind_nodes": "NUMA memory binding",
	"dl-runtime":    "SCHED_DEADLINE parameters",
	"dl-period":     "SCHED_DEADLINE parameters",
	"dl-deadline":   "SCHED_DEADLINE parameters",
}

// prop handles a property key; false if k is not one.
func (r *rtParser) prop(k jkey, p *rtProps) (bool, error) {
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
		p.hasCgroup = true
	default:
		if what, ok := rtIgnored[k.name]; ok {
			r.warn(k.line, "%s: %s has no effect in the simulation", k.name, what)
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

func (r *rtParser) task(t jkey) (*Group, error) {
	if t.val.kind != 'o' {
		return nil, r.errf(t.line, "task %q: expected an object, got %s", t.name, t.val.kindName())
	}
	g := &Group{Name: t.name, Count: 1, Loop: -1, Line: t.line}
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
			ok, err := r.prop(k, &props)
			if err != nil {
				return nil, err
			}
			if !ok {
				events = append(events, k)
			}
		}
	}
	g.Policy = r.defaultPolicy
	rt := r.defaultRT
	if props.hasPolicy {
		g.Policy, rt = props.policy, props.rt
	}
	nice, err := r.niceFor(&props, rt)
	if err != nil {
		return nil, err
	}
	g.Nice = nice
	g.CPUs = props.cpus
	g.Cgroup = props.cgroup
	if phases != nil {
		if len(events) > 0 {
			return nil, r.errf(events[0].line, "task %q: event %q next to a phases object (events go inside the phases)", t.name, events[0].name)
		}
		for _, ph := range phases.keys {
			ops, err := r.phase(ph)
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
	return g, nil
}

func (r *rtParser) phase(ph jkey) ([]Op, error) {
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
		ok, err := r.prop(k, &props)
		if err != nil {
			return nil, err
		}
		if !ok {
			events = append(events, k)
		}
	}
	// Settings apply when the phase starts, as rt-app's do.
	var pre []Op
	if props.hasPolicy {
		pre = append(pre, Op{Kind: OpPolicy, Policy: props.policy, Line: props.policyLine})
	}
	if props.hasNice {
		rt := r.defaultRT
		if props.hasPolicy {
			rt = props.rt
		}
		nice, err := r.niceFor(&props, rt)
		if err != nil {
			return nil, err
		}
		pre = append(pre, Op{Kind: OpNice, Nice: nice, Line: props.prioLine})
	}
	if props.hasCPUs {
		pre = append(pre, Op{Kind: OpAffinity, CPUs: props.cpus, Line: ph.line})
	}
	if props.hasCgroup {
		cg := props.cgroup
		if cg == "" {
			cg = "/"
		}
		pre = append(pre, Op{Kind: OpCgroup, Name: cg, Line: ph.line})
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
// starts with ("runtime" before "run").
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
			op.Kind = OpTimer
			if k.val.kind != 'o' {
				return nil, r.errf(k.line, "%s: expected an object {\"ref\": ..., \"period\": ...}, got %s", k.name, k.val.kindName())
			}
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
					return nil, err
				}
			}
			if op.Name == "" {
				op.Name = "unique"
			}
			if op.Period == 0 {
				continue
			}
		case "barrier":
			op.Kind = OpBarrier
			op.Name, err = r.str(k)
		case "suspend":
			op.Kind = OpWait
			op.Count = 1
		case "resume":
			op.Kind = OpWake
			var s string
			s, err = r.str(k)
			op.Target = Target{Group: s, Which: WhichAll}
		case "yield":
			op.Kind = OpYield
		case "fork":
			op.Kind = OpFork
			op.Count = 1
			op.Target.Group, err = r.str(k)
		case "lock", "unlock", "signal", "broad":
			op.Kind = map[string]OpKind{"lock": OpLock, "unlock": OpUnlock, "signal": OpSignal, "broad": OpBroadcast}[name]
			op.Name, err = r.str(k)
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
			if name == "sync" {
				// lock, signal, wait, unlock.
				ops = append(ops, Op{Kind: OpLock, Name: op.Mutex, Line: k.line},
					Op{Kind: OpSignal, Name: op.Name, Line: k.line}, op,
					Op{Kind: OpUnlock, Name: op.Mutex, Line: k.line})
				continue
			}
		case "mem", "iorun", "external_workload":
			return nil, r.errf(k.line, "event %q is not supported: the simulation has no memory, IO or external workload model", k.name)
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
