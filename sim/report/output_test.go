package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/sim/metrics"
)

func numbered(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

// BPFOutput keeps the last OutputKeep lines of each stream, says how many
// it left out and how many messages a full stream dropped.
func TestBPFOutputBounds(t *testing.T) {
	tests := []struct {
		name    string
		sc      metrics.SchedulerResult
		want    []string
		notWant []string
	}{
		{"empty", metrics.SchedulerResult{}, nil, []string{"stdout", "printk"}},
		{"exactly kept", metrics.SchedulerResult{Streams: []metrics.StreamOutput{{Prog: "p", Stdout: numbered(OutputKeep)}}},
			[]string{"  p stdout:\n    line 0\n", fmt.Sprintf("    line %d\n", OutputKeep-1)}, []string{"not shown", "p stderr"}},
		{"one over", metrics.SchedulerResult{Streams: []metrics.StreamOutput{{Prog: "p", Stderr: numbered(OutputKeep + 1)}}},
			[]string{"  p stderr:\n    (1 earlier lines not shown)\n    line 1\n"}, []string{"    line 0\n", "p stdout"}},
		{"dropped only", metrics.SchedulerResult{Streams: []metrics.StreamOutput{{Prog: "q", StdoutDropped: 3}}},
			[]string{"  q stdout:\n    (3 messages dropped: stream full)\n"}, nil},
		{"no trailing newline", metrics.SchedulerResult{Streams: []metrics.StreamOutput{{Prog: "r", Stdout: "a\nb"}}, Printk: []string{"hello"}},
			[]string{"  r stdout:\n    a\n    b\n  printk:\n    hello\n"}, nil},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		if err := BPFOutput(&b, &tc.sc); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if tc.want == nil && out != "" {
			t.Errorf("%s: output %q, want none", tc.name, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out)
			}
		}
		for _, w := range tc.notWant {
			if strings.Contains(out, w) {
				t.Errorf("%s: output has %q:\n%s", tc.name, w, out)
			}
		}
	}
}
