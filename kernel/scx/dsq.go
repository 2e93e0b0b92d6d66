package scx

// DSQ is a dispatch queue (struct scx_dispatch_q): a FIFO list, or a list
// kept in vtime order through a priority index when tasks are inserted with
// a vtime. Local DSQs belong to a CPU, the global DSQ to a NUMA node, user
// DSQs are created by the scheduler.
type DSQ struct {
	ID   uint64
	head entity // list sentinel: head.next is the first task
	nr   int
	seq  uint32
	ord  uint64
	priq *treap // vtime index; nil while the DSQ holds FIFO tasks only
	sch  *Sched
	cpu  int // owning CPU of a local DSQ, -1 otherwise
	// owner is the rq of a local DSQ.
	owner *rqState
	node  int
	// destroyed marks a user DSQ removed by scx_bpf_destroy_dsq(); its id
	// reads as SCX_DSQ_INVALID for late inserts.
	destroyed bool
}

func newDSQ(id uint64, sch *Sched, cpu, node int) *DSQ {
	d := &DSQ{ID: id, sch: sch, cpu: cpu, node: node}
	d.head.next, d.head.prev = &d.head, &d.head
	return d
}

// Nr returns the number of queued tasks.
func (d *DSQ) Nr() int { return d.nr }

func (d *DSQ) isLocal() bool { return d.ID == DSQLocal }

func (d *DSQ) builtin() bool { return d.ID&DSQFlagBuiltin != 0 }

// first returns the first task, nil if empty (iterator cursors skipped).
func (d *DSQ) first() *entity {
	for e := d.head.next; e != &d.head; e = e.next {
		if e.p != nil {
			return e
		}
	}
	return nil
}

// next returns the task after e (before e when rev), skipping iterator
// cursors, nil at the end. Mirrors nldsq_next_task().
func (d *DSQ) next(e *entity, rev bool) *entity {
	for {
		if rev {
			e = e.prev
		} else {
			e = e.next
		}
		if e == &d.head {
			return nil
		}
		if e.p != nil {
			return e
		}
	}
}

func listInsertAfter(pos, e *entity) {
	e.prev, e.next = pos, pos.next
	pos.next.prev = e
	pos.next = e
}

func listDel(e *entity) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.next, e.prev = nil, nil
}

// Tasks returns the queued tasks in dispatch order (a copy).
func (d *DSQ) Tasks() []*Task {
	out := make([]*Task, 0, d.nr)
	for e := d.first(); e != nil; e = d.next(e, false) {
		out = append(out, e.p)
	}
	return out
}

// treap is the vtime index of a DSQ (the kernel's rbtree dsq->priq): keys
// are (dsq_vtime, insertion order) so equal vtimes keep FIFO order, as
// rb_add() places an equal key after the existing ones. Priorities come
// from a deterministic generator.
type treap struct {
	root *tnode
	rng  uint64
}

type tnode struct {
	e           *entity
	vtime       uint64
	ord         uint64
	prio        uint64
	left, right *tnode
}

func vtimeBefore(a, b uint64) bool { return int64(a-b) < 0 }

func tlessKey(av, ao, bv, bo uint64) bool {
	if av != bv {
		return vtimeBefore(av, bv)
	}
	return ao < bo
}

func (t *treap) rand() uint64 {
	t.rng += 0x9e3779b97f4a7c15
	z := t.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func rotRight(n *tnode) *tnode { l := n.left; n.left = l.right; l.right = n; return l }
func rotLeft(n *tnode) *tnode  { r := n.right; n.right = r.left; r.left = n; return r }

func (t *treap) insert(nd *tnode) { t.root = tinsert(t.root, nd) }

func tinsert(n, nd *tnode) *tnode {
	if n == nil {
		return nd
	}
	if tlessKey(nd.vtime, nd.ord, n.vtime, n.ord) {
		n.left = tinsert(n.left, nd)
		if n.left.prio > n.prio {
			n = rotRight(n)
		}
	} else {
		n.right = tinsert(n.right, nd)
		if n.right.prio > n.prio {
			n = rotLeft(n)
		}
	}
	return n
}

func (t *treap) remove(nd *tnode) { t.root = tremove(t.root, nd) }

func tremove(n, nd *tnode) *tnode {
	if n == nil {
		return nil
	}
	if n == nd {
		switch {
		case n.left == nil:
			return n.right
		case n.right == nil:
			return n.left
		case n.left.prio > n.right.prio:
			n = rotRight(n)
			n.right = tremove(n.right, nd)
		default:
			n = rotLeft(n)
			n.left = tremove(n.left, nd)
		}
		return n
	}
	if tlessKey(nd.vtime, nd.ord, n.vtime, n.ord) {
		n.left = tremove(n.left, nd)
	} else {
		n.right = tremove(n.right, nd)
	}
	return n
}

// prev returns the node ordered right before nd (rb_prev()), nil if none.
func (t *treap) prev(nd *tnode) *tnode {
	var best *tnode
	n := t.root
	for n != nil {
		if tlessKey(n.vtime, n.ord, nd.vtime, nd.ord) {
			best = n
			n = n.right
		} else {
			n = n.left
		}
	}
	return best
}

func (t *treap) empty() bool { return t == nil || t.root == nil }
