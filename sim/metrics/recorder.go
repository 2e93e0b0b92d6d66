package metrics

import (
	"math"
	"sort"
)

// Migration distances: how far a task moved between the CPU it last ran
// on and the one it runs on next.
const (
	MigSMT   = iota // SMT sibling of the same core
	MigLLC          // another core of the same LLC
	MigNode         // another LLC of the same node
	MigXNode        // another node
	nMig
)

// MigNames names the distances in JSON and reports.
var MigNames = [nMig]string{"smt", "llc", "node", "xnode"}

// TaskRec is one task's record. The engine holds a pointer per task and
// calls the Recorder's methods with it.
type TaskRec struct {
	PID    int32
	Comm   string
	Group  int
	Cgroup string
	Weight uint32
	Start  uint64
	End    uint64
	Exited bool

	Runtime     uint64
	Wait        Small
	Wakeup      Small
	Voluntary   uint64
	Involuntary uint64
	Migr        [nMig]uint64
	Iterations  uint64
	IterLat     Small
	Requests    uint64
	ReqLat      Small
	Work        uint64

	runnableAt   uint64
	wakeup       bool
	runnable     bool
	running      bool
	runningSince uint64
	cpu          int
}

type groupRec struct {
	name             string
	wait, wake, iter *Hist
	req              *Hist
}

type cpuRec struct {
	busy     uint64
	switches uint64
	bins     []uint64
}

// Recorder accumulates a run's measurements.
type Recorder struct {
	groups []*groupRec
	// cgroups are the declared cgroups, listed in the results whether
	// or not they hold tasks.
	cgroups []string
	tasks   []*TaskRec
	cpus    []cpuRec
	binNS   uint64
	nbins   int
	cdf     bool
}

// NewRecorder records for nCPUIDs CPU ids over a run of duration ns,
// keeping utilization in nbins time bins.
func NewRecorder(nCPUIDs int, duration uint64, nbins int) *Recorder {
	if nbins < 1 {
		nbins = 1
	}
	bin := max(duration/uint64(nbins), 1)
	if duration%uint64(nbins) != 0 {
		bin++
	}
	r := &Recorder{binNS: bin, nbins: nbins, cdf: true}
	r.cpus = make([]cpuRec, nCPUIDs)
	for i := range r.cpus {
		r.cpus[i].bins = make([]uint64, nbins)
	}
	return r
}

// AddGroup registers a task group and returns its index.
func (r *Recorder) AddGroup(name string) int {
	r.groups = append(r.groups, &groupRec{name: name, wait: NewHist(), wake: NewHist(), iter: NewHist(), req: NewHist()})
	return len(r.groups) - 1
}

// AddCgroup declares a cgroup so that the results list it even when no
// task is in it at the end (a limited parent whose tasks are all in its
// children still has cpu.stat figures).
func (r *Recorder) AddCgroup(path string) { r.cgroups = append(r.cgroups, path) }

// NewTask starts a task's record; it is runnable from now (a new task's
// first wait counts as a wakeup latency, as wakeup_new is a wakeup).
func (r *Recorder) NewTask(pid int32, comm string, group int, cgroup string, weight uint32, now uint64) *TaskRec {
	t := &TaskRec{PID: pid, Comm: comm, Group: group, Cgroup: cgroup, Weight: weight, Start: now, cpu: -1}
	r.tasks = append(r.tasks, t)
	return t
}

// Runnable notes that t became runnable at now: woken (wakeup) or
// preempted / queued again.
func (r *Recorder) Runnable(t *TaskRec, now uint64, wakeup bool) {
	if t.runnable || t.running {
		return
	}
	t.runnable, t.runnableAt, t.wakeup = true, now, wakeup
}

// SwitchIn notes that t started running on cpu at now.
func (r *Recorder) SwitchIn(t *TaskRec, cpu int, now uint64) {
	if t.runnable {
		d := now - t.runnableAt
		t.Wait.Record(d)
		g := r.groups[t.Group]
		g.wait.Record(d)
		if t.wakeup {
			t.Wakeup.Record(d)
			g.wake.Record(d)
		}
	}
	t.runnable, t.running, t.runningSince, t.cpu = false, true, now, cpu
	r.cpus[cpu].switches++
}

