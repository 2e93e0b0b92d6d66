package scheds

import (
	"testing"

	"github.com/scxsim/scxsim/kernel/scx"
)

// TestCounterNested: a program run is charged to the innermost op in
// progress, so an op nested in another keeps its own instructions and the
// outer op is charged only its own.
func TestCounterNested(t *testing.T) {
	c := NewCounter()
	ops := &scx.Ops{}
	// enqueue's program triggers dequeue (a nested op) and then finishes:
	// the nested run is reported first, as bpfsched does.
	ops.Dequeue = func(p *scx.Task, f uint64) { c.AddInsns(3) }
	ops.Enqueue = func(p *scx.Task, f uint64) {
		if f != 0 {
			ops.Dequeue(p, 0)
		}
		c.AddInsns(10)
	}
	ops.Dispatch = func(cpu int32, prev *scx.Task) { c.AddInsns(4) }
	c.Wrap(ops)
	for i := 0; i < 6; i++ {
		ops.Enqueue(nil, uint64(i%2))
		ops.Dispatch(0, nil)
	}
	ops.Dequeue(nil, 0)
	c.AddInsns(100) // outside any op: not charged
	want := map[string][2]uint64{"enqueue": {6, 60}, "dequeue": {4, 12}, "dispatch": {6, 24}}
	got := c.Results()
	if len(got) != len(want) {
		t.Fatalf("results %+v", got)
	}
	for _, o := range got {
		w := want[o.Op]
		if o.Calls != w[0] || o.Insns != w[1] {
			t.Errorf("%s: %d calls %d insns, want %d and %d", o.Op, o.Calls, o.Insns, w[0], w[1])
		}
	}
}
