// Package schedtest is a tiny deterministic driver for the scheduling core:
// a sched.Host with a virtual clock, an ordered timer queue, resched IPIs
// with a fixed latency, periodic ticks and simple task behaviours (CPU hogs
// and run/sleep loops). Tests of kernel/sched and kernel/scx use it; the
// simulation engine proper lives in sim/.
package schedtest

import (
	"container/heap"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/topo"
)

// Behavior is what a task does when it runs: Run ns of CPU, then sleep
// Sleep ns, forever; Run == 0 is a CPU hog that never sleeps.
type Behavior struct {
	Run, Sleep uint64
	// Exit makes the task exit after its first Run instead of sleeping.
	Exit bool
}

type taskState struct {
	b       Behavior
	ran     uint64 // CPU time in the current burst
	since   uint64 // switched in at
	running bool
	gen     uint64
}

type event struct {
	at   uint64
	seq  uint64
	kind int
	cpu  int
	fn   func()
}

const (
	kindTimer = iota
	kindResched
	kindTick
	kindTask
)

type eventQ []*event

func (q eventQ) Len() int { return len(q) }
func (q eventQ) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQ) Swap(i, j int)  { q[i], q[j] = q[j], q[i] }
func (q *eventQ) Push(x any)    { *q = append(*q, x.(*event)) }
func (q *eventQ) Pop() any      { o := *q; n := len(o); e := o[n-1]; *q = o[:n-1]; return e }
func (q *eventQ) add(e *event)  { heap.Push(q, e) }
func (q *eventQ) next() *event  { return heap.Pop(q).(*event) }
func (q eventQ) peekAt() uint64 { return q[0].at }

// Driver runs a core in virtual time.
type Driver struct {
	Core *sched.Core
	now  uint64
	seq  uint64
	q    eventQ
	// IPILatency delays a resched request's delivery (ns).
	IPILatency uint64
	// Ticks enables the periodic tick on every CPU.
	Ticks bool
	// Record keeps every reported event in Events.
	Record bool
	Events []sched.Event
	// OnEvent, when set, sees every reported event.
	OnEvent func(e sched.Event)

	pendingResched []bool
	tickArmed      bool
	tasks          map[*sched.Task]*taskState
}

// New builds a driver and its core for machine m.
func New(m *topo.Machine, opts sched.Options) *Driver {
	d := &Driver{IPILatency: 1000, Ticks: true, tasks: map[*sched.Task]*taskState{}}
	d.Core = sched.New(m, d, opts)
	d.pendingResched = make([]bool, m.NrCPUIDs())
	return d
}

// Now implements sched.Host.
func (d *Driver) Now() uint64 { return d.now }

func (d *Driver) push(at uint64, kind, cpu int, fn func()) {
	d.seq++
	d.q.add(&event{at: at, seq: d.seq, kind: kind, cpu: cpu, fn: fn})
}

// Resched implements sched.Host.
func (d *Driver) Resched(cpu int) {
	if d.pendingResched[cpu] {
		return
	}
	d.pendingResched[cpu] = true
	d.push(d.now+d.IPILatency, kindResched, cpu, func() {
		d.pendingResched[cpu] = false
		d.Core.Schedule(cpu)
	})
}

// ArmTimer implements sched.Host.
func (d *Driver) ArmTimer(at uint64, fn func()) {
	if at < d.now {
		at = d.now
	}
	d.push(at, kindTimer, -1, fn)
}

// Event implements sched.Host.
func (d *Driver) Event(e sched.Event) {
	if d.Record {
		d.Events = append(d.Events, e)
	}
	if d.OnEvent != nil {
		d.OnEvent(e)
	}
	switch e.Kind {
	case sched.EvSwitch:
		if ts := d.tasks[e.Prev]; ts != nil && ts.running {
			ts.ran += d.now - ts.since
			ts.running = false
			ts.gen++
		}
		if ts := d.tasks[e.Task]; ts != nil {
			ts.running = true
			ts.since = d.now
			ts.gen++
			d.armBurst(e.Task, ts)
		}
	}
}

func (d *Driver) armBurst(p *sched.Task, ts *taskState) {
	if ts.b.Run == 0 {
		return
	}
	left := uint64(0)
	if ts.ran < ts.b.Run {
		left = ts.b.Run - ts.ran
	}
	gen := ts.gen
	d.push(d.now+left, kindTask, p.CPU(), func() {
		if ts.gen != gen || !ts.running {
			return
		}
		ts.ran += d.now - ts.since
		ts.since = d.now
		ts.running = false
		ts.gen++
		ts.ran = 0
		if ts.b.Exit {
			_ = d.Core.Exit(p)
			return
		}
		_ = d.Core.Block(p)
		d.push(d.now+ts.b.Sleep, kindTask, -1, func() { d.Core.Wake(p, 0) })
	})
}

// Spawn creates a task with behaviour b.
func (d *Driver) Spawn(spec sched.TaskSpec, b Behavior) (*sched.Task, error) {
	ts := &taskState{b: b}
	p, err := d.Core.NewTask(spec)
	if err != nil {
		return nil, err
	}
	d.tasks[p] = ts
	// The task may have been switched in during NewTask before it was
	// registered: nothing runs synchronously there (switches happen on
	// resched delivery), so no state was missed.
	return p, nil
}

// Run advances virtual time to until, processing every event due.
func (d *Driver) Run(until uint64) {
	if d.Ticks {
		d.armTicks()
	}
	for d.q.Len() > 0 && d.q.peekAt() <= until {
		e := d.q.next()
		d.now = e.at
		e.fn()
	}
	if d.now < until {
		d.now = until
	}
}

// Drain processes every event due now (zero-delay timers, IPIs with zero
// latency) without advancing time.
func (d *Driver) Drain() { d.Run(d.now) }

func (d *Driver) armTicks() {
	if d.tickArmed {
		return
	}
	d.tickArmed = true
	t := d.Core.TickNS()
	var tick func()
	tick = func() {
		for _, rq := range d.Core.RQs() {
			if rq != nil && rq.Online() {
				d.Core.Tick(rq.CPU)
			}
		}
		d.push(d.now+t, kindTick, -1, tick)
	}
	d.push((d.now/t+1)*t, kindTick, -1, tick)
}

// Runtime returns the CPU time p has used, including the current stint.
func (d *Driver) Runtime(p *sched.Task) uint64 {
	rq := d.Core.RQ(p.CPU())
	if rq != nil && rq.Curr() == p && d.now > p.ExecStart() {
		return p.SumExecRuntime + (d.now - p.ExecStart())
	}
	return p.SumExecRuntime
}
