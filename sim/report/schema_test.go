package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/engine"
	"github.com/scxsim/scxsim/sim/metrics"
	"github.com/scxsim/scxsim/sim/workload"
)

// full returns results with every optional part present: tasks (one
// exited, with migrations), cgroups with cpu.max, ops, exit info, log,
// streams, printk and warnings.
func full() *metrics.Results {
	r := metrics.NewRecorder(2, 1e9, 4)
	g := r.AddGroup("web")
	h := r.AddGroup("batch")
	a := r.NewTask(1, "web-0", g, "/svc", 1024, 0)
	b := r.NewTask(2, "batch-0", h, "/", 335, 0)
	r.Runnable(a, 0, true)
	r.Runnable(b, 0, true)
	r.SwitchIn(a, 1, 2000)
	r.SwitchIn(b, 0, 3000)
	r.Iteration(a, 3e6)
	r.Request(a, 250e3)
	r.Work(a, 1e6)
	r.SwitchOut(a, 5e8, true, false)
	r.SwitchIn(a, 1, 6e8)
	r.Migrated(a, metrics.MigSMT)
	r.Exit(a, 7e8)
	res := r.Finish(1e9, []int{0, 1}, true)
	res.Run = metrics.RunInfo{Scheduler: "builtin:x", Topology: "1x1x2x1", CPUs: 2, Workload: "w", DurationNS: 1e9, Seed: 1, HZ: 1000, StopReason: "duration", EventsTotal: 9}
	res.Cgroups[1].Weight, res.Cgroups[1].QuotaUS, res.Cgroups[1].PeriodUS = 100, 50000, 100000
	res.Cgroups[1].BurstUS, res.Cgroups[1].Idle = 10000, true
	res.Cgroups[1].Bandwidth = &metrics.CgroupBandwidth{NrPeriods: 10, NrThrottled: 4, ThrottledUS: 120000, NrBursts: 2, BurstUS: 5000}
	res.Scheduler = metrics.SchedulerResult{Name: "builtin:x", Kind: "bpf",
		Ops:     []metrics.OpCount{{Op: "enqueue", Calls: 4, Insns: 40, InsnsPerCall: 10}},
		Exit:    &metrics.ExitInfo{Kind: "error", Reason: "runtime error", Msg: "boom", AtNS: 5e8},
		Log:     []string{"sched_ext: enabled"},
		Streams: []metrics.StreamOutput{{Prog: "x_enqueue", Stdout: "a", Stderr: "b", StdoutDropped: 1, StderrDropped: 2}},
		Printk:  []string{"hello"}}
	res.Warnings = []string{"a warning"}
	return res
}

// keys collects the JSON object keys of v by path: "" for the top level,
// "run", "run.effects", "groups[]", "groups[].wait", ...; array elements
// share their array's path.
func keys(path string, v any, out map[string]map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if out[path] == nil {
			out[path] = map[string]bool{}
		}
		for k, c := range x {
			out[path][k] = true
			p := k
			if path != "" {
				p = path + "." + k
			}
			keys(p, c, out)
		}
	case []any:
		for _, c := range x {
			keys(path+"[]", c, out)
		}
	}
}

// schemaSections splits SCHEMA.md at its "## " headings.
func schemaSections(t *testing.T) map[string]string {
	raw, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, part := range strings.Split(string(raw), "\n## ")[1:] {
		title, body, _ := strings.Cut(part, "\n")
		out[title] = body
	}
	return out
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	ident      = regexp.MustCompile(`[a-z_0-9]+`)
)

// SCHEMA.md stays true to the JSON: every key the report writes is named
// in the section describing its object, and every field a table of
// SCHEMA.md lists (its first column) is a key the report writes.
func TestSchemaDocumentsJSON(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, full()); err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]bool{}
	keys("", doc, got)
	secs := schemaSections(t)
	// Which SCHEMA.md section documents the keys of each object.
	where := map[string]string{"": "Top level", "run": "`run`", "run.effects": "`run`", "summary": "`summary`",
		"groups[]": "`groups[]`", "cgroups[]": "`cgroups[]`", "cgroups[].bandwidth": "`cgroups[]`", "cpus[]": "`cpus[]`", "scheduler": "`scheduler`",
		"scheduler.ops[]": "`scheduler`", "scheduler.exit": "`scheduler`", "scheduler.streams[]": "`scheduler`",
		"tasks[]": "`tasks[]` (with `--tasks`)"}
	var paths []string
	for p := range got {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		sec := where[p]
		switch {
		case strings.HasSuffix(p, "migrations"):
			sec = "`summary`" // smt, llc, node, xnode
		case regexp.MustCompile(`(wait|wakeup_latency|iteration_latency|request_latency)$`).MatchString(p):
			sec = "Latency summaries"
		case sec == "":
			t.Errorf("JSON object %q: no SCHEMA.md section describes it", p)
			continue
		}
		body, ok := secs[sec]
		if !ok {
			t.Fatalf("SCHEMA.md has no section %q", sec)
		}
		named := map[string]bool{}
		for _, m := range backticked.FindAllStringSubmatch(body, -1) {
			for _, w := range ident.FindAllString(m[1], -1) { // `[{op, calls}]` names op and calls
				named[w] = true
			}
		}
		for k := range got[p] {
			if !named[k] {
				t.Errorf("JSON key %s.%s is not in SCHEMA.md's %s section", p, k, sec)
			}
		}
	}
	// Every field a table names in its first column exists.
	all := map[string]bool{}
	for _, ks := range got {
		for k := range ks {
			all[k] = true
		}
	}
	for title, body := range secs {
		for _, line := range strings.Split(body, "\n") {
			if !strings.HasPrefix(line, "| `") {
				continue
			}
			first := strings.Split(line, "|")[1]
			for _, m := range backticked.FindAllStringSubmatch(first, -1) {
				if !all[m[1]] {
					t.Errorf("SCHEMA.md section %s lists %q, which the JSON report does not write", title, m[1])
				}
			}
		}
	}
	if !strings.Contains(secs["Top level"], "`"+metrics.Schema+"`") {
		t.Errorf("SCHEMA.md does not name the schema string %s", metrics.Schema)
	}
}

