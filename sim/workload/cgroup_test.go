package workload

import (
	"strings"
	"testing"
)

// The cgroup keys burst and idle parse into the model, and cpu.max /
// cpu.max.burst / cpu.idle combinations the kernel refuses are errors at
// the offending key's file:line:col.
func TestYAMLCgroupKeys(t *testing.T) {
	const prog = "groups: [{name: a, program: [{run: 1ms}]}]\n"
	ok := []struct {
		src  string
		want Cgroup
	}{
		{`cgroups: [{path: /a, max: "20ms 100ms", burst: 10ms}]`, Cgroup{Path: "/a", Weight: 100, QuotaUS: 20000, PeriodUS: 100000, BurstUS: 10000}},
		{`cgroups: [{path: /a, max: "20ms 100ms", burst: 20ms}]`, Cgroup{Path: "/a", Weight: 100, QuotaUS: 20000, PeriodUS: 100000, BurstUS: 20000}},
		{`cgroups: [{path: /a, burst: 5ms}]`, Cgroup{Path: "/a", Weight: 100, PeriodUS: 100000, BurstUS: 5000}},
		{`cgroups: [{path: /a, idle: true}]`, Cgroup{Path: "/a", Weight: 100, PeriodUS: 100000, Idle: true}},
		{`cgroups: [{path: /a, idle: false, weight: 7}]`, Cgroup{Path: "/a", Weight: 7, PeriodUS: 100000}},
		{`cgroups: [{path: /a, max: "1ms 1s"}]`, Cgroup{Path: "/a", Weight: 100, QuotaUS: 1000, PeriodUS: 1000000}},
		{`cgroups: [{path: /a, max: "5ms 1ms"}]`, Cgroup{Path: "/a", Weight: 100, QuotaUS: 5000, PeriodUS: 1000}},
	}
	for _, c := range ok {
		w, err := ParseYAML("ok.yaml", []byte(c.src+"\n"+prog))
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		got := w.Cgroups[0]
		got.Line = 0
		if got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.src, got, c.want)
		}
	}
	bad := []struct{ src, want string }{
		{`cgroups: [{path: /a, max: "20ms 100ms", burst: 30ms}]`, `bad.yaml:1:48: cgroup burst: 30ms exceeds the cpu.max quota 20ms (cpu.max.burst must be <= quota)`},
		{"cgroups:\n  - path: /a\n    burst: 2s\n    max: \"1s 1s\"", `bad.yaml:3:12: cgroup burst: 2s exceeds the cpu.max quota 1s`},
		{`cgroups: [{path: /a, max: "20ms 2s"}]`, `bad.yaml:1:27: cgroup max: period 2s out of range [1ms, 1s]`},
		{`cgroups: [{path: /a, max: "20ms 500us"}]`, `bad.yaml:1:27: cgroup max: period 500us out of range [1ms, 1s]`},
		{`cgroups: [{path: /a, max: "max 0ms"}]`, `bad.yaml:1:27: cgroup max: period 0ms out of range [1ms, 1s]`},
		{`cgroups: [{path: /a, max: "999us 100ms"}]`, `bad.yaml:1:27: cgroup max: quota 999us below 1ms`},
		{`cgroups: [{path: /a, max: "20ms 100ms 3"}]`, `bad.yaml:1:27: cgroup max: expected "QUOTA PERIOD"`},
		{`cgroups: [{path: /a, weight: 3, idle: true}]`, `bad.yaml:1:30: cgroup weight: cannot be set on a cgroup with idle: true (the kernel refuses cpu.weight on an idle group with EINVAL)`},
		{"cgroups:\n  - path: /a\n    idle: true\n    weight: 100", `bad.yaml:4:13: cgroup weight: cannot be set on a cgroup with idle: true`},
		{`cgroups: [{path: /a, idle: 1}]`, `bad.yaml:1:28: cgroup idle: expected true or false`},
		{`cgroups: [{path: /a, burst: soon}]`, `bad.yaml:1:29: cgroup burst: expected a duration`},
		{`cgroups: [{path: /a, burst: 1500ns}]`, `bad.yaml:1:29: cgroup burst: 1500ns is not a whole number of microseconds`},
	}
	for _, c := range bad {
		_, err := ParseYAML("bad.yaml", []byte(c.src+"\n"+prog))
		if err == nil {
			t.Errorf("%q: no error, want %q", c.src, c.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q:\n got %q\nwant %q...", c.src, err, c.want)
		}
	}
}

// Validate refuses a programmatic workload whose burst exceeds its quota.
func TestValidateBurst(t *testing.T) {
	w := &Workload{Cgroups: []Cgroup{{Path: "/a", Weight: 100, QuotaUS: 10000, PeriodUS: 100000, BurstUS: 10001, Line: 4}},
		Groups: []*Group{{Name: "a", Count: 1, Program: []Op{{Kind: OpRun, Dur: FixedDist(1000)}}}}}
	err := w.Validate()
	if err == nil || !strings.Contains(err.Error(), "burst 10001us exceeds the cpu.max quota 10000us") {
		t.Errorf("Validate: %v", err)
	}
	w.Cgroups[0].BurstUS = 10000
	if err := w.Validate(); err != nil {
		t.Errorf("Validate burst == quota: %v", err)
	}
}
