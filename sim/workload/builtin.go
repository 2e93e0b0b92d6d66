package workload

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// builtin is a built-in scenario: a generator from parameters (with
// defaults scaled to the machine's CPU count).
type builtin struct {
	doc    string
	params []param
	make   func(p *pvals) *Workload
}

type param struct {
	name, doc string
	// def returns the default for a machine of cpus CPUs.
	def func(cpus int) string
	dur bool // a duration or distribution rather than an integer
}

type pvals struct {
	cpus int
	v    map[string]string
}

func (p *pvals) int(name string) int {
	n, _ := strconv.Atoi(p.v[name])
	return n
}

func (p *pvals) dist(name string) Dist {
	d, _ := ParseDist(p.v[name])
	return d
}

func fixed(s string) func(int) string { return func(int) string { return s } }

func perCPU(mul, div, lo int) func(int) string {
	return func(cpus int) string { return strconv.Itoa(max(lo, cpus*mul/div)) }
}

var builtins = map[string]*builtin{
	"schbench": {
		doc: "schbench-style message/worker latency test: each messenger sleeps, wakes its workers, waits for all of them to reply; each worker thinks (runs) and replies. Worker wakeup latency is the figure of merit.",
		params: []param{
			{"messengers", "message threads", fixed("2"), false},
			{"workers", "workers per messenger", perCPU(1, 1, 1), false},
			{"sleep", "messenger sleep between rounds", fixed("10ms"), true},
			{"think", "worker run time per message", fixed("1ms"), true},
		},
		make: func(p *pvals) *Workload {
			m, n := p.int("messengers"), p.int("workers")
			return &Workload{Name: "schbench", Groups: []*Group{
				{Name: "messenger", Count: m, Loop: -1, Program: []Op{
					{Kind: OpSleep, Dur: p.dist("sleep")},
					{Kind: OpWake, Target: Target{Group: "worker", Which: WhichPeers}},
					{Kind: OpWait, Count: n},
				}},
				{Name: "worker", Count: m * n, Loop: -1, Program: []Op{
					{Kind: OpWait, Count: 1},
					{Kind: OpRun, Dur: p.dist("think")},
					{Kind: OpWake, Target: Target{Group: "messenger", Which: WhichPeer}},
				}},
			}}
		},
	},
	"hackbench": {
		doc: "hackbench-style pipe test: groups of senders and receivers; every sender sends loops messages to each receiver of its group, then exits; receivers exit after reading all of theirs. The time to finish is the figure of merit.",
		params: []param{
			{"groups", "sender/receiver groups", fixed("10"), false},
			{"fds", "senders (and receivers) per group", fixed("20"), false},
			{"loops", "messages from each sender to each receiver", fixed("100"), false},
			{"msg", "CPU time to write or read one message", fixed("2us"), true},
		},
		make: func(p *pvals) *Workload {
			w := &Workload{Name: "hackbench"}
			g, fds, loops := p.int("groups"), p.int("fds"), p.int("loops")
			msg := p.dist("msg")
			send := msg
			send.A *= float64(fds)
			send.B *= float64(fds)
			for i := 0; i < g; i++ {
				recv := fmt.Sprintf("receiver%d", i)
				w.Groups = append(w.Groups,
					&Group{Name: fmt.Sprintf("sender%d", i), Count: fds, Loop: loops, Program: []Op{
						{Kind: OpRun, Dur: send},
						{Kind: OpWake, Target: Target{Group: recv, Which: WhichAll}},
					}},
					&Group{Name: recv, Count: fds, Loop: fds * loops, Program: []Op{
						{Kind: OpWait, Count: 1},
						{Kind: OpRun, Dur: msg},
					}})
			}
			return w
		},
	},
	"hogs": {
		doc: "CPU hogs: tasks that never sleep. With more hogs than CPUs the figure of merit is fairness.",
		params: []param{
			{"tasks", "number of hogs", perCPU(1, 1, 1), false},
			{"nice", "nice value of the hogs", fixed("0"), false},
		},
		make: func(p *pvals) *Workload {
			return &Workload{Name: "hogs", Groups: []*Group{
				{Name: "hog", Count: p.int("tasks"), Nice: p.int("nice"), Loop: -1, Program: []Op{
					{Kind: OpRun, Dur: FixedDist(10_000_000)},
				}},
			}}
		},
	},
	"mixed": {
		doc: "interactive plus batch: short-running sleepers and periodic tasks in /interactive next to CPU-bound batch tasks in /batch (cpu.weight 50). The figures of merit are the interactive wakeup latency and the batch throughput.",
		params: []param{
			{"interactive", "interactive tasks", perCPU(1, 1, 1), false},
			{"batch", "batch hogs", perCPU(1, 1, 1), false},
			{"periodic", "periodic (timer) tasks", perCPU(1, 8, 1), false},
			{"think", "interactive sleep between bursts", fixed("exp(8ms)"), true},
			{"burst", "interactive run burst", fixed("exp(1ms)"), true},
		},
		make: func(p *pvals) *Workload {
			return &Workload{Name: "mixed",
				Cgroups: []Cgroup{
					{Path: "/interactive", Weight: 100, PeriodUS: 100000},
					{Path: "/batch", Weight: 50, PeriodUS: 100000},
				},
				Groups: []*Group{
					{Name: "interactive", Count: p.int("interactive"), Cgroup: "/interactive", Loop: -1, Program: []Op{
						{Kind: OpSleep, Dur: p.dist("think")},
						{Kind: OpRun, Dur: p.dist("burst")},
					}},
					{Name: "periodic", Count: p.int("periodic"), Cgroup: "/interactive", Loop: -1, Program: []Op{
						{Kind: OpTimer, Period: 10_000_000, Name: "period"},
						{Kind: OpRun, Dur: FixedDist(1_000_000)},
					}},
					{Name: "batch", Count: p.int("batch"), Cgroup: "/batch", Policy: "batch", Loop: -1, Program: []Op{
						{Kind: OpRun, Dur: FixedDist(20_000_000)},
					}},
				}}
		},
	},
	"build": {
		doc: "fork-heavy build: make-like jobs each fork a compiler, wait for it and start the next; compilers run, do a little IO and exit. Completed compiles are the figure of merit.",
		params: []param{
			{"jobs", "parallel make jobs", perCPU(1, 1, 1), false},
			{"compile", "compiler CPU time", fixed("lognormal(20ms,0.8)"), true},
		},
		make: func(p *pvals) *Workload {
			return &Workload{Name: "build", Groups: []*Group{
				{Name: "make", Count: p.int("jobs"), Loop: -1, Program: []Op{
					{Kind: OpRun, Dur: FixedDist(200_000)},
					{Kind: OpFork, Target: Target{Group: "cc"}, Count: 1, Wait: true},
				}},
				{Name: "cc", Count: 0, Loop: 1, Program: []Op{
					{Kind: OpRun, Dur: p.dist("compile")},
					{Kind: OpSleep, Dur: Dist{Kind: Exp, A: 500_000}},
					{Kind: OpRun, Dur: Dist{Kind: Exp, A: 3_000_000}},
				}},
			}}
		},
	},
	"server": {
		doc: "open-loop server: requests arrive at a fixed mean rate (Poisson) into a queue served by a worker pool. Request latency is the figure of merit.",
		params: []param{
			{"workers", "worker pool size", perCPU(2, 1, 1), false},
			{"rate", "requests per second", perCPU(2000, 1, 1), false},
			{"service", "work per request", fixed("exp(200us)"), true},
		},
		make: func(p *pvals) *Workload {
			return &Workload{Name: "server",
				Arrivals: []Arrival{{Pool: "requests", Interval: Dist{Kind: Exp, A: 1e9 / float64(p.int("rate"))}, Service: p.dist("service")}},
				Groups: []*Group{
					{Name: "worker", Count: p.int("workers"), Loop: -1, Program: []Op{
						{Kind: OpServe, Name: "requests"},
					}},
				}}
		},
	},
}

