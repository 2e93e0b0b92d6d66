package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// DistKind is the shape of a Dist.
type DistKind uint8

// Distribution shapes. Parameters are in ns except the lognormal sigma.
const (
	Fixed     DistKind = iota // A
	Uniform                   // uniform in [A, B]
	Exp                       // exponential with mean A
	Normal                    // normal with mean A, standard deviation B, cut at 0
	LogNormal                 // log-normal with mean A and sigma B (of the underlying normal)
)

// Dist is a duration distribution. Every draw comes from the caller's
// seeded generator, so a run is reproducible.
type Dist struct {
	Kind DistKind
	A, B float64
}

// FixedDist is a constant duration of ns.
func FixedDist(ns uint64) Dist { return Dist{Kind: Fixed, A: float64(ns)} }

// Sample draws one duration in ns.
func (d Dist) Sample(r *rand.Rand) uint64 {
	var v float64
	switch d.Kind {
	case Fixed:
		return uint64(d.A)
	case Uniform:
		v = d.A + r.Float64()*(d.B-d.A)
	case Exp:
		v = r.ExpFloat64() * d.A
	case Normal:
		v = d.A + r.NormFloat64()*d.B
	case LogNormal:
		mu := math.Log(d.A) - d.B*d.B/2
		v = math.Exp(mu + d.B*r.NormFloat64())
	}
	if v < 0 || math.IsNaN(v) {
		return 0
	}
	if v > 1e15 {
		return 1e15
	}
	return uint64(v)
}

// Mean is the distribution's mean in ns.
func (d Dist) Mean() float64 {
	switch d.Kind {
	case Uniform:
		return (d.A + d.B) / 2
	}
	return d.A
}

// IsZero reports a fixed zero duration.
func (d Dist) IsZero() bool { return d.Kind == Fixed && d.A == 0 }

func (d Dist) String() string {
	f := func(v float64) string { return FormatDuration(uint64(v)) }
	switch d.Kind {
	case Uniform:
		return fmt.Sprintf("uniform(%s,%s)", f(d.A), f(d.B))
	case Exp:
		return fmt.Sprintf("exp(%s)", f(d.A))
	case Normal:
		return fmt.Sprintf("normal(%s,%s)", f(d.A), f(d.B))
	case LogNormal:
		return fmt.Sprintf("lognormal(%s,%g)", f(d.A), d.B)
	}
	return f(d.A)
}

// FormatDuration prints ns with the largest unit that keeps it exact
// ("1.5ms", "250us", "3s").
func FormatDuration(ns uint64) string {
	return time.Duration(ns).String()
}

// ParseDuration parses a non-negative duration with a unit: "10ms",
// "1.5s", "250us", "100ns" (Go's time.ParseDuration syntax).
func ParseDuration(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return 0, fmt.Errorf("duration %q needs a unit (ns, us, ms, s)", s)
		}
		return 0, fmt.Errorf("expected a duration like 10ms, 250us or 1.5s, got %q", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return uint64(d), nil
}

// ParseDist parses a distribution: a duration ("2ms", fixed),
// "uniform(1ms,3ms)", "exp(2ms)", "normal(2ms,200us)" or
// "lognormal(2ms,0.5)".
func ParseDist(s string) (Dist, error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '(')
	if open < 0 {
		ns, err := ParseDuration(s)
		if err != nil {
			return Dist{}, err
		}
		return FixedDist(ns), nil
	}
	if !strings.HasSuffix(s, ")") {
		return Dist{}, fmt.Errorf("distribution %q: expected a closing parenthesis", s)
	}
	name := strings.TrimSpace(s[:open])
	args := strings.Split(s[open+1:len(s)-1], ",")
	want := map[string]int{"uniform": 2, "exp": 1, "normal": 2, "lognormal": 2}
	n, ok := want[name]
	if !ok {
		return Dist{}, fmt.Errorf("unknown distribution %q (expected uniform, exp, normal or lognormal)", name)
	}
	if len(args) != n {
		return Dist{}, fmt.Errorf("%s takes %d argument(s), got %d", name, n, len(args))
	}
	dur := func(i int) (float64, error) {
		v, err := ParseDuration(args[i])
		return float64(v), err
	}
	a, err := dur(0)
	if err != nil {
		return Dist{}, fmt.Errorf("%s: %w", name, err)
	}
	switch name {
	case "exp":
		return Dist{Kind: Exp, A: a}, nil
	case "lognormal":
		sigma, err := strconv.ParseFloat(strings.TrimSpace(args[1]), 64)
		if err != nil || sigma < 0 || sigma > 10 || math.IsNaN(sigma) {
			return Dist{}, fmt.Errorf("lognormal: sigma %q: expected a number in [0, 10]", strings.TrimSpace(args[1]))
		}
		if a == 0 {
			return Dist{}, fmt.Errorf("lognormal: mean must be positive")
		}
		return Dist{Kind: LogNormal, A: a, B: sigma}, nil
	}
	b, err := dur(1)
	if err != nil {
		return Dist{}, fmt.Errorf("%s: %w", name, err)
	}
	if name == "uniform" {
		if b < a {
			return Dist{}, fmt.Errorf("uniform: upper bound %s is below lower bound %s", strings.TrimSpace(args[1]), strings.TrimSpace(args[0]))
		}
		return Dist{Kind: Uniform, A: a, B: b}, nil
	}
	return Dist{Kind: Normal, A: a, B: b}, nil
}