// checkHTML parses a page: every tag closed in order (void elements
// aside), each <svg> well-formed XML of its own, every CDF polyline
// inside its plot and monotone, and the plot titles want present.
func checkHTML(t *testing.T, page string, want ...string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("HTML does not parse: %v", err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			stack = append(stack, x.Name.Local)
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1] != x.Name.Local {
				t.Fatalf("</%s> closes %v", x.Name.Local, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 {
		t.Errorf("unclosed elements %v", stack)
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || strings.Contains(page, "<script") {
		t.Errorf("page start %.40q, or a script", page)
	}
	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1)
	if len(svgs) == 0 {
		t.Fatal("no SVG")
	}
	num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	for _, svg := range svgs {
		var root struct {
			XMLName xml.Name
			ViewBox string `xml:"viewBox,attr"`
			Lines   []struct {
				Points string `xml:"points,attr"`
			} `xml:"polyline"`
		}
		if err := xml.Unmarshal([]byte(svg), &root); err != nil || root.XMLName.Space != "http://www.w3.org/2000/svg" {
			t.Fatalf("SVG not well-formed (%v, namespace %q): %.200s", err, root.XMLName.Space, svg)
		}
		vb := strings.Fields(root.ViewBox)
		if len(vb) != 4 {
			t.Fatalf("viewBox %q", root.ViewBox)
		}
		w, h := num(vb[2]), num(vb[3])
		for _, pl := range root.Lines {
			px, py := -1.0, h+1
			for _, pt := range strings.Fields(pl.Points) {
				xs, ys, _ := strings.Cut(pt, ",")
				x, y := num(xs), num(ys)
				if x < 0 || x > w || y < 0 || y > h {
					t.Errorf("point %s outside the %gx%g plot", pt, w, h)
				}
				if x < px || y > py {
					t.Errorf("CDF not monotone at %s: %s", pt, pl.Points)
					break
				}
				px, py = x, y
			}
		}
	}
	for _, s := range want {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

// The HTML report is a well-formed page with the plots the issue asks for:
// latency CDFs, per-CPU utilization over time (one cell per busy bin, its
// opacity the bin's utilization) and a per-group summary.
func TestHTMLPlots(t *testing.T) {
	res := full()
	var b bytes.Buffer
	if err := HTML(&b, res); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	checkHTML(t, page, "wakeup latency CDF", "runqueue wait CDF", "request latency CDF", "CPU utilization over time",
		"<td>web</td>", "<td>batch</td>", "exit at 500ms", "a warning", "sched_ext: enabled", "x_enqueue stdout", "hello")
	cells := regexp.MustCompile(`fill="#1f4e9c" fill-opacity="([0-9.]+)"`).FindAllStringSubmatch(page, -1)
	var want []string
	for _, c := range res.CPUs {
		for _, u := range c.Timeline {
			if u > 0 {
				want = append(want, strconv.FormatFloat(u, 'f', 3, 64))
			}
		}
	}
	var have []string
	for _, c := range cells {
		have = append(have, c[1])
	}
	if strings.Join(have, " ") != strings.Join(want, " ") || len(want) == 0 {
		t.Errorf("utilization cells %v, want %v", have, want)
	}
	if n := strings.Count(page, "<polyline"); n != 5 { // wakeup and wait per group, one request CDF
		t.Errorf("%d CDF lines, want 5", n)
	}
	b.Reset()
	other := full()
	other.Run.Scheduler = "fair"
	if err := CompareHTML(&b, []*metrics.Results{res, other}); err != nil {
		t.Fatal(err)
	}
	page = b.String()
	checkHTML(t, page, "wakeup latency CDF, all tasks", "wakeup latency CDF: web", "utilization", "builtin:x", "fair", "CPU utilization over time")
	if n := strings.Count(page, "<h2>"); n != 2 {
		t.Errorf("compare page with %d per-scheduler sections, want 2", n)
	}
}

// A real run's pages (the server scenario: requests, groups, a busy
// timeline) pass the same checks.
func TestHTMLOfRealRun(t *testing.T) {
	sp, err := topo.ParseSpec("1x2x2x2")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sp.Machine(topo.Numbering("x86"))
	if err != nil {
		t.Fatal(err)
	}
	var rs []*metrics.Results
	for _, wl := range []string{"server", "mixed"} {
		w, err := workload.Builtin(wl, m.NumPossible())
		if err != nil {
			t.Fatal(err)
		}
		res, err := engine.Run(engine.Config{Machine: m, Workload: w, WorkloadName: wl, Duration: 300e6, Seed: 1, HZ: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := HTML(&b, res); err != nil {
			t.Fatal(err)
		}
		want := []string{"wakeup latency CDF", "CPU utilization over time"}
		if wl == "server" {
			want = append(want, "request latency CDF")
		}
		for _, g := range res.Groups {
			want = append(want, "<td>"+g.Name+"</td>")
		}
		checkHTML(t, b.String(), want...)
		rs = append(rs, res)
	}
	var b bytes.Buffer
	if err := CompareHTML(&b, rs); err != nil {
		t.Fatal(err)
	}
	checkHTML(t, b.String(), "wakeup latency CDF, all tasks")
}
