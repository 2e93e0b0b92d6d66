package workload

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/scxsim/scxsim/kernel/topo"
)

// ParseYAML reads a workload in the YAML format described in FORMAT.md.
// Errors name the file, the line and what was expected there.
func ParseYAML(file string, data []byte) (*Workload, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlSyntaxError(file, data, err)
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, &Error{File: file, Msg: "empty workload file: expected a mapping with a groups key"}
	}
	d := &ydec{file: file}
	w, err := d.workload(root.Content[0])
	if err != nil {
		return nil, withFile(err, file)
	}
	if err := w.Validate(); err != nil {
		return nil, withFile(err, file)
	}
	return w, nil
}

// yamlSyntaxError turns yaml.v3's "yaml: line N: msg" into an Error.
func yamlSyntaxError(file string, data []byte, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, tail
				line = yamlProblemLine(data, line, msg)
			}
		}
	}
	return &Error{File: file, Line: line, Msg: "invalid YAML: " + msg}
}

// maxRefineLines bounds yamlProblemLine's quadratic search.
const maxRefineLines = 2000

// yamlProblemLine finds the line a syntax error is on. yaml.v3 reports the
// line where the enclosing block began (often line 1 or 2 for an
// indentation mistake further down) rather than where the parser gave up;
// the problem is on the first line from there whose prefix of the file
// already fails with the same message. When no prefix does, the reported
// line stands.
func yamlProblemLine(data []byte, reported int, msg string) int {
	lines := strings.SplitAfter(string(data), "\n")
	if reported < 1 || len(lines) > maxRefineLines {
		return reported
	}
	end := 0
	for i, l := range lines {
		end += len(l)
		if i+1 < reported {
			continue
		}
		var n yaml.Node
		err := yaml.Unmarshal(data[:end], &n)
		if err == nil {
			continue
		}
		m := err.Error()
		if _, tail, ok := strings.Cut(strings.TrimPrefix(m, "yaml: "), ": "); ok && strings.HasPrefix(m, "yaml: line ") {
			m = tail
		}
		if m == msg {
			return i + 1
		}
	}
	return reported
}

type ydec struct {
	file string
}

func (d *ydec) errf(n *yaml.Node, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)}
}

type ykv struct {
	key string
	k   *yaml.Node
	v   *yaml.Node
}

// fields checks n is a mapping whose keys are all in allowed and returns
// its pairs in order.
func (d *ydec) fields(n *yaml.Node, what string, allowed ...string) ([]ykv, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil, d.errf(n, "%s: expected a mapping, got %s", what, kindName(n))
	}
	var out []ykv
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if k.Kind != yaml.ScalarNode {
			return nil, d.errf(k, "%s: expected a key name", what)
		}
		ok := false
		for _, a := range allowed {
			if a == k.Value {
				ok = true
				break
			}
		}
		if !ok {
			return nil, d.errf(k, "%s: unknown key %q (expected one of: %s)", what, k.Value, strings.Join(allowed, ", "))
		}
		if seen[k.Value] {
			return nil, d.errf(k, "%s: duplicate key %q", what, k.Value)
		}
		seen[k.Value] = true
		out = append(out, ykv{k.Value, k, v})
	}
	return out, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func (d *ydec) str(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", d.errf(n, "%s: expected a string, got %s", what, kindName(n))
	}
	return n.Value, nil
}

func (d *ydec) integer(n *yaml.Node, what string, lo, hi int) (int, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, d.errf(n, "%s: expected an integer, got %s", what, kindName(n))
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil {
		return 0, d.errf(n, "%s: expected an integer, got %q", what, n.Value)
	}
	if v < int64(lo) || v > int64(hi) {
		return 0, d.errf(n, "%s: %d is out of range [%d, %d]", what, v, lo, hi)
	}
	return int(v), nil
}

