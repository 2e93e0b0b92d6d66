package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/sim/metrics"
)

// The text report's cgroups table gains burst and cpu.stat columns only
// when some cgroup has a cpu.max quota; without one it is as before.
func TestTextCgroupBandwidth(t *testing.T) {
	base := func() *metrics.Results {
		r := sample()
		r.Cgroups = []metrics.CgroupResult{
			{Path: "/a", Weight: 100, Tasks: 2, RuntimeNS: 2e8, Share: 0.5},
			{Path: "/b", Weight: 100, Tasks: 1, RuntimeNS: 2e8, Share: 0.5, Idle: true},
		}
		return r
	}
	lines := func(r *metrics.Results) []string {
		var b bytes.Buffer
		if err := Text(&b, r); err != nil {
			t.Fatal(err)
		}
		s := b.String()
		i := strings.Index(s, "\ncgroups\n")
		if i < 0 {
			t.Fatalf("no cgroups table:\n%s", s)
		}
		s = s[i+len("\ncgroups\n"):]
		return strings.Split(s[:strings.Index(s, "\n\n")], "\n")
	}
	plain := lines(base())
	want := []string{
		"  path  weight  cpu.max  tasks  runtime  share",
		"  /a    100     max      2      200ms    50.0%",
		"  /b    idle    max      1      200ms    50.0%",
	}
	if strings.Join(plain, "\n") != strings.Join(want, "\n") {
		t.Errorf("without limits:\n%s\nwant\n%s", strings.Join(plain, "\n"), strings.Join(want, "\n"))
	}

	r := base()
	r.Cgroups[0].QuotaUS, r.Cgroups[0].PeriodUS, r.Cgroups[0].BurstUS = 20000, 100000, 10000
	r.Cgroups[0].Bandwidth = &metrics.CgroupBandwidth{NrPeriods: 10, NrThrottled: 9, ThrottledUS: 1_800_000, NrBursts: 3, BurstUS: 12_000}
	got := lines(r)
	want = []string{
		"  path  weight  cpu.max       burst  tasks  runtime  share  periods  throttled  throttled time  bursts  burst time",
		"  /a    100     20000 100000  10000  2      200ms    50.0%  10       9          1.80s           3       12.0ms",
		"  /b    idle    max           -      1      200ms    50.0%  -        -          -               -       -",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("with a limit and a burst:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Without a burst the burst columns are left out.
	r.Cgroups[0].BurstUS = 0
	got = lines(r)
	want = []string{
		"  path  weight  cpu.max       burst  tasks  runtime  share  periods  throttled  throttled time",
		"  /a    100     20000 100000  -      2      200ms    50.0%  10       9          1.80s",
		"  /b    idle    max           -      1      200ms    50.0%  -        -          -",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("with a limit:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
