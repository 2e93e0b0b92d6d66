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
