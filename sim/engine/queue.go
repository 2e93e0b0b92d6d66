package engine

// evKind says what an event does when it fires.
type evKind uint8

const (
	evTick      evKind = iota // scheduler tick on cpu
	evResched                 // a reschedule request reaches cpu
	evPhaseEnd                // the run phase of task t ends (if gen still matches)
	evSleepEnd                // task t's sleep or timer expires (if gen still matches)
	evHostTimer               // a timer the core armed: call fn
	evArrival                 // the next request of arrival stream cpu arrives
	evStart                   // group cpu's tasks start
)

// event is one entry of the queue. Events fire in (at, seq) order: time,
// then the order they were queued, so equal-time events are deterministic.
type event struct {
	at   uint64
	seq  uint64
	kind evKind
	cpu  int32
	gen  uint32
	t    *task
	fn   func()
}

// queue is a binary min-heap of events.
type queue struct {
	h   []event
	seq uint64
}

func (q *queue) less(i, j int) bool {
	a, b := &q.h[i], &q.h[j]
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

func (q *queue) push(e event) {
	e.seq = q.seq
	q.seq++
	q.h = append(q.h, e)
	i := len(q.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *queue) pop() event {
	top := q.h[0]
	n := len(q.h) - 1
	q.h[0] = q.h[n]
	q.h[n] = event{}
	q.h = q.h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return top
}

func (q *queue) len() int { return len(q.h) }

func (q *queue) peek() *event { return &q.h[0] }
