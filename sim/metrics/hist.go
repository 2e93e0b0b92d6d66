// Package metrics records what a simulation run measured: per task and per
// group run time, waits, wakeup latencies, switches, migrations by distance,
// completed work and request latencies, per-CPU utilization over time, and
// the scheduler's op counts. The engine feeds a Recorder; Results is the
// finished, serializable form the reports print.
package metrics

import (
	"math"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Latency histograms track 1 ns to 1000 s with 3 significant digits.
const (
	histMin  = 1
	histMax  = 1_000_000_000_000
	histSig  = 3
	cdfSteps = 40
)

// Hist is a latency distribution: an HDR histogram for the percentiles
// plus exact count, sum, min and max.
type Hist struct {
	h        *hdr.Histogram
	n        int64
	sum      float64
	min, max int64
}

// NewHist returns an empty histogram.
func NewHist() *Hist { return &Hist{h: hdr.New(histMin, histMax, histSig), min: math.MaxInt64} }

// Record adds one value in ns.
func (h *Hist) Record(ns uint64) {
	v := int64(min(ns, histMax-1))
	// The histogram cannot hold 0: it stores v+1 and queries subtract 1.
	_ = h.h.RecordValue(v + 1)
	h.n++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Count is the number of values recorded.
func (h *Hist) Count() int64 { return h.n }

// Summary is a distribution's digest, all values in ns. Percentiles come
// from the HDR histogram (within 0.1%); Min, Max and Mean are exact.
type Summary struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_ns"`
	Min   int64   `json:"min_ns"`
	P50   int64   `json:"p50_ns"`
	P90   int64   `json:"p90_ns"`
	P99   int64   `json:"p99_ns"`
	P999  int64   `json:"p99_9_ns"`
	Max   int64   `json:"max_ns"`
	// CDF samples the cumulative distribution: pairs of (fraction of
	// values at or below, value in ns), ascending.
	CDF [][2]float64 `json:"cdf,omitempty"`
}

// Summary digests the histogram; withCDF adds the CDF samples.
func (h *Hist) Summary(withCDF bool) Summary {
	if h == nil || h.n == 0 {
		return Summary{}
	}
	q := func(p float64) int64 {
		v := h.h.ValueAtQuantile(p) - 1
		return min(max(v, h.min), h.max)
	}
	s := Summary{Count: h.n, Mean: round3(h.sum / float64(h.n)), Min: h.min,
		P50: q(50), P90: q(90), P99: q(99), P999: q(99.9), Max: h.max}
	if withCDF {
		s.CDF = h.cdf()
	}
	return s
}

// cdf samples quantiles densely toward the tail: 0..90% in steps, then
// 99, 99.9, ... .
func (h *Hist) cdf() [][2]float64 {
	var qs []float64
	for i := 0; i <= 18; i++ {
		qs = append(qs, float64(i)*5)
	}
	for _, t := range []float64{92, 94, 96, 97, 98, 99, 99.5, 99.9, 99.95, 99.99, 100} {
		qs = append(qs, t)
	}
	out := make([][2]float64, 0, len(qs))
	for _, p := range qs {
		v := h.h.ValueAtQuantile(p) - 1
		v = min(max(v, h.min), h.max)
		if p == 0 {
			v = h.min
		}
		if p == 100 {
			v = h.max
		}
		out = append(out, [2]float64{math.Round(p*100) / 10000, float64(v)})
	}
	return out
}

// Merge adds o's values to h.
func (h *Hist) Merge(o *Hist) {
	if o == nil || o.n == 0 {
		return
	}
	h.h.Merge(o.h)
	h.n += o.n
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Small is a per-task digest without a histogram: count, sum and max, so a
// task costs a few words however many values it records.
type Small struct {
	N   int64
	Sum uint64
	Max uint64
}

// Record adds one value.
func (s *Small) Record(v uint64) {
	s.N++
	s.Sum += v
	s.Max = max(s.Max, v)
}

// Mean is the average, 0 when empty.
func (s Small) Mean() float64 {
	if s.N == 0 {
		return 0
	}
	return round3(float64(s.Sum) / float64(s.N))
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
