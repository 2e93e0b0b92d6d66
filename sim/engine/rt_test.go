package engine

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// A SCHED_FIFO group from YAML preempts a fair hog on wakeup: woken from
// another CPU, its wakeup latency is the modelled IPI latency, every time; a group that becomes SCHED_RR with the policy op takes the CPU
// from the hog (all but the fair server's 50 ms per second).
func TestYAMLRealTime(t *testing.T) {
	fx := Effects{SMTFactor: 1, IPILatencyNS: 3 * us, ContextSwitchNS: 2 * us}
	r := simYAML(t, machine(t, "1x1x2x1"), `
groups:
  - name: hog
    program: [{run: 1s}]
    cpus: [0]
  - name: rt
    policy: fifo
    rtprio: 50
    cpus: [0]
    program: [{wait: }, {run: 1ms}]
  - name: waker
    cpus: [1]
    program: [{sleep: 9ms}, {wake: rt}]
`, 500*ms, fx)
	g := r.group(t, "rt")
	if g.Wakeup.Count < 40 || g.Wakeup.Max != int64(3*us) || g.Wakeup.P50 != int64(3*us) {
		t.Errorf("rt wakeups %d, latency p50 %d max %d ns, want the 3 us IPI", g.Wakeup.Count, g.Wakeup.P50, g.Wakeup.Max)
	}

	r = simYAML(t, machine(t, "1x1x1x1"), `
groups:
  - name: hog
    program: [{run: 1s}]
  - name: late
    program: [{sleep: 100ms}, {policy: {policy: rr, rtprio: 5}}, {run: 10s}]
`, 3000*ms, noFx)
	hog, late := r.task(t, "hog-0").RuntimeNS, r.task(t, "late-0").RuntimeNS
	// The hog runs 100 ms, then only by the fair server: 50 ms from 1.05 s
	// (zero laxity), 1.1 s and 2.1 s.
	if hog < 240*ms || hog > 260*ms || late < 2740*ms {
		t.Errorf("hog ran %d ns, rr task %d ns; want about 250 ms and the rest", hog, late)
	}
}

// RT push/pull, RR slices and the deadline servers keep runs
// deterministic: the same seed gives the same results, event for event.
func TestRealTimeDeterministic(t *testing.T) {
	src := `
groups:
  - name: hog
    count: 4
    program: [{run: 1s}]
  - name: rr
    count: 3
    policy: rr
    rtprio: 10
    program: [{run: exp(30ms)}, {sleep: exp(20ms)}]
  - name: fifo
    count: 2
    policy: fifo
    rtprio: 40
    program: [{run: exp(2ms)}, {sleep: exp(5ms)}]
  - name: switcher
    program: [{sleep: 50ms}, {policy: {policy: fifo, rtprio: 20}}, {run: 100ms}, {policy: normal}, {run: 100ms}]
`
	var digests [2]string
	for i := range digests {
		r := simYAML(t, machine(t, "1x1x2x2"), src, 3000*ms, DefaultEffects())
		var b []byte
		for _, e := range r.evs {
			b = fmt.Appendf(b, "%s %d %d %s %s|", e.Kind, e.TS, e.CPU, e.Prev.Comm, e.Next.Comm)
		}
		digests[i] = fmt.Sprintf("%x", sha256.Sum256(b))
		if rr := r.group(t, "rr"); rr.RuntimeNS == 0 {
			t.Fatal("rr group never ran")
		}
	}
	if digests[0] != digests[1] {
		t.Fatalf("two runs differ: %s vs %s", digests[0], digests[1])
	}
}