func (d *ydec) boolean(n *yaml.Node, what string) (bool, error) {
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "true", "yes", "on":
			return true, nil
		case "false", "no", "off":
			return false, nil
		}
	}
	return false, d.errf(n, "%s: expected true or false, got %s", what, kindName(n))
}

func (d *ydec) duration(n *yaml.Node, what string) (uint64, error) {
	s, err := d.str(n, what)
	if err != nil {
		return 0, err
	}
	v, err := ParseDuration(s)
	if err != nil {
		return 0, d.errf(n, "%s: %v", what, err)
	}
	return v, nil
}

func (d *ydec) dist(n *yaml.Node, what string) (Dist, error) {
	s, err := d.str(n, what)
	if err != nil {
		return Dist{}, err
	}
	v, err := ParseDist(s)
	if err != nil {
		return Dist{}, d.errf(n, "%s: %v", what, err)
	}
	return v, nil
}

// cpus reads a cpu list string ("0-3,8"), a list of cpu numbers, or "all"
// (nil).
func (d *ydec) cpus(n *yaml.Node, what string) ([]int, error) {
	if n.Kind == yaml.SequenceNode {
		var out []int
		for _, c := range n.Content {
			v, err := d.integer(c, what, 0, topo.MaxCPUs-1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		if len(out) == 0 {
			return nil, d.errf(n, "%s: empty cpu list", what)
		}
		return normCPUs(out), nil
	}
	s, err := d.str(n, what)
	if err != nil {
		return nil, err
	}
	if s == "all" {
		return nil, nil
	}
	l, err := topo.ParseCPUList(s)
	if err != nil {
		return nil, d.errf(n, "%s: %v", what, err)
	}
	if len(l) == 0 {
		return nil, d.errf(n, "%s: empty cpu list", what)
	}
	return l, nil
}

func normCPUs(l []int) []int {
	m := topo.NewCPUMask(topo.MaxCPUs)
	for _, c := range l {
		m.Set(c)
	}
	return m.List()
}

func (d *ydec) policy(n *yaml.Node, what string) (string, error) {
	s, err := d.str(n, what)
	if err != nil {
		return "", err
	}
	for _, p := range Policies {
		if p == s {
			return s, nil
		}
	}
	return "", d.errf(n, "%s: unknown policy %q (expected one of: %s)", what, s, strings.Join(Policies, ", "))
}

// rtPolicy reports a policy of the RT class, which needs an rtprio.
func rtPolicy(p string) bool { return p == "fifo" || p == "rr" }

// checkRTPrio mirrors sched_setscheduler()'s rule: fifo and rr need an
// rtprio (1..99), the other policies none.
func (d *ydec) checkRTPrio(what, pol string, rtprio int, polNode, prioNode, at *yaml.Node) error {
	switch {
	case rtPolicy(pol) && rtprio == 0:
		if polNode == nil {
			polNode = at
		}
		return d.errf(polNode, "%s: policy %s needs an rtprio (1..99)", what, pol)
	case !rtPolicy(pol) && rtprio != 0:
		return d.errf(prioNode, "%s: rtprio is for policy fifo or rr, not %s", what, cmp.Or(pol, "normal"))
	}
	return nil
}

// policyOp reads the policy op: a policy name, or {policy: fifo|rr,
// rtprio: 1..99}.
func (d *ydec) policyOp(v *yaml.Node) (string, int, error) {
	if v.Kind != yaml.MappingNode {
		pol, err := d.policy(v, "policy")
		if err == nil {
			err = d.checkRTPrio("policy", pol, 0, v, nil, v)
		}
		return pol, 0, err
	}
	kvs, err := d.fields(v, "policy", "policy", "rtprio")
	if err != nil {
		return "", 0, err
	}
	var pol string
	var prio int
	var polNode, prioNode *yaml.Node
	for _, kv := range kvs {
		switch kv.key {
		case "policy":
			pol, err = d.policy(kv.v, "policy")
			polNode = kv.v
		case "rtprio":
			prio, err = d.integer(kv.v, "policy rtprio", 1, 99)
			prioNode = kv.v
		}
		if err != nil {
			return "", 0, err
		}
	}
	if polNode == nil {
		return "", 0, d.errf(v, "policy: expected a policy")
	}
	return pol, prio, d.checkRTPrio("policy", pol, prio, polNode, prioNode, v)
}

func (d *ydec) workload(n *yaml.Node) (*Workload, error) {
	kvs, err := d.fields(n, "workload", "name", "duration", "cgroups", "groups", "arrivals")
	if err != nil {
		return nil, err
	}
	w := &Workload{}
	haveGroups := false
	for _, kv := range kvs {
		switch kv.key {
		case "name":
			if w.Name, err = d.str(kv.v, "name"); err != nil {
				return nil, err
			}
		case "duration":
			if w.Duration, err = d.duration(kv.v, "duration"); err != nil {
				return nil, err
			}
		case "cgroups":
			if err := d.seq(kv.v, "cgroups", func(e *yaml.Node) error {
				c, err := d.cgroup(e)
				if err != nil {
					return err
				}
				w.Cgroups = append(w.Cgroups, c)
				return nil
			}); err != nil {
				return nil, err
			}
		case "groups":
			haveGroups = true
			if err := d.seq(kv.v, "groups", func(e *yaml.Node) error {
				g, err := d.group(e)
				if err != nil {
					return err
				}
				w.Groups = append(w.Groups, g)
				return nil
			}); err != nil {
				return nil, err
			}
		case "arrivals":
			if err := d.seq(kv.v, "arrivals", func(e *yaml.Node) error {
				a, err := d.arrival(e)
				if err != nil {
					return err
				}
				w.Arrivals = append(w.Arrivals, a)
				return nil
			}); err != nil {
				return nil, err
			}
		}
	}
	if !haveGroups || len(w.Groups) == 0 {
		return nil, d.errf(n, "workload: expected a non-empty groups list")
	}
	return w, nil
}

func (d *ydec) seq(n *yaml.Node, what string, fn func(*yaml.Node) error) error {
	if n.Kind != yaml.SequenceNode {
		return d.errf(n, "%s: expected a list, got %s", what, kindName(n))
	}
	for _, e := range n.Content {
		if e.Kind == yaml.AliasNode {
			e = e.Alias
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (d *ydec) cgroup(n *yaml.Node) (Cgroup, error) {
	kvs, err := d.fields(n, "cgroup", "path", "weight", "max", "burst", "idle")
	if err != nil {
		return Cgroup{}, err
	}
	c := Cgroup{Weight: 100, PeriodUS: 100000, Line: n.Line}
	var weightN, burstN *yaml.Node
	for _, kv := range kvs {
		switch kv.key {
		case "path":
			if c.Path, err = d.str(kv.v, "cgroup path"); err != nil {
				return c, err
			}
			if !strings.HasPrefix(c.Path, "/") || c.Path == "/" || strings.HasSuffix(c.Path, "/") || strings.Contains(c.Path, "//") {
				return c, d.errf(kv.v, "cgroup path: expected an absolute path below / like /batch, got %q", c.Path)
			}
		case "weight":
			v, err := d.integer(kv.v, "cgroup weight", 1, 10000)
			if err != nil {
				return c, err
			}
			c.Weight, weightN = uint32(v), kv.v
		case "max":
			s, err := d.str(kv.v, "cgroup max")
			if err != nil {
				return c, err
			}
			q, p, err := parseCPUMax(s)
			if err != nil {
				return c, d.errf(kv.v, "cgroup max: %v", err)
			}
			c.QuotaUS, c.PeriodUS = q, p
		case "burst":
			b, err := d.duration(kv.v, "cgroup burst")
			if err != nil {
				return c, err
			}
			if b%1000 != 0 {
				return c, d.errf(kv.v, "cgroup burst: %s is not a whole number of microseconds (cpu.max.burst is in us)", kv.v.Value)
			}
			c.BurstUS, burstN = b/1000, kv.v
		case "idle":
			if c.Idle, err = d.boolean(kv.v, "cgroup idle"); err != nil {
				return c, err
			}
		}
	}
	if c.Path == "" {
		return c, d.errf(n, "cgroup: expected a path")
	}
	// tg_set_cfs_bandwidth() refuses a burst above the quota (a burst
	// with quota "max" is kept and has no effect).
	if burstN != nil && c.QuotaUS > 0 && c.BurstUS > c.QuotaUS {
		return c, d.errf(burstN, "cgroup burst: %s exceeds the cpu.max quota %s (cpu.max.burst must be <= quota)", burstN.Value, fmtUS(c.QuotaUS))
	}
	// sched_group_set_shares() refuses any cpu.weight write on a group
	// with cpu.idle 1, so a cgroup cannot have both.
	if c.Idle && weightN != nil {
		return c, d.errf(weightN, "cgroup weight: cannot be set on a cgroup with idle: true (the kernel refuses cpu.weight on an idle group with EINVAL)")
	}
	return c, nil
}

// fmtUS formats us microseconds as a duration for messages.
func fmtUS(us uint64) string {
	switch {
	case us%1000_000 == 0:
		return fmt.Sprintf("%ds", us/1000_000)
	case us%1000 == 0:
		return fmt.Sprintf("%dms", us/1000)
	}
	return fmt.Sprintf("%dus", us)
}

// Limits of tg_set_cfs_bandwidth(): min_cfs_quota_period, max_cfs_quota_period.
const (
	minCfsQuotaPeriodNS = 1_000_000
	maxCfsQuotaPeriodNS = 1_000_000_000
)

// parseCPUMax parses cpu.max: "QUOTA PERIOD" with durations ("50ms
// 100ms"), or "max" / "max PERIOD". Values are returned in us. It checks
// what tg_set_cfs_bandwidth() checks: period in [1ms, 1s], quota >= 1ms.
func parseCPUMax(s string) (quota, period uint64, err error) {
	f := strings.Fields(s)
	if len(f) < 1 || len(f) > 2 {
		return 0, 0, fmt.Errorf("expected \"QUOTA PERIOD\" like \"50ms 100ms\", or \"max\", got %q", s)
	}
	period = 100000
	if len(f) == 2 {
		p, err := ParseDuration(f[1])
		if err != nil {
			return 0, 0, err
		}
		if p < minCfsQuotaPeriodNS || p > maxCfsQuotaPeriodNS {
			return 0, 0, fmt.Errorf("period %s out of range [1ms, 1s] (the kernel's min/max cfs quota period)", f[1])
		}
		if p%1000 != 0 {
			return 0, 0, fmt.Errorf("period %s is not a whole number of microseconds", f[1])
		}
		period = p / 1000
	}
	if f[0] == "max" {
		return 0, period, nil
	}
	q, err := ParseDuration(f[0])
	if err != nil {
		return 0, 0, err
	}
	if q < minCfsQuotaPeriodNS {
		return 0, 0, fmt.Errorf("quota %s below 1ms (the kernel's min cfs quota)", f[0])
	}
	if q%1000 != 0 {
		return 0, 0, fmt.Errorf("quota %s is not a whole number of microseconds", f[0])
	}
	return q / 1000, period, nil
}

func (d *ydec) arrival(n *yaml.Node) (Arrival, error) {
	kvs, err := d.fields(n, "arrival", "pool", "interval", "rate", "service", "start", "max")
	if err != nil {
		return Arrival{}, err
	}
	a := Arrival{Line: n.Line}
	haveInterval := false
	for _, kv := range kvs {
		switch kv.key {
		case "pool":
			if a.Pool, err = d.str(kv.v, "arrival pool"); err != nil {
				return a, err
			}
		case "interval":
			if haveInterval {
				return a, d.errf(kv.k, "arrival: give either interval or rate, not both")
			}
			haveInterval = true
			if a.Interval, err = d.dist(kv.v, "arrival interval"); err != nil {
				return a, err
			}
		case "rate":
			if haveInterval {
				return a, d.errf(kv.k, "arrival: give either interval or rate, not both")
			}
			haveInterval = true
			s, err := d.str(kv.v, "arrival rate")
			if err != nil {
				return a, err
			}
			r, err := parseRate(s)
			if err != nil {
				return a, d.errf(kv.v, "arrival rate: %v", err)
			}
			a.Interval = Dist{Kind: Exp, A: 1e9 / r}
		case "service":
			if a.Service, err = d.dist(kv.v, "arrival service"); err != nil {
				return a, err
			}
		case "start":
			if a.Start, err = d.duration(kv.v, "arrival start"); err != nil {
				return a, err
			}
		case "max":
			if a.Max, err = d.integer(kv.v, "arrival max", 0, math.MaxInt32); err != nil {
				return a, err
			}
		}
	}
	if a.Pool == "" {
		return a, d.errf(n, "arrival: expected a pool")
	}
	if !haveInterval {
		return a, d.errf(n, "arrival: expected an interval or a rate")
	}
	if a.Interval.Mean() < 1 {
		return a, d.errf(n, "arrival: the mean interval must be at least 1ns")
	}
	return a, nil
}

// parseRate parses "1000/s", "50/ms" or a bare number per second.
func parseRate(s string) (float64, error) {
	num, unit, hasUnit := strings.Cut(strings.TrimSpace(s), "/")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("expected a positive rate like 1000/s, got %q", s)
	}
	if hasUnit {
		per, err := ParseDuration("1" + strings.TrimSpace(unit))
		if err != nil || per == 0 {
			return 0, fmt.Errorf("rate unit %q: expected s, ms or us", unit)
		}
		v *= 1e9 / float64(per)
	}
	if v > 1e9 {
		return 0, fmt.Errorf("rate %q above one per ns", s)
	}
	return v, nil
}

func (d *ydec) group(n *yaml.Node) (*Group, error) {
	kvs, err := d.fields(n, "group", "name", "count", "nice", "policy", "rtprio", "cpus", "cgroup", "start", "loop", "program")
	if err != nil {
		return nil, err
	}
	g := &Group{Count: 1, Loop: -1, Line: n.Line}
	haveProg := false
	var policyNode, rtprioNode *yaml.Node
	for _, kv := range kvs {
		switch kv.key {
		case "name":
			if g.Name, err = d.str(kv.v, "group name"); err != nil {
				return nil, err
			}
		case "count":
			if g.Count, err = d.integer(kv.v, "group count", 0, 1<<22); err != nil {
				return nil, err
			}
		case "nice":
			if g.Nice, err = d.integer(kv.v, "group nice", -20, 19); err != nil {
				return nil, err
			}
		case "policy":
			if g.Policy, err = d.policy(kv.v, "group policy"); err != nil {
				return nil, err
			}
			policyNode = kv.v
		case "rtprio":
			if g.RTPrio, err = d.integer(kv.v, "group rtprio", 1, 99); err != nil {
				return nil, err
			}
			rtprioNode = kv.v
		case "cpus":
			if g.CPUs, err = d.cpus(kv.v, "group cpus"); err != nil {
				return nil, err
			}
		case "cgroup":
			if g.Cgroup, err = d.str(kv.v, "group cgroup"); err != nil {
				return nil, err
			}
		case "start":
			if g.Start, err = d.duration(kv.v, "group start"); err != nil {
				return nil, err
			}
		case "loop":
			if g.Loop, err = d.integer(kv.v, "group loop", -1, math.MaxInt32); err != nil {
				return nil, err
			}
			if g.Loop == 0 {
				return nil, d.errf(kv.v, "group loop: expected -1 (forever) or a positive count")
			}
		case "program":
			haveProg = true
			if g.Program, err = d.program(kv.v); err != nil {
				return nil, err
			}
		}
	}
	if g.Name == "" {
		return nil, d.errf(n, "group: expected a name")
	}
	if !haveProg {
		return nil, d.errf(n, "group %q: expected a program", g.Name)
	}
	if err := d.checkRTPrio(fmt.Sprintf("group %q", g.Name), g.Policy, g.RTPrio, policyNode, rtprioNode, n); err != nil {
		return nil, err
	}
	return g, nil
}

func (d *ydec) program(n *yaml.Node) ([]Op, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, d.errf(n, "program: expected a list of operations, got %s", kindName(n))
	}
	if len(n.Content) == 0 {
		return nil, d.errf(n, "program: expected at least one operation")
	}
	var ops []Op
	for _, e := range n.Content {
		if e.Kind == yaml.AliasNode {
			e = e.Alias
		}
		op, err := d.op(e)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// opNamesYAML lists the operation keys in the order FORMAT.md gives them.
var opNamesYAML = []string{"run", "runtime", "sleep", "timer", "wake", "wait", "barrier", "fork",
	"exit", "affinity", "nice", "policy", "cgroup", "yield", "loop", "serve", "lock", "unlock",
	"condwait", "signal", "broadcast"}

func (d *ydec) op(n *yaml.Node) (Op, error) {
	var name string
	var v *yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		name = n.Value
		v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			return Op{}, d.errf(n, "operation: expected one key naming the operation (%s)", strings.Join(opNamesYAML, ", "))
		}
		name, v = n.Content[0].Value, n.Content[1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
	default:
		return Op{}, d.errf(n, "operation: expected a mapping like {run: 1ms}, got %s", kindName(n))
	}
	op := Op{Line: n.Line}
	isNull := v.Kind == yaml.ScalarNode && v.Tag == "!!null"
	noArg := func() error {
		if !isNull {
			return d.errf(v, "%s: takes no argument", name)
		}
		return nil
	}
	var err error
	switch name {
	case "run", "runtime", "sleep":
		op.Kind = map[string]OpKind{"run": OpRun, "runtime": OpRunTime, "sleep": OpSleep}[name]
		op.Dur, err = d.dist(v, name)
	case "timer":
		op.Kind = OpTimer
		if v.Kind == yaml.MappingNode {
			kvs, ferr := d.fields(v, "timer", "period", "name", "absolute")
			if ferr != nil {
				return op, ferr
			}
			for _, kv := range kvs {
				switch kv.key {
				case "period":
					op.Period, err = d.duration(kv.v, "timer period")
				case "name":
					op.Name, err = d.str(kv.v, "timer name")
				case "absolute":
					op.Absolute, err = d.boolean(kv.v, "timer absolute")
				}
				if err != nil {
					return op, err
				}
			}
		} else {
			op.Period, err = d.duration(v, "timer period")
		}
		if err == nil && op.Period == 0 {
			err = d.errf(v, "timer: expected a positive period")
		}
		if op.Name == "" {
			op.Name = fmt.Sprintf("timer@%d", n.Line)
		}
	case "wake":
		op.Kind = OpWake
		op.Target, err = d.target(v, "wake")
	case "wait":
		op.Kind = OpWait
		op.Count = 1
		if !isNull {
			op.Count, err = d.integer(v, "wait", 1, math.MaxInt32)
		}
	case "barrier":
		op.Kind = OpBarrier
		op.Name, err = d.str(v, "barrier")
	case "fork":
		op.Kind = OpFork
		op.Count = 1
		if v.Kind == yaml.MappingNode {
			kvs, ferr := d.fields(v, "fork", "group", "count", "wait")
			if ferr != nil {
				return op, ferr
			}
			for _, kv := range kvs {
				switch kv.key {
				case "group":
					op.Target.Group, err = d.str(kv.v, "fork group")
				case "count":
					op.Count, err = d.integer(kv.v, "fork count", 1, 1<<20)
				case "wait":
					op.Wait, err = d.boolean(kv.v, "fork wait")
				}
				if err != nil {
					return op, err
				}
			}
			if op.Target.Group == "" {
				err = d.errf(v, "fork: expected a group")
			}
		} else {
			op.Target.Group, err = d.str(v, "fork")
		}
	case "exit":
		op.Kind = OpExit
		err = noArg()
	case "yield":
		op.Kind = OpYield
		err = noArg()
	case "affinity":
		op.Kind = OpAffinity
		op.CPUs, err = d.cpus(v, "affinity")
	case "nice":
		op.Kind = OpNice
		op.Nice, err = d.integer(v, "nice", -20, 19)
	case "policy":
		op.Kind = OpPolicy
		op.Policy, op.RTPrio, err = d.policyOp(v)
	case "cgroup":
		op.Kind = OpCgroup
		op.Name, err = d.str(v, "cgroup")
	case "loop":
		op.Kind = OpLoop
		kvs, ferr := d.fields(v, "loop", "count", "do")
		if ferr != nil {
			return op, ferr
		}
		op.Count = -1
		for _, kv := range kvs {
			switch kv.key {
			case "count":
				op.Count, err = d.integer(kv.v, "loop count", -1, math.MaxInt32)
				if err == nil && op.Count == 0 {
					err = d.errf(kv.v, "loop count: expected -1 (forever) or a positive count")
				}
			case "do":
				op.Body, err = d.program(kv.v)
			}
			if err != nil {
				return op, err
			}
		}
		if op.Body == nil {
			err = d.errf(v, "loop: expected a do list")
		}
	case "serve":
		op.Kind = OpServe
		op.Name, err = d.str(v, "serve")
	case "lock", "unlock", "signal", "broadcast":
		op.Kind = map[string]OpKind{"lock": OpLock, "unlock": OpUnlock, "signal": OpSignal, "broadcast": OpBroadcast}[name]
		op.Name, err = d.str(v, name)
	case "condwait":
		op.Kind = OpCondWait
		kvs, ferr := d.fields(v, "condwait", "cond", "mutex")
		if ferr != nil {
			return op, ferr
		}
		for _, kv := range kvs {
			switch kv.key {
			case "cond":
				op.Name, err = d.str(kv.v, "condwait cond")
			case "mutex":
				op.Mutex, err = d.str(kv.v, "condwait mutex")
			}
			if err != nil {
				return op, err
			}
		}
		if op.Name == "" || op.Mutex == "" {
			err = d.errf(v, "condwait: expected cond and mutex")
		}
	default:
		return op, d.errf(n, "unknown operation %q (expected one of: %s)", name, strings.Join(opNamesYAML, ", "))
	}
	return op, err
}

func (d *ydec) target(n *yaml.Node, what string) (Target, error) {
	if n.Kind == yaml.MappingNode {
		kvs, err := d.fields(n, what, "group", "which")
		if err != nil {
			return Target{}, err
		}
		var t Target
		for _, kv := range kvs {
			switch kv.key {
			case "group":
				if t.Group, err = d.str(kv.v, what+" group"); err != nil {
					return t, err
				}
			case "which":
				s, err := d.str(kv.v, what+" which")
				if err != nil {
					return t, err
				}
				w, ok := ParseWhich(s)
				if !ok {
					return t, d.errf(kv.v, "%s which: unknown %q (expected one of: %s)", what, s, strings.Join(whichNames[:], ", "))
				}
				t.Which = w
			}
		}
		if t.Group == "" {
			return t, d.errf(n, "%s: expected a group", what)
		}
		return t, nil
	}
	g, err := d.str(n, what)
	return Target{Group: g}, err
}