// SwitchOut notes that t stopped running at now; runnable says it stays
// runnable (preempted: an involuntary switch) rather than blocking or
// exiting (a voluntary one).
func (r *Recorder) SwitchOut(t *TaskRec, now uint64, runnable, exiting bool) {
	if !t.running {
		return
	}
	r.busy(t.cpu, t.runningSince, now)
	t.Runtime += now - t.runningSince
	t.running = false
	switch {
	case exiting:
	case runnable:
		t.Involuntary++
		t.runnable, t.runnableAt, t.wakeup = true, now, false
	default:
		t.Voluntary++
	}
}

// busy adds [from, to) to cpu's busy time and utilization bins.
func (r *Recorder) busy(cpu int, from, to uint64) {
	if to <= from {
		return
	}
	c := &r.cpus[cpu]
	c.busy += to - from
	for from < to {
		b := int(from / r.binNS)
		if b >= r.nbins {
			c.bins[r.nbins-1] += to - from
			return
		}
		end := min(uint64(b+1)*r.binNS, to)
		c.bins[b] += end - from
		from = end
	}
}

// Migrated counts a migration of t at the given distance.
func (r *Recorder) Migrated(t *TaskRec, dist int) {
	if dist >= 0 && dist < nMig {
		t.Migr[dist]++
	}
}

// Exit notes t's exit at now.
func (r *Recorder) Exit(t *TaskRec, now uint64) {
	r.SwitchOut(t, now, false, true)
	t.runnable = false
	t.Exited, t.End = true, now
}

// Iteration counts one completed program iteration that took lat.
func (r *Recorder) Iteration(t *TaskRec, lat uint64) {
	t.Iterations++
	t.IterLat.Record(lat)
	r.groups[t.Group].iter.Record(lat)
}

// Request counts one served request with its arrival-to-completion
// latency.
func (r *Recorder) Request(t *TaskRec, lat uint64) {
	t.Requests++
	t.ReqLat.Record(lat)
	r.groups[t.Group].req.Record(lat)
}

// Work adds ns of completed reference-CPU work to t.
func (r *Recorder) Work(t *TaskRec, ns uint64) { t.Work += ns }

// SetWeight updates t's load weight (after a nice or policy change).
func (r *Recorder) SetWeight(t *TaskRec, w uint32) { t.Weight = w }

// SetCgroup updates t's cgroup.
func (r *Recorder) SetCgroup(t *TaskRec, path string) { t.Cgroup = path }

// Tasks returns the task records in creation order.
func (r *Recorder) Tasks() []*TaskRec { return r.tasks }

// CPUBusy returns cpu's busy time so far (segments still running not
// included).
func (r *Recorder) CPUBusy(cpu int) uint64 { return r.cpus[cpu].busy }