// BuiltinNames lists the built-in scenarios.
func BuiltinNames() []string {
	out := make([]string, 0, len(builtins))
	for n := range builtins {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// BuiltinDoc describes a built-in scenario and its parameters with their
// defaults for a machine of cpus CPUs.
func BuiltinDoc(name string, cpus int) string {
	b := builtins[name]
	if b == nil {
		return ""
	}
	var s strings.Builder
	fmt.Fprintf(&s, "%s: %s\n", name, b.doc)
	for _, p := range b.params {
		fmt.Fprintf(&s, "    %-12s %s (default %s)\n", p.name, p.doc, p.def(cpus))
	}
	return s.String()
}

// Builtin builds a built-in scenario for a machine of cpus CPUs. spec is
// the name optionally followed by parameters: "schbench",
// "schbench:workers=64,think=2ms".
func Builtin(spec string, cpus int) (*Workload, error) {
	name, args, _ := strings.Cut(spec, ":")
	b := builtins[name]
	if b == nil {
		return nil, fmt.Errorf("unknown built-in workload %q (have: %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	pv := &pvals{cpus: cpus, v: map[string]string{}}
	for _, p := range b.params {
		pv.v[p.name] = p.def(cpus)
	}
	if args != "" {
		for _, kv := range strings.Split(args, ",") {
			k, v, ok := strings.Cut(kv, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			var pd *param
			for i := range b.params {
				if b.params[i].name == k {
					pd = &b.params[i]
				}
			}
			if !ok || pd == nil {
				var names []string
				for _, p := range b.params {
					names = append(names, p.name)
				}
				return nil, fmt.Errorf("workload %s: parameter %q: expected NAME=VALUE with NAME one of %s", name, kv, strings.Join(names, ", "))
			}
			if pd.dur {
				if _, err := ParseDist(v); err != nil {
					return nil, fmt.Errorf("workload %s: %s: %v", name, k, err)
				}
			} else if n, err := strconv.Atoi(v); err != nil || n < 0 || n > 1<<22 {
				return nil, fmt.Errorf("workload %s: %s: expected a non-negative integer, got %q", name, k, v)
			}
			pv.v[k] = v
		}
	}
	w := b.make(pv)
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("workload %s: %w", name, err)
	}
	return w, nil
}
