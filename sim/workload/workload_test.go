package workload

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Malformed YAML gets an error naming the file, the line and what was
// expected there.
func TestYAMLErrors(t *testing.T) {
	cases := []struct {
		src, want string
	}{
		{"groups: [", "bad.yaml:1: invalid YAML"},
		// Indentation mistakes further down: yaml.v3 names line 2, where
		// the enclosing block began.
		{"name: a\ngroups:\n  - name: w\n    program:\n      - run: 1ms\n     - sleep: 1ms\n", "bad.yaml:6: invalid YAML: did not find expected key"},
		{"name: a\ngroups:\n  - name: w\n    count: 1\n   nice: 2\n    program: [{run: 1ms}]\n", "bad.yaml:5: invalid YAML: did not find expected '-' indicator"},
		{"name: a\nduration: 1s\n  x: 2\ngroups: []\n", "bad.yaml:3: invalid YAML: mapping values are not allowed"},
		{"a: 1\nb: [1,\n  2]\nc: [3\nd: 4\n", "bad.yaml:4: invalid YAML: did not find expected ',' or ']'"},
		{"", "bad.yaml: empty workload file"},
		{"name: x\n", "bad.yaml:1:1: workload: expected a non-empty groups list"},
		{"groups:\n  - name: a\n    program:\n      - run: 10\n", "bad.yaml:4:14: run: duration \"10\" needs a unit"},
		{"groups:\n  - name: a\n    program:\n      - jump: 1ms\n", "bad.yaml:4:9: unknown operation \"jump\" (expected one of: run,"},
		{"groups:\n  - name: a\n    colour: red\n    program: [{run: 1ms}]\n", "bad.yaml:3:5: group: unknown key \"colour\" (expected one of: name, count,"},
		{"groups:\n  - name: a\n    count: -2\n    program: [{run: 1ms}]\n", "bad.yaml:3:12: group count: -2 is out of range"},
		{"groups:\n  - name: a\n    nice: 30\n    program: [{run: 1ms}]\n", "bad.yaml:3:11: group nice: 30 is out of range [-20, 19]"},
		{"groups:\n  - name: a\n    policy: deadline\n    program: [{run: 1ms}]\n", "bad.yaml:3:13: group policy: unknown policy \"deadline\""},
		{"groups:\n  - name: a\n    policy: fifo\n    program: [{run: 1ms}]\n", "bad.yaml:3:13: group \"a\": policy fifo needs an rtprio (1..99)"},
		{"groups:\n  - name: a\n    policy: rr\n    rtprio: 100\n    program: [{run: 1ms}]\n", "bad.yaml:4:13: group rtprio: 100 is out of range [1, 99]"},
		{"groups:\n  - name: a\n    rtprio: 5\n    program: [{run: 1ms}]\n", "bad.yaml:3:13: group \"a\": rtprio is for policy fifo or rr, not normal"},
		{"groups:\n  - name: a\n    program: [{policy: fifo}]\n", "bad.yaml:3:24: policy: policy fifo needs an rtprio (1..99)"},
		{"groups:\n  - name: a\n    program: [{policy: {policy: rr, rtprio: 0}}]\n", "bad.yaml:3:45: policy rtprio: 0 is out of range [1, 99]"},
		{"groups:\n  - name: a\n    program: [{policy: {policy: batch, rtprio: 3}}]\n", "bad.yaml:3:48: policy: rtprio is for policy fifo or rr, not batch"},
		{"groups:\n  - name: a\n    cpus: \"3-1\"\n    program: [{run: 1ms}]\n", "bad.yaml:3:11: group cpus: cpu list \"3-1\""},
		{"groups:\n  - name: a\n", "bad.yaml:2:5: group \"a\": expected a program"},
		{"groups:\n  - program: [{run: 1ms}]\n", "bad.yaml:2:5: group: expected a name"},
		{"groups:\n  - name: a\n    program: [{run: 1ms}]\n  - name: a\n    program: [{run: 1ms}]\n", "bad.yaml:4: duplicate group name \"a\""},
		{"groups:\n  - name: a\n    program: [{wake: b}]\n", "bad.yaml:3: wake: no group named \"b\""},
		{"groups:\n  - name: a\n    program: [{fork: {group: a, count: 0}}]\n", "bad.yaml:3:40: fork count: 0 is out of range"},
		{"groups:\n  - name: a\n    cgroup: /x\n    program: [{run: 1ms}]\n", "bad.yaml:2: group \"a\": cgroup \"/x\" is not declared"},
		{"cgroups: [{path: /a/b}]\ngroups: [{name: a, program: [{run: 1ms}]}]\n", "bad.yaml:1: cgroup \"/a/b\": parent \"/a\" is not declared before it"},
		{"cgroups: [{path: /a, weight: 0}]\ngroups: [{name: a, program: [{run: 1ms}]}]\n", "bad.yaml:1:30: cgroup weight: 0 is out of range [1, 10000]"},
		{"cgroups: [{path: /a, max: \"fast\"}]\ngroups: [{name: a, program: [{run: 1ms}]}]\n", "bad.yaml:1:27: cgroup max: expected a duration"},
		{"groups: [{name: a, program: [{serve: q}]}]\n", "bad.yaml:1: serve: no arrivals feed pool \"q\""},
		{"arrivals: [{pool: q, service: 1ms}]\ngroups: [{name: a, program: [{serve: q}]}]\n", "bad.yaml:1:12: arrival: expected an interval or a rate"},
		{"arrivals: [{pool: q, rate: fast}]\ngroups: [{name: a, program: [{serve: q}]}]\n", "bad.yaml:1:28: arrival rate: expected a positive rate"},
		{"arrivals: [{pool: q, rate: 10/s}]\ngroups: [{name: a, program: [{run: 1ms}]}]\n", "bad.yaml:1: arrivals into pool \"q\": no group serves it"},
		{"groups: [{name: a, program: [{run: \"uniform(2ms,1ms)\"}]}]\n", "bad.yaml:1:36: run: uniform: upper bound 1ms is below lower bound 2ms"},
		{"groups: [{name: a, program: [{loop: {count: 2}}]}]\n", "bad.yaml:1:37: loop: expected a do list"},
		{"groups: [{name: a, program: [{timer: 0s}]}]\n", "bad.yaml:1:38: timer: expected a positive period"},
		{"groups: [{name: a, program: [{run: 1ms, sleep: 1ms}]}]\n", "bad.yaml:1:30: operation: expected one key naming the operation"},
		{"groups: [{name: a, program: [{exit: 3}]}]\n", "bad.yaml:1:37: exit: takes no argument"},
		{"groups: [{name: a, program: [{condwait: {cond: c}}]}]\n", "bad.yaml:1:41: condwait: expected cond and mutex"},
		{"groups: [{name: a, program: [{wake: {group: a, which: most}}]}]\n", "bad.yaml:1:55: wake which: unknown \"most\""},
	}
	for _, c := range cases {
		_, err := ParseYAML("bad.yaml", []byte(c.src))
		if err == nil {
			t.Errorf("%q: no error, want %q", c.src, c.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q:\n got %q\nwant %q...", c.src, err, c.want)
		}
	}
}

// Every construct of FORMAT.md parses into the model it describes.
func TestYAMLParse(t *testing.T) {
	w, err := ParseYAML("ok.yaml", []byte(`
name: demo
duration: 2s
cgroups:
  - {path: /a, weight: 200, max: "50ms 100ms"}
  - {path: /a/b}
arrivals:
  - {pool: q, rate: 2/ms, service: "exp(100us)", start: 1ms, max: 10}
groups:
  - name: g
    count: 2
    nice: -3
    policy: batch
    cpus: [3, 1, 1]
    cgroup: /a/b
    start: 5ms
    loop: 4
    program:
      - run: "normal(1ms,100us)"
      - runtime: 2ms
      - sleep: "lognormal(1ms,0.5)"
      - timer: {period: 10ms, absolute: true}
      - wake: {group: h, which: peers}
      - wait: 3
      - barrier: b
      - fork: {group: h, count: 2, wait: true}
      - affinity: all
      - nice: 4
      - policy: ext
      - cgroup: /a
      - yield
      - loop: {count: 3, do: [{lock: m}, {unlock: m}]}
      - serve: q
      - condwait: {cond: c, mutex: m}
      - signal: c
      - broadcast: c
      - exit
  - {name: h, count: 0, program: [{run: 1ms}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if w.Name != "demo" || w.Duration != 2e9 || len(w.Cgroups) != 2 || w.Cgroups[0].QuotaUS != 50000 || w.Cgroups[1].Weight != 100 {
		t.Errorf("workload %+v", w)
	}
	a := w.Arrivals[0]
	if a.Interval.Kind != Exp || a.Interval.A != 500_000 || a.Start != 1e6 || a.Max != 10 || a.Service.Kind != Exp {
		t.Errorf("arrival %+v", a)
	}
	g := w.Groups[0]
	if g.Count != 2 || g.Nice != -3 || g.Policy != "batch" || len(g.CPUs) != 2 || g.CPUs[0] != 1 || g.Cgroup != "/a/b" || g.Start != 5e6 || g.Loop != 4 {
		t.Errorf("group %+v", g)
	}
	kinds := []OpKind{OpRun, OpRunTime, OpSleep, OpTimer, OpWake, OpWait, OpBarrier, OpFork, OpAffinity, OpNice,
		OpPolicy, OpCgroup, OpYield, OpLoop, OpServe, OpCondWait, OpSignal, OpBroadcast, OpExit}
	if len(g.Program) != len(kinds) {
		t.Fatalf("%d ops, want %d", len(g.Program), len(kinds))
	}
	for i, k := range kinds {
		if g.Program[i].Kind != k {
			t.Errorf("op %d is %v, want %v", i, g.Program[i].Kind, k)
		}
	}
	p := g.Program
	if p[3].Period != 10e6 || !p[3].Absolute || p[4].Target.Which != WhichPeers || p[5].Count != 3 ||
		p[7].Count != 2 || !p[7].Wait || p[8].CPUs != nil || p[13].Count != 3 || len(p[13].Body) != 2 {
		t.Errorf("op details wrong: %+v", p)
	}
	if u := w.BarrierUsers()["b"]; u != 2 {
		t.Errorf("barrier users %d, want 2", u)
	}
}

func TestDist(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		s          string
		mean, tol  float64
		lo, hi     float64
		wantString string
	}{
		{"3ms", 3e6, 0, 3e6, 3e6, "3ms"},
		{"uniform(1ms,3ms)", 2e6, 0.02, 1e6, 3e6, "uniform(1ms,3ms)"},
		{"exp(1ms)", 1e6, 0.03, 0, 1e12, "exp(1ms)"},
		{"normal(1ms,100us)", 1e6, 0.01, 0, 1e12, "normal(1ms,100µs)"},
		{"lognormal(1ms,0.5)", 1e6, 0.03, 0, 1e12, "lognormal(1ms,0.5)"},
	}
	for _, c := range cases {
		d, err := ParseDist(c.s)
		if err != nil {
			t.Fatalf("%s: %v", c.s, err)
		}
		if d.String() != c.wantString {
			t.Errorf("%s prints as %s", c.s, d)
		}
		var sum float64
		const n = 20000
		for i := 0; i < n; i++ {
			v := float64(d.Sample(r))
			if v < c.lo || v > c.hi {
				t.Fatalf("%s: sample %g out of [%g, %g]", c.s, v, c.lo, c.hi)
			}
			sum += v
		}
		if m := sum / n; m < c.mean*(1-c.tol)-1 || m > c.mean*(1+c.tol)+1 {
			t.Errorf("%s: mean %g, want %g±%g%%", c.s, m, c.mean, c.tol*100)
		}
	}
	for _, bad := range []string{"", "10", "-1ms", "exp(1ms", "gauss(1ms)", "exp(1ms,2ms)", "lognormal(1ms,x)", "lognormal(0s,1)"} {
		if _, err := ParseDist(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestBuiltins(t *testing.T) {
	for _, n := range BuiltinNames() {
		w, err := Builtin(n, 16)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if w.NumTasks() == 0 && n != "build" {
			t.Errorf("%s: no tasks", n)
		}
		if !strings.Contains(BuiltinDoc(n, 16), "default") {
			t.Errorf("%s: no doc", n)
		}
	}
	w, err := Builtin("schbench:messengers=4,workers=8,think=2ms", 16)
	if err != nil {
		t.Fatal(err)
	}
	if w.Groups[0].Count != 4 || w.Groups[1].Count != 32 || w.Groups[1].Program[1].Dur.A != 2e6 {
		t.Errorf("parameters not applied: %+v %+v", w.Groups[0], w.Groups[1])
	}
	for _, bad := range []string{"nosuch", "schbench:workers", "schbench:colour=3", "schbench:workers=-1", "schbench:think=10"} {
		if _, err := Builtin(bad, 16); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// rt-app files: comments, trailing commas, repeated and prefixed event
// keys, phases, thread properties.
func TestRTAppParse(t *testing.T) {
	w, err := ParseRTApp("x.json", []byte(`{
	/* comment */ "global": {"duration": 3, "default_policy": "SCHED_BATCH", "calibration": 90, "mystery": 1},
	"tasks": {
		// line comment
		"t": {"instance": 2, "loop": 5, "delay": 10, "cpus": [1, 0], "priority": -5, "taskgroup": "a/b",
		      "run0": 100, "runtime": 200, "sleep1": 300, "timer": {"ref": "unique", "period": 1000},
		      "run": 400, "util_min": 10,},
		"p": {"phases": {"a": {"loop": 3, "run": 1, "cpus": [2]}, "b": {"policy": "SCHED_IDLE", "sleep": 1}}},
	},
	"resources": {}
}`))
	if err != nil {
		t.Fatal(err)
	}
	if w.Duration != 3e9 || len(w.Groups) != 2 {
		t.Fatalf("%+v", w)
	}
	g := w.Groups[0]
	if g.Count != 2 || g.Loop != 5 || g.Start != 10_000 || g.Nice != -5 || g.Policy != "batch" || g.Cgroup != "/a/b" || len(g.CPUs) != 2 {
		t.Errorf("thread %+v", g)
	}
	want := []OpKind{OpRun, OpRunTime, OpSleep, OpTimer, OpRun}
	if len(g.Program) != len(want) {
		t.Fatalf("program %+v", g.Program)
	}
	for i, k := range want {
		if g.Program[i].Kind != k {
			t.Errorf("op %d %v, want %v", i, g.Program[i].Kind, k)
		}
	}
	if g.Program[0].Dur.A != 100_000 || g.Program[3].Period != 1e6 {
		t.Errorf("units: %+v", g.Program)
	}
	p := w.Groups[1].Program
	// Phase b has no cpus, so (as in rt-app) it resets the thread's
	// affinity, here every CPU.
	if len(p) != 5 || p[0].Kind != OpAffinity || p[1].Kind != OpLoop || p[1].Count != 3 || p[2].Kind != OpPolicy || p[2].Policy != "idle" ||
		p[3].Kind != OpAffinity || p[3].CPUs != nil || p[4].Kind != OpSleep {
		t.Errorf("phases %+v", p)
	}
	if len(w.Cgroups) != 2 || w.Cgroups[0].Path != "/a" || w.Cgroups[1].Path != "/a/b" {
		t.Errorf("cgroups %+v", w.Cgroups)
	}
	var warned []string
	for _, x := range w.Warnings {
		warned = append(warned, x[strings.Index(x, ": ")+2:])
	}
	if len(warned) != 2 || !strings.Contains(warned[0], "mystery") || !strings.Contains(warned[1], "util_min") {
		t.Errorf("warnings %q", w.Warnings)
	}
}

func TestRTAppErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"{", "r.json:1: invalid rt-app JSON: unexpected end of file"},
		{"{\n\"tasks\": {\n\"a\": {\"run\": 1,}\n", "r.json:4: invalid rt-app JSON"},
		{"{/* open", "r.json:1: invalid rt-app JSON: comment opened here is not closed"},
		{`{"global": {}}`, "r.json:1: expected a tasks object"},
		{"{\"tasks\": {\n\"a\": {\"run\": \"x\"}}}", "r.json:2: run: expected an integer"},
		{"{\"tasks\": {\n\"a\": {\n\"jump\": 1}}}", "r.json:3: unknown key \"jump\" (expected an event"},
		{"{\"tasks\": {\"a\": {\n\"mem\": 1000}}}", "r.json:2: event \"mem\" is not supported"},
		{"{\"tasks\": {\"a\": {\n\"policy\": \"SCHED_WHAT\", \"run\": 1}}}", "r.json:2: policy: unknown policy"},
		{"{\"tasks\": {\"a\": {\n\"priority\": 40, \"run\": 1}}}", "r.json:2: priority: 40 is not a nice value"},
		{"{\"tasks\": {\"a\": {\"run\": 1,\n\"phases\": {\"p\": {\"run\": 1}}}}}", "r.json:1: task \"a\": event \"run\" next to a phases object"},
		{"{\"tasks\": {\"a\": {\"resume\": 5}}}", "r.json:1: resume: expected a string"},
		{"{\"tasks\": {\"a\": {\"timer\": {\"ref\": \"x\",\n\"period\": 5, \"mode\": \"loose\"}}}}", "r.json:2: mode: expected relative or absolute"},
		{"{\"tasks\": {\"a\": {\"loop\": 0, \"run\": 1}}}", "r.json:1: loop: expected -1 (forever) or a positive count"},
		{"{\"tasks\": {}}", "r.json:1: tasks: expected a non-empty object"},
		{"{\"tasks\": {\"a\": {\"run\": 1}}, \"extra\": 1}", "r.json:1: unknown top-level key \"extra\""},
	}
	for _, c := range cases {
		_, err := ParseRTApp("r.json", []byte(c.src))
		if err == nil {
			t.Errorf("%q: no error", c.src)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q:\n got %q\nwant %q...", c.src, err, c.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	y := filepath.Join(dir, "w.yaml")
	j := filepath.Join(dir, "w.rtapp")
	os.WriteFile(y, []byte("groups: [{name: a, program: [{run: 1ms}]}]"), 0o644)
	os.WriteFile(j, []byte("// rt-app\n{\"tasks\": {\"a\": {\"run\": 1}}}"), 0o644)
	for arg, group := range map[string]string{y: "a", j: "a", "hogs": "hog", "builtin:hogs:tasks=3": "hog"} {
		w, err := Load(arg, 4)
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if w.Groups[0].Name != group {
			t.Errorf("%s: group %s", arg, w.Groups[0].Name)
		}
	}
	if _, err := Load(filepath.Join(dir, "none.yaml"), 4); err == nil {
		t.Error("missing file accepted")
	}
}

func FuzzParseYAML(f *testing.F) {
	f.Add([]byte("groups: [{name: a, program: [{run: 1ms}, {loop: {count: 2, do: [{sleep: 1ms}]}}]}]"))
	f.Add([]byte("cgroups: [{path: /a}]\narrivals: [{pool: q, rate: 5/s}]\ngroups: [{name: a, cgroup: /a, program: [{serve: q}]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := ParseYAML("f.yaml", data)
		if err == nil {
			if verr := w.Validate(); verr != nil {
				t.Fatalf("parsed but invalid: %v", verr)
			}
		} else if !strings.HasPrefix(err.Error(), "f.yaml") {
			t.Fatalf("error without the file name: %v", err)
		}
	})
}

func FuzzParseRTApp(f *testing.F) {
	f.Add([]byte(`{"tasks": {"a": {"instance": 2, "run": 100, "timer": {"ref": "u", "period": 1000}}}}`))
	f.Add([]byte("{/* c */ \"tasks\": {\"a\": {\"phases\": {\"p\": {\"loop\": 2, \"run\": 1, \"barrier\": \"b\"}}},},}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := ParseRTApp("f.json", data)
		if err == nil {
			if verr := w.Validate(); verr != nil {
				t.Fatalf("parsed but invalid: %v", verr)
			}
		} else if !strings.HasPrefix(err.Error(), "f.json") {
			t.Fatalf("error without the file name: %v", err)
		}
	})
}
