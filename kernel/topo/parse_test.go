package topo

import (
	"slices"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	cases := []struct {
		in   string
		want []int
		err  string
	}{
		{"", nil, ""},
		{"\n", nil, ""},
		{"0", []int{0}, ""},
		{"0-3\n", []int{0, 1, 2, 3}, ""},
		{"8,0-1,3", []int{0, 1, 3, 8}, ""},
		{"1,1,0-1", []int{0, 1}, ""},
		{"0-9:2/5", []int{0, 1, 5, 6}, ""},
		{"3-1", nil, "descending"},
		{"a", nil, "invalid cpu number"},
		{"-1", nil, "invalid cpu number"},
		{"0-", nil, "invalid cpu number"},
		{"8192", nil, "beyond"},
		{"0:1/2", nil, "stride without a range"},
		{"0-7:3/2", nil, "invalid stride"},
	}
	for _, c := range cases {
		got, err := ParseCPUList(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%q = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in   []int
		want string
	}{{nil, ""}, {[]int{0}, "0"}, {[]int{0, 1, 2, 5, 7, 8}, "0-2,5,7-8"}} {
		if got := FormatCPUList(c.in); got != c.want {
			t.Errorf("FormatCPUList(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseSpec(t *testing.T) {
	sp, err := ParseSpec("2x2x8x2")
	if err != nil || sp != (Spec{2, 2, 8, 2}) || sp.NumCPUs() != 64 || sp.String() != "2x2x8x2" {
		t.Fatalf("ParseSpec: %+v %v", sp, err)
	}
	for _, bad := range []string{"", "2x2x8", "2x2x8x2x1", "0x1x1x1", "1x1x-1x1", "axbxcxd", "1x1x8193x1", "2x2x2048x2", "1025x1x1x1"} {
		if _, err := ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) accepted", bad)
		}
	}
	if _, err := ParseNumbering("zigzag"); err == nil {
		t.Error("unknown numbering accepted")
	}
}

func TestSpecNumbering(t *testing.T) {
	// 2 nodes x 1 LLC x 3 cores x 2 threads: 6 cores.
	for _, c := range []struct {
		num Numbering
		// sibling pairs and node of each cpu, by hand
		siblings [][]int
		node     []int
	}{
		{Linear, [][]int{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}, {10, 11}}, []int{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}},
		{X86, [][]int{{0, 6}, {1, 7}, {2, 8}, {3, 9}, {4, 10}, {5, 11}}, []int{0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1}},
	} {
		m, err := Spec{2, 1, 3, 2}.Machine(c.num)
		if err != nil {
			t.Fatal(err)
		}
		for _, pair := range c.siblings {
			for _, cpu := range pair {
				if got := m.Siblings(cpu); !slices.Equal(got, pair) {
					t.Errorf("%s: siblings(%d) = %v, want %v", c.num, cpu, got, pair)
				}
			}
		}
		for cpu, n := range c.node {
			if cpu, _ := m.CPU(cpu); cpu.Node != n {
				t.Errorf("%s: cpu %d node %d, want %d", c.num, cpu.ID, cpu.Node, n)
			}
		}
	}
}

func TestParseFile(t *testing.T) {
	yamlText := `
spec: 1x1x2x2
numbering: x86
cpus:
  - {cpus: "4-5", node: 1, llc: 5, core: 9, capacity: 300, perf: 512, type: little}
  - {cpus: "8-11", node: 1, llc: 5, threads: 2, online: false}
offline: "3"
set:
  - {cpus: "0-1", capacity: 900, type: big}
`
	jsonText := `{"spec": "1x1x2x2", "numbering": "x86",
 "cpus": [{"cpus": "4-5", "node": 1, "llc": 5, "core": 9, "capacity": 300, "perf": 512, "type": "little"},
          {"cpus": "8-11", "node": 1, "llc": 5, "threads": 2, "online": false}],
 "offline": "3", "set": [{"cpus": "0-1", "capacity": 900, "type": "big"}]}`
	// By hand: the spec gives cores 0 {0,2} and 1 {1,3} (x86), LLC 0 on
	// node 0. Core 9 is explicit; the threads group gets fresh cores 10
	// and 11 (above the highest explicit id).
	want := []CPU{
		{ID: 0, Node: 0, LLC: 0, Core: 0, Online: true, Capacity: 900, Perf: 1024, Type: "big"},
		{ID: 1, Node: 0, LLC: 0, Core: 1, Online: true, Capacity: 900, Perf: 1024, Type: "big"},
		{ID: 2, Node: 0, LLC: 0, Core: 0, Online: true, Capacity: 1024, Perf: 1024},
		{ID: 3, Node: 0, LLC: 0, Core: 1, Online: false, Capacity: 1024, Perf: 1024},
		{ID: 4, Node: 1, LLC: 5, Core: 9, Online: true, Capacity: 300, Perf: 512, Type: "little"},
		{ID: 5, Node: 1, LLC: 5, Core: 9, Online: true, Capacity: 300, Perf: 512, Type: "little"},
		{ID: 8, Node: 1, LLC: 5, Core: 10, Online: false, Capacity: 1024, Perf: 1024},
		{ID: 9, Node: 1, LLC: 5, Core: 10, Online: false, Capacity: 1024, Perf: 1024},
		{ID: 10, Node: 1, LLC: 5, Core: 11, Online: false, Capacity: 1024, Perf: 1024},
		{ID: 11, Node: 1, LLC: 5, Core: 11, Online: false, Capacity: 1024, Perf: 1024},
	}
	for name, text := range map[string]string{"yaml": yamlText, "json": jsonText} {
		m, err := ParseFile([]byte(text))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(m.CPUs(), want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", name, m.CPUs(), want)
		}
		if m.NrCPUIDs() != 12 || m.NumPossible() != 10 || m.Possible(6) || !m.Online(4) || m.Online(3) {
			t.Fatalf("%s: ids %d possible %d", name, m.NrCPUIDs(), m.NumPossible())
		}
	}
}

func TestParseFileErrors(t *testing.T) {
	cases := []struct{ text, want string }{
		{``, "empty"},
		{`bogus: 1`, "field bogus not found"},
		{`cpus: [{cpus: "0", color: red}]`, "field color not found"},
		{`cpus: [{cpus: ""}]`, "without cpus"},
		{`cpus: [{cpus: "0-2", threads: 2}]`, "do not split"},
		{`cpus: [{cpus: "0-1", threads: 2, core: 1}]`, "not both"},
		{`cpus: [{cpus: "0", threads: 0}]`, "threads 0"},
		{`cpus: [{cpus: "0", core: -3}]`, "out of range"},
		{`cpus: [{cpus: "0"}, {cpus: "0"}]`, "defined twice"},
		{`spec: 1x1x2x1
cpus: [{cpus: "1"}]`, "defined twice"},
		{`cpus: [{cpus: "0", capacity: 0}]`, "capacity 0 out of range"},
		{`cpus: [{cpus: "0", perf: 1025}]`, "perf 1025 out of range"},
		{`cpus: [{cpus: "0", node: 1024}]`, "node 1024 out of range"},
		{`cpus: [{cpus: "0", node: -2}]`, "node -2 out of range"},
		{`cpus: [{cpus: "0", online: false}]`, "no online CPU"},
		{`spec: 1x1x1x1
offline: "4"`, "offline cpu 4 is not defined"},
		{`spec: 1x1x1x1
set: [{cpus: "2", capacity: 5}]`, "set: cpu 2 is not defined"},
		{`numbering: x86`, "without a spec"},
		{`spec: 1x1x1x1
numbering: spiral`, "unknown numbering"},
		{`spec: 9x9`, "NODESxLLCSxCORESxTHREADS"},
		{`[1, 2]`, "topology file"},
	}
	for _, c := range cases {
		_, err := ParseFile([]byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
	}
}

func TestMachineAccessors(t *testing.T) {
	m, err := ParseFile([]byte(`
cpus:
  - {cpus: "0-3", node: 0, llc: 1, threads: 2}
  - {cpus: "5", node: 2}
  - {cpus: "6", node: 2, online: false}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Nodes(); !slices.Equal(got, []int{0, 2}) || m.NrNodeIDs() != 3 {
		t.Errorf("Nodes %v NrNodeIDs %d", got, m.NrNodeIDs())
	}
	if got := m.LLCCPUs(2); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Errorf("LLCCPUs(2) = %v", got)
	}
	// No cacheinfo: the node's cpus.
	if got := m.LLCCPUs(5); !slices.Equal(got, []int{5, 6}) {
		t.Errorf("LLCCPUs(5) = %v", got)
	}
	if got := m.PossibleMask().String(); got != "0-3,5-6" {
		t.Errorf("PossibleMask %s", got)
	}
	if got := m.OnlineMask().String(); got != "0-3,5" {
		t.Errorf("OnlineMask %s", got)
	}
	if m.Siblings(4) != nil || m.LLCCPUs(-1) != nil {
		t.Error("lookups of impossible cpus must be nil")
	}
	if err := m.SetOnline(6, true); err != nil || !m.Online(6) {
		t.Errorf("SetOnline: %v", err)
	}
	if err := m.SetPerf(0, 300); err != nil {
		t.Fatal(err)
	}
	if c, _ := m.CPU(0); c.Perf != 300 {
		t.Errorf("perf %d", c.Perf)
	}
	if m.SetPerf(0, 2000) == nil || m.SetPerf(4, 1) == nil || m.SetOnline(99, true) == nil {
		t.Error("invalid SetPerf/SetOnline accepted")
	}
	if _, err := NewMachine(nil); err == nil {
		t.Error("empty machine accepted")
	}
	if _, err := NewMachine([]CPU{{ID: MaxCPUs, Online: true, Capacity: 1}}); err == nil {
		t.Error("cpu id beyond MaxCPUs accepted")
	}
}

func TestLoad(t *testing.T) {
	m, err := Load("1x2x2x1", X86)
	if err != nil || m.NumPossible() != 4 {
		t.Fatalf("Load spec: %v", err)
	}
	if _, err := Load("1x2x0x1", Linear); err == nil || !strings.Contains(err.Error(), "not a positive count") {
		t.Errorf("Load of a bad spec: %v", err)
	}
	if _, err := Load("/nonexistent/topo.yaml", Linear); err == nil || !strings.Contains(err.Error(), "neither a spec") {
		t.Errorf("Load of a missing file: %v", err)
	}
}
