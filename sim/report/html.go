package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"

	"github.com/scxsim/scxsim/sim/metrics"
)

// palette colors the series of a plot.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"}

const css = `body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;font-size:.9em}td,th{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.meta{color:#555}svg text{font-family:system-ui,sans-serif;font-size:11px}`

type series struct {
	name  string
	color string
	pts   [][2]float64 // (fraction, ns)
}

// cdfSVG plots latency CDFs with a logarithmic time axis.
func cdfSVG(title string, ss []series) string {
	const W, H, L, R, T, B = 560.0, 300.0, 60.0, 150.0, 24.0, 40.0
	lo, hi := math.Inf(1), 0.0
	for _, s := range ss {
		for _, p := range s.pts {
			v := math.Max(p[1], 1)
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g">`, W, H, W, H)
	fmt.Fprintf(&b, `<text x="%g" y="14" font-weight="bold">%s</text>`, L, html.EscapeString(title))
	pw, ph := W-L-R, H-T-B
	if hi == 0 {
		fmt.Fprintf(&b, `<text x="%g" y="%g">no samples</text></svg>`, L+10, T+ph/2)
		return b.String()
	}
	d0 := math.Floor(math.Log10(lo))
	d1 := math.Ceil(math.Log10(hi))
	if d1 <= d0 {
		d1 = d0 + 1
	}
	x := func(ns float64) float64 { return L + (math.Log10(math.Max(ns, 1))-d0)/(d1-d0)*pw }
	y := func(f float64) float64 { return T + (1-f)*ph }
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#999"/>`, L, T, pw, ph)
	for d := d0; d <= d1; d++ {
		xx := x(math.Pow(10, d))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#eee"/>`, xx, T, xx, T+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`, xx, T+ph+14, Dur(math.Pow(10, d)))
	}
	for _, f := range []float64{0, .25, .5, .75, 1} {
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#eee"/>`, L, y(f), L+pw, y(f))
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end">%g</text>`, L-4, y(f)+4, f)
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">latency</text>`, L+pw/2, H-6)
	for i, s := range ss {
		if len(s.pts) == 0 {
			continue
		}
		var pts []string
		for _, p := range s.pts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p[1]), y(p[0])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.6" points="%s"/>`, s.color, strings.Join(pts, " "))
		ly := T + 10 + float64(i)*16
		fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="3"/>`, W-R+10, ly, W-R+26, ly, s.color)
		fmt.Fprintf(&b, `<text x="%g" y="%g">%s</text>`, W-R+30, ly+4, html.EscapeString(s.name))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// utilSVG draws per-CPU utilization over time as a heat map: one row per
// CPU, one cell per timeline bin, darker is busier.
func utilSVG(r *metrics.Results) string {
	n := len(r.CPUs)
	if n == 0 {
		return ""
	}
	bins := 0
	for _, c := range r.CPUs {
		bins = max(bins, len(c.Timeline))
	}
	const L, T = 50.0, 20.0
	cw := math.Max(1, math.Min(8, 800/float64(max(bins, 1))))
	ch := math.Max(1, math.Min(10, 600/float64(n)))
	W, H := L+cw*float64(bins)+10, T+ch*float64(n)+30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">`, W, H, W, H)
	fmt.Fprintf(&b, `<text x="%g" y="14" font-weight="bold">CPU utilization over time (%s per column)</text>`, L, Dur(float64(r.TimelineBinNS)))
	for i, c := range r.CPUs {
		yy := T + float64(i)*ch
		if n <= 64 || i%(n/32) == 0 {
			fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end" font-size="%g">%d</text>`, L-4, yy+ch-1, math.Min(10, ch+1), c.CPU)
		}
		for j, u := range c.Timeline {
			if u <= 0 {
				continue
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1f4e9c" fill-opacity="%.3f"/>`,
				L+float64(j)*cw, yy, cw, ch, math.Min(1, u))
		}
	}
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%.1f" height="%.1f" fill="none" stroke="#999"/>`, L, T, cw*float64(bins), ch*float64(n))
	fmt.Fprintf(&b, `<text x="%g" y="%.1f">0</text><text x="%.1f" y="%.1f" text-anchor="end">%s</text>`,
		L, H-8, L+cw*float64(bins), H-8, Dur(float64(r.Run.DurationNS)))
	b.WriteString(`</svg>`)
	return b.String()
}

// barSVG draws one horizontal bar per label.
func barSVG(title string, labels []string, vals []float64, fmtv func(float64) string) string {
	const L, rowH = 140.0, 18.0
	W := 560.0
	H := 30 + rowH*float64(len(vals))
	top := 0.0
	for _, v := range vals {
		top = math.Max(top, v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g">`, W, H, W, H)
	fmt.Fprintf(&b, `<text x="%g" y="14" font-weight="bold">%s</text>`, L, html.EscapeString(title))
	for i, v := range vals {
		yy := 24 + float64(i)*rowH
		w := 0.0
		if top > 0 {
			w = v / top * (W - L - 90)
		}
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end">%s</text>`, L-6, yy+12, html.EscapeString(labels[i]))
		fmt.Fprintf(&b, `<rect x="%g" y="%.1f" width="%.1f" height="%g" fill="%s"/>`, L, yy+2, w, rowH-5, palette[i%len(palette)])
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`, L+w+4, yy+12, fmtv(v))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func groupTable(b *strings.Builder, r *metrics.Results) {
	b.WriteString(`<table><tr><th>group</th><th>tasks</th><th>runtime</th><th>wakeup p50</th><th>p99</th><th>p99.9</th><th>max</th><th>wait p99</th><th>vol/invol</th><th>migrations smt/llc/node/xnode</th><th>iterations</th><th>requests</th><th>request p99</th><th>fairness</th></tr>`)
	for _, g := range r.Groups {
		fmt.Fprintf(b, `<tr><td>%s</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d/%d</td><td>%s</td><td>%d</td><td>%d</td><td>%s</td><td>%.3f</td></tr>`,
			html.EscapeString(g.Name), g.Tasks, Dur(float64(g.RuntimeNS)), Dur(float64(g.Wakeup.P50)), Dur(float64(g.Wakeup.P99)),
			Dur(float64(g.Wakeup.P999)), Dur(float64(g.Wakeup.Max)), Dur(float64(g.Wait.P99)), g.Voluntary, g.Involuntary,
			migr(g.Migrations), g.Iterations, g.Requests, Dur(float64(g.ReqLatency.P99)), g.Fairness)
	}
	b.WriteString(`</table>`)
}

func head(b *strings.Builder, title string) {
	fmt.Fprintf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title><style>%s</style></head><body>\n", html.EscapeString(title), css)
}

// HTML writes a self-contained page (inline SVG, no scripts) for one run.
func HTML(w io.Writer, r *metrics.Results) error {
	var b strings.Builder
	run := r.Run
	head(&b, "scxsim: "+run.Scheduler+" / "+run.Workload)
	fmt.Fprintf(&b, "<h1>scxsim: %s on %s, workload %s</h1>\n", html.EscapeString(run.Scheduler), html.EscapeString(run.Topology), html.EscapeString(run.Workload))
	fmt.Fprintf(&b, `<p class="meta">%d CPUs, simulated %s (%s), seed %d, HZ %d; utilization %s, %d tasks, %d context switches, %d migrations</p>`,
		run.CPUs, Dur(float64(run.DurationNS)), html.EscapeString(run.StopReason), run.Seed, run.HZ, pct(r.Summary.Utilization),
		r.Summary.Tasks, r.Summary.ContextSwitches, r.Summary.Migrations.Total())
	b.WriteString("<h2>Groups</h2>\n")
	groupTable(&b, r)
	b.WriteString("<h2>Latency</h2>\n")
	var wake, wait, req []series
	for i, g := range r.Groups {
		c := palette[i%len(palette)]
		wake = append(wake, series{g.Name, c, g.Wakeup.CDF})
		wait = append(wait, series{g.Name, c, g.Wait.CDF})
		if g.Requests > 0 {
			req = append(req, series{g.Name, c, g.ReqLatency.CDF})
		}
	}
	b.WriteString(cdfSVG("wakeup latency CDF", wake))
	b.WriteString(cdfSVG("runqueue wait CDF", wait))
	if len(req) > 0 {
		b.WriteString(cdfSVG("request latency CDF", req))
	}
	b.WriteString("<h2>Run time by group</h2>\n")
	var labels []string
	var vals []float64
	for _, g := range r.Groups {
		labels = append(labels, g.Name)
		vals = append(vals, float64(g.RuntimeNS))
	}
	b.WriteString(barSVG("run time", labels, vals, Dur))
	b.WriteString("<h2>CPUs</h2>\n")
	b.WriteString(utilSVG(r))
	writeScheduler(&b, r)
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeScheduler(b *strings.Builder, r *metrics.Results) {
	sc := r.Scheduler
	fmt.Fprintf(b, "<h2>Scheduler %s (%s)</h2>\n", html.EscapeString(sc.Name), html.EscapeString(sc.Kind))
	if len(sc.Ops) > 0 {
		b.WriteString(`<table><tr><th>op</th><th>calls</th><th>insns</th><th>insns/call</th></tr>`)
		for _, o := range sc.Ops {
			fmt.Fprintf(b, `<tr><td>%s</td><td>%d</td><td>%d</td><td>%.1f</td></tr>`, html.EscapeString(o.Op), o.Calls, o.Insns, o.InsnsPerCall)
		}
		b.WriteString(`</table>`)
	}
	if e := sc.Exit; e != nil {
		fmt.Fprintf(b, "<p>exit at %s: %s %s %s</p>", Dur(float64(e.AtNS)), html.EscapeString(e.Kind), html.EscapeString(e.Reason), html.EscapeString(e.Msg))
	}
	if len(sc.Log) > 0 {
		fmt.Fprintf(b, "<h3>log</h3><pre>%s</pre>\n", html.EscapeString(strings.Join(sc.Log, "\n")))
	}
	var out strings.Builder
	if BPFOutput(&out, &sc) == nil && out.Len() > 0 {
		fmt.Fprintf(b, "<h3>BPF output</h3><pre>%s</pre>\n", html.EscapeString(out.String()))
	}
	if len(r.Warnings) > 0 {
		b.WriteString("<h2>Warnings</h2><ul>")
		for _, w := range r.Warnings {
			fmt.Fprintf(b, "<li>%s</li>", html.EscapeString(w))
		}
		b.WriteString("</ul>")
	}
}

// CompareHTML writes one page comparing several runs of the same machine,
// workload and seed.
func CompareHTML(w io.Writer, rs []*metrics.Results) error {
	var b strings.Builder
	if len(rs) == 0 {
		return nil
	}
	r0 := rs[0].Run
	head(&b, "scxsim compare: "+r0.Workload)
	fmt.Fprintf(&b, "<h1>scxsim compare: workload %s on %s</h1>\n", html.EscapeString(r0.Workload), html.EscapeString(r0.Topology))
	fmt.Fprintf(&b, `<p class="meta">%d CPUs, simulated %s, seed %d</p>`, r0.CPUs, Dur(float64(r0.DurationNS)), r0.Seed)
	var sb strings.Builder
	if err := CompareText(&sb, rs); err != nil {
		return err
	}
	fmt.Fprintf(&b, "<pre>%s</pre>\n", html.EscapeString(sb.String()))
	var wake, wait []series
	var labels []string
	var util, inv []float64
	for i, r := range rs {
		c := palette[i%len(palette)]
		wake = append(wake, series{r.Run.Scheduler, c, r.Summary.Wakeup.CDF})
		wait = append(wait, series{r.Run.Scheduler, c, r.Summary.Wait.CDF})
		labels = append(labels, r.Run.Scheduler)
		util = append(util, r.Summary.Utilization)
		inv = append(inv, float64(r.Summary.Migrations.Total()))
	}
	b.WriteString(cdfSVG("wakeup latency CDF, all tasks", wake))
	b.WriteString(cdfSVG("runqueue wait CDF, all tasks", wait))
	b.WriteString(barSVG("utilization", labels, util, pct))
	b.WriteString(barSVG("migrations", labels, inv, func(v float64) string { return fmt.Sprint(int64(v)) }))
	for gi, g := range rs[0].Groups {
		var ss []series
		for i, r := range rs {
			ss = append(ss, series{r.Run.Scheduler, palette[i%len(palette)], grp(r, gi).Wakeup.CDF})
		}
		b.WriteString(cdfSVG("wakeup latency CDF: "+g.Name, ss))
	}
	for _, r := range rs {
		fmt.Fprintf(&b, "<h2>%s</h2>\n", html.EscapeString(r.Run.Scheduler))
		groupTable(&b, r)
		b.WriteString(utilSVG(r))
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
