// Package goscheds holds sched_ext schedulers written as Go ops, for tests,
// benchmarks and as examples of the Ops API.
package goscheds

import (
	"github.com/scxsim/scxsim/kernel/scx"
)

// SharedDSQ is the id of the user DSQ the FIFO scheduler queues into.
const SharedDSQ = 0

// FIFO is scx_simple's FIFO mode as Go ops: ops.select_cpu() uses the
// default idle selection and inserts straight into the local DSQ of an idle
// CPU; ops.enqueue() appends to one shared DSQ; ops.dispatch() moves its
// head to the local DSQ.
type FIFO struct {
	X *scx.Ext
	// Slice is the slice given to every task (SCX_SLICE_DFL if 0).
	Slice uint64
	// Counters, for tests.
	Enqueued, Dispatched, LocalInserts int
}

// Ops returns the scheduler's ops.
func (f *FIFO) Ops(name string, flags uint64) *scx.Ops {
	slice := f.Slice
	if slice == 0 {
		slice = scx.SliceDfl
	}
	x := f.X
	return &scx.Ops{
		Form:  scx.FormCPU,
		Name:  name,
		Flags: flags,
		SelectCPU: func(p *scx.Task, prev int32, wf uint64) int32 {
			cpu, idle := x.SelectCPUDfl(p, prev, wf)
			if idle {
				f.LocalInserts++
				x.DsqInsert(p, scx.DSQLocal, slice, 0)
			}
			return cpu
		},
		Enqueue: func(p *scx.Task, enqFlags uint64) {
			f.Enqueued++
			x.DsqInsert(p, SharedDSQ, slice, enqFlags)
		},
		Dispatch: func(cpu int32, prev *scx.Task) {
			if x.DsqMoveToLocal(SharedDSQ, 0) {
				f.Dispatched++
			}
		},
		Init: func() int32 { return x.CreateDSQ(SharedDSQ, -1) },
	}
}