// Finish closes the segments still running at end and builds the
// results. info describes the run; cpus lists the possible CPU ids.
func (r *Recorder) Finish(end uint64, cpus []int, withTasks bool) *Results {
	for _, t := range r.tasks {
		if t.running {
			r.busy(t.cpu, t.runningSince, end)
			t.Runtime += end - t.runningSince
			t.runningSince = end
		}
	}
	res := &Results{Schema: Schema}
	tot := &res.Summary
	tot.DurationNS = end
	// Groups.
	type agg struct {
		tasks, exited, never    int
		runtime, work           uint64
		vol, invol, iters, reqs uint64
		migr                    [nMig]uint64
		rates                   []float64
	}
	ag := make([]agg, len(r.groups))
	cg := map[string]*CgroupResult{}
	for _, p := range r.cgroups {
		if cg[p] == nil {
			cg[p] = &CgroupResult{Path: p}
		}
	}
	for _, t := range r.tasks {
		a := &ag[t.Group]
		a.tasks++
		if t.Exited {
			a.exited++
		}
		if t.Runtime == 0 {
			a.never++
		}
		a.runtime += t.Runtime
		a.work += t.Work
		a.vol += t.Voluntary
		a.invol += t.Involuntary
		a.iters += t.Iterations
		a.reqs += t.Requests
		for i := range t.Migr {
			a.migr[i] += t.Migr[i]
		}
		life := end - t.Start
		if t.Exited {
			life = t.End - t.Start
		}
		if life > 0 && t.Weight > 0 {
			a.rates = append(a.rates, float64(t.Runtime)/float64(life)/float64(t.Weight))
		}
		c := cg[t.Cgroup]
		if c == nil {
			c = &CgroupResult{Path: t.Cgroup}
			cg[t.Cgroup] = c
		}
		c.Tasks++
		c.RuntimeNS += t.Runtime
	}
	for i, g := range r.groups {
		a := ag[i]
		gr := GroupResult{
			Name: g.name, Tasks: a.tasks, Exited: a.exited, NeverRan: a.never,
			RuntimeNS: a.runtime, WorkNS: a.work,
			Wait: g.wait.Summary(r.cdf), Wakeup: g.wake.Summary(r.cdf),
			Voluntary: a.vol, Involuntary: a.invol, Migrations: migMap(a.migr),
			Iterations: a.iters, IterLatency: g.iter.Summary(r.cdf),
			Requests: a.reqs, ReqLatency: g.req.Summary(r.cdf),
			Fairness: jain(a.rates),
		}
		res.Groups = append(res.Groups, gr)
		tot.Tasks += a.tasks
		tot.Exited += a.exited
		tot.NeverRan += a.never
		tot.RuntimeNS += a.runtime
		tot.Voluntary += a.vol
		tot.Involuntary += a.invol
		tot.Iterations += a.iters
		tot.Requests += a.reqs
		for k := range a.migr {
			tot.migr[k] += a.migr[k]
		}
	}
	tot.Migrations = migMap(tot.migr)
	// Every task's latencies together.
	allWake, allWait := NewHist(), NewHist()
	for _, g := range r.groups {
		allWake.Merge(g.wake)
		allWait.Merge(g.wait)
	}
	tot.Wakeup = allWake.Summary(r.cdf)
	tot.Wait = allWait.Summary(r.cdf)
	// Cgroups, sorted by path.
	paths := make([]string, 0, len(cg))
	for p := range cg {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		c := cg[p]
		if tot.RuntimeNS > 0 {
			c.Share = round3(float64(c.RuntimeNS) / float64(tot.RuntimeNS))
		}
		res.Cgroups = append(res.Cgroups, *c)
	}
	// CPUs.
	for _, cpu := range cpus {
		c := &r.cpus[cpu]
		cr := CPUResult{CPU: cpu, BusyNS: c.busy, Switches: c.switches}
		if end > 0 {
			cr.Utilization = round3(float64(c.busy) / float64(end))
		}
		nb := int((end + r.binNS - 1) / r.binNS)
		nb = min(max(nb, 1), r.nbins)
		for b := 0; b < nb; b++ {
			span := r.binNS
			if uint64(b+1)*r.binNS > end {
				span = end - uint64(b)*r.binNS
			}
			u := 0.0
			if span > 0 {
				u = round3(float64(c.bins[b]) / float64(span))
			}
			cr.Timeline = append(cr.Timeline, u)
		}
		res.CPUs = append(res.CPUs, cr)
		tot.BusyNS += c.busy
		tot.ContextSwitches += c.switches
	}
	res.TimelineBinNS = r.binNS
	tot.CPUs = len(cpus)
	if end > 0 && len(cpus) > 0 {
		tot.Utilization = round3(float64(tot.BusyNS) / float64(end) / float64(len(cpus)))
	}
	if withTasks {
		for _, t := range r.tasks {
			tr := TaskResult{PID: t.PID, Comm: t.Comm, Group: r.groups[t.Group].name, Cgroup: t.Cgroup,
				StartNS: t.Start, RuntimeNS: t.Runtime, WorkNS: t.Work,
				WaitMean: t.Wait.Mean(), WaitMax: t.Wait.Max,
				Wakeups: t.Wakeup.N, WakeupMean: t.Wakeup.Mean(), WakeupMax: t.Wakeup.Max,
				Voluntary: t.Voluntary, Involuntary: t.Involuntary, Migrations: migMap(t.Migr),
				Iterations: t.Iterations, Requests: t.Requests, Weight: t.Weight}
			if t.Exited {
				e := t.End
				tr.EndNS = &e
			}
			res.Tasks = append(res.Tasks, tr)
		}
	}
	return res
}

func migMap(m [nMig]uint64) Migrations {
	return Migrations{SMT: m[MigSMT], LLC: m[MigLLC], Node: m[MigNode], XNode: m[MigXNode]}
}

// jain is Jain's fairness index of xs: 1 when all are equal, 1/n when one
// has everything. NaN-free: an empty or all-zero set is 1.
func jain(xs []float64) float64 {
	var s, s2 float64
	for _, x := range xs {
		s += x
		s2 += x * x
	}
	if len(xs) == 0 || s2 == 0 {
		return 1
	}
	v := s * s / (float64(len(xs)) * s2)
	if math.IsNaN(v) {
		return 1
	}
	return round3(v)
}
