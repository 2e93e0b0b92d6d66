package bpfsched_test

import (
	"fmt"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
)

// TestOpRunHookNested: OpRunHook reports each member program run with its
// own instructions. testdata/nest.bpf.o's ops.cpu_release() re-enqueues
// the local DSQ, so ops.enqueue() runs nested in it; both programs are
// straight-line code, so every run of one must report the same count,
// whether nested or not, and cpu_release's must not depend on how many
// enqueues ran inside it.
func TestOpRunHookNested(t *testing.T) {
	release := map[int]uint64{} // cpu_release's count by tasks queued
	for _, queued := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("queued=%d", queued), func(t *testing.T) {
			w := newWorld(t, 1, "kernel/scx/bpfsched/testdata/nest.bpf.o")
			var stack []string
			runs := map[string][]uint64{}
			nested := 0
			w.obj.OpsHook = func(o *scx.Ops) {
				enq, rel := o.Enqueue, o.CPURelease
				o.Enqueue = func(p *scx.Task, f uint64) {
					if len(stack) > 0 {
						nested++
					}
					stack = append(stack, "enqueue")
					enq(p, f)
					stack = stack[:len(stack)-1]
				}
				o.CPURelease = func(cpu int32, a scx.CPUReleaseArgs) {
					stack = append(stack, "cpu_release")
					rel(cpu, a)
					stack = stack[:len(stack)-1]
				}
			}
			w.obj.OpRunHook = func(n uint64) {
				if len(stack) == 0 {
					t.Fatal("program run outside an op")
				}
				op := stack[len(stack)-1]
				runs[op] = append(runs[op], n)
			}
			s := w.attach()
			for i := 0; i <= queued; i++ {
				if _, err := w.d.Spawn(sched.TaskSpec{Comm: "ext", Policy: sched.PolicyExt}, schedtest.Behavior{}); err != nil {
					t.Fatal(err)
				}
			}
			w.d.Run(5_000_000)
			if _, err := w.d.Spawn(sched.TaskSpec{Comm: "fair"}, schedtest.Behavior{Run: 500_000, Exit: true}); err != nil {
				t.Fatal(err)
			}
			w.d.Run(10_000_000)
			if s.Exited() {
				t.Fatalf("exited: %s", s.ExitInfo().Msg)
			}
			if len(runs["cpu_release"]) == 0 {
				t.Fatal("no cpu_release")
			}
			// The queued tasks and the preempted one are re-enqueued.
			if nested != queued+1 {
				t.Errorf("%d enqueues nested in cpu_release, want %d", nested, queued+1)
			}
			for op, ns := range runs {
				for _, n := range ns {
					if n == 0 || n != ns[0] {
						t.Errorf("%s runs reported %v instructions: not one constant count", op, ns)
						break
					}
				}
			}
			release[queued] = runs["cpu_release"][0]
			s.Detach()
		})
	}
	// The release's own count, whatever it re-enqueued.
	if release[1] != release[0] || release[3] != release[0] {
		t.Errorf("cpu_release reported %v instructions by tasks re-enqueued", release)
	}
}
