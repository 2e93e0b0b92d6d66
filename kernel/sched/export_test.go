package sched

import "fmt"

// CheckFair verifies the fair class's queues on every CPU: entity counts,
// load sums, per-level task counts (h_nr_running), heap indexes, and that
// each runqueue's NrRunning counts exactly its queued tasks outside
// throttled hierarchies. Tests call it between driver steps.
func (c *Core) CheckFair() error {
	for _, rq := range c.rqs {
		if rq == nil {
			continue
		}
		if _, err := checkQueue(&rq.fair); err != nil {
			return fmt.Errorf("cpu %d: %w", rq.CPU, err)
		}
		want := 0
		for _, p := range c.tasks {
			if p == nil || !p.onRQ || p.cpu != rq.CPU {
				continue
			}
			if p.class == Class(c.fair) {
				if !p.fair.onRQ {
					return fmt.Errorf("cpu %d: %v queued but its entity is not", rq.CPU, p)
				}
				if p.fair.cfsRQ.rq != rq {
					return fmt.Errorf("cpu %d: %v queued on cpu %d's queue", rq.CPU, p, p.fair.cfsRQ.rq.CPU)
				}
				if p.fair.cfsRQ.throttleCount > 0 {
					continue
				}
			}
			want++
		}
		if rq.NrRunning != want {
			return fmt.Errorf("cpu %d: nr_running %d, %d queued tasks not throttled", rq.CPU, rq.NrRunning, want)
		}
	}
	for _, tg := range c.fair.groups {
		var load uint64
		for _, f := range tg.cfs {
			if f == nil {
				continue
			}
			load += f.load
			if f.throttled {
				if _, err := checkQueue(f); err != nil {
					return fmt.Errorf("throttled: %w", err)
				}
			}
		}
		if load != tg.load {
			return fmt.Errorf("group %s: load %d, queues sum to %d", tg.cg.Path, tg.load, load)
		}
	}
	return nil
}

// checkQueue checks f and the queues below it; returns the tasks its
// hierarchy counts.
func checkQueue(f *fairRQ) (int, error) {
	nr, h := 0, 0
	var load uint64
	seen := func(se *fairEntity) error {
		nr++
		load += uint64(se.weight)
		if se.cfsRQ != f {
			return fmt.Errorf("entity %d queued on the wrong queue", se.key)
		}
		if se.my == nil {
			h++
			return nil
		}
		if se.my.throttled {
			return fmt.Errorf("throttled group %s queued", se.my.tg.cg.Path)
		}
		n, err := checkQueue(se.my)
		h += n
		return err
	}
	for i, se := range f.heap {
		if se.heapIdx != i || !se.onRQ {
			return 0, fmt.Errorf("heap entry %d: index %d on_rq %v", i, se.heapIdx, se.onRQ)
		}
		if err := seen(se); err != nil {
			return 0, err
		}
	}
	if c := f.curr; c != nil && c.onRQ {
		if c.heapIdx >= 0 {
			return 0, fmt.Errorf("running entity %d in the heap", c.key)
		}
		if err := seen(c); err != nil {
			return 0, err
		}
	}
	if nr != f.nr || load != f.load || h != f.hNr {
		name := "/"
		if f.tg != nil {
			name = f.tg.cg.Path
		}
		return 0, fmt.Errorf("queue %s: nr %d load %d h_nr %d, entities give %d %d %d", name, f.nr, f.load, f.hNr, nr, load, h)
	}
	return h, nil
}

// CheckRT verifies the RT class's state on every CPU: each queued RT task
// is in its priority's list exactly once, the bitmap, counts, pushable
// flags and overload flags agree, the running RT task is the rq's
// current, and each deadline server counts its class's queued tasks.
func (c *Core) CheckRT() error {
	overloaded := 0
	for _, rq := range c.rqs {
		if rq == nil {
			continue
		}
		r := &rq.rt
		n, push := 0, 0
		var lists [MaxRTPrio][]*Task
		if r.queue != nil {
			lists = *r.queue
		}
		for prio := range lists {
			l := lists[prio]
			if (len(l) > 0) != (r.bitmap[prio/64]&(1<<(prio%64)) != 0) {
				return fmt.Errorf("cpu %d: prio %d: %d tasks, bitmap disagrees", rq.CPU, prio, len(l))
			}
			for _, p := range l {
				if p.prio != prio || p.class != Class(c.rt) || !p.onRQ || p.cpu != rq.CPU || !p.rt.queued {
					return fmt.Errorf("cpu %d: %v in prio %d list: prio %d class %s onRQ %v cpu %d", rq.CPU, p, prio, p.prio, p.class.Name(), p.onRQ, p.cpu)
				}
				want := rq.curr != p && p.nrCPUs > 1 && !p.MigrationDisabled()
				if p.rt.pushable != want {
					return fmt.Errorf("cpu %d: %v pushable %v, want %v", rq.CPU, p, p.rt.pushable, want)
				}
				if p.rt.pushable {
					push++
				}
				n++
			}
		}
		if n != r.nr || push != r.pushable {
			return fmt.Errorf("cpu %d: %d queued (nr %d), %d pushable (count %d)", rq.CPU, n, r.nr, push, r.pushable)
		}
		if r.overload != (r.nr > 1 && r.pushable > 0) {
			return fmt.Errorf("cpu %d: overload %v with nr %d pushable %d", rq.CPU, r.overload, r.nr, r.pushable)
		}
		if r.overload {
			overloaded++
		}
		if rq.curr.class == Class(c.rt) && r.currTask != rq.curr {
			return fmt.Errorf("cpu %d: runs %v, rt curr %v", rq.CPU, rq.curr, r.currTask)
		}
		nf, nx := 0, 0
		for _, p := range c.tasks {
			if p == nil || !p.onRQ || p.cpu != rq.CPU {
				continue
			}
			if p.class == Class(c.rt) && !p.rt.queued {
				return fmt.Errorf("cpu %d: %v on rq but not in the RT lists", rq.CPU, p)
			}
			if p.class == Class(c.fair) {
				nf++
			}
			if c.ext != nil && p.class == Class(c.ext) {
				nx++
			}
		}
		if nf != rq.fairServer.nr || nx != rq.extServer.nr {
			return fmt.Errorf("cpu %d: %d fair %d ext queued, servers count %d and %d", rq.CPU, nf, nx, rq.fairServer.nr, rq.extServer.nr)
		}
	}
	if overloaded != c.rt.nrOverloaded {
		return fmt.Errorf("%d overloaded CPUs, count %d", overloaded, c.rt.nrOverloaded)
	}
	return nil
}
