package engine

import (
	"fmt"

	"github.com/scxsim/scxsim/sim/workload"
)

// maxSteps bounds the operations a task may execute without time passing
// (no run, no block): a program looping over wakes alone would otherwise
// hold the simulation at one instant forever.
const maxSteps = 100_000

// fetch returns t's next operation, finishing loops and program
// iterations on the way; nil when the program is done.
func (e *Engine) fetch(t *task) *workload.Op {
	for {
		f := &t.frames[len(t.frames)-1]
		if f.pc < len(f.ops) {
			return &f.ops[f.pc]
		}
		if len(t.frames) == 1 {
			e.rec.Iteration(t.rec, e.now-t.iterAt)
			t.iter++
			t.iterAt = e.now
			if t.g.w.Loop > 0 && t.iter >= t.g.w.Loop {
				return nil
			}
			f.pc = 0
			continue
		}
		if f.left != 0 {
			if f.left > 0 {
				f.left--
			}
			f.pc = 0
			continue
		}
		t.frames = t.frames[:len(t.frames)-1]
		t.frames[len(t.frames)-1].pc++
	}
}

// advance runs t's program from where it stands until it starts a run
// phase, blocks or exits. t is running on its CPU.
func (e *Engine) advance(t *task) {
	if t.relock != "" {
		m := e.mutex(t.relock)
		if m.owner != nil && m.owner != t {
			m.waiters = append(m.waiters, t)
			e.block(t, bLock)
			return
		}
		m.owner = t
		t.relock = ""
	}
	for steps := 0; ; steps++ {
		if steps > maxSteps {
			e.err = fmt.Errorf("task %s (group %s): %d operations without running or blocking; a loop needs a run, sleep or wait",
				t.st, t.g.w.Name, maxSteps)
			return
		}
		op := e.fetch(t)
		if op == nil {
			e.exit(t)
			return
		}
		f := &t.frames[len(t.frames)-1]
		switch op.Kind {
		case workload.OpRun, workload.OpRunTime:
			f.pc++
			d := op.Dur.Sample(e.rng)
			if d == 0 {
				continue
			}
			t.inPhase, t.scaled, t.remain = true, op.Kind == workload.OpRun, float64(d)
			e.armPhase(e.cpus[t.cpu])
			return
		case workload.OpSleep:
			f.pc++
			d := op.Dur.Sample(e.rng)
			if d == 0 {
				continue
			}
			e.sleepUntil(t, e.now+d)
			return
		case workload.OpTimer:
			f.pc++
			ts := t.timer(op.Name)
			ts.next += op.Period
			if ts.next <= e.now {
				if !op.Absolute {
					ts.next = e.now
				}
				continue
			}
			e.sleepUntil(t, ts.next)
			return
		case workload.OpWake:
			f.pc++
			e.wakeTargets(t, op.Target)
		case workload.OpWait:
			if t.tokens >= op.Count {
				t.tokens -= op.Count
				f.pc++
				continue
			}
			t.need = op.Count
			e.block(t, bWait)
			return
		case workload.OpBarrier:
			f.pc++
			b := e.barriers[op.Name]
			if b == nil {
				b = &barrier{}
				e.barriers[op.Name] = b
			}
			b.arrived++
			if b.arrived >= b.users {
				ws := b.waiters
				b.arrived, b.waiters = 0, nil
				for _, w := range ws {
					e.wake(w, bBarrier)
				}
				continue
			}
			b.waiters = append(b.waiters, t)
			e.block(t, bBarrier)
			return
		case workload.OpFork:
			f.pc++
			g := e.groupByName(op.Target.Group)
			for i := 0; i < op.Count; i++ {
				if err := e.spawn(g, t); err != nil {
					e.err = err
					return
				}
			}
			if op.Wait && t.kids > 0 {
				e.block(t, bFork)
				return
			}
		case workload.OpExit:
			e.exit(t)
			return
		case workload.OpAffinity:
			f.pc++
			m, err := e.maskOf(op.CPUs, "affinity")
			if err == nil && m == nil {
				m = e.m.PossibleMask()
			}
			if err == nil {
				err = e.core.SetAffinity(t.st, m)
			}
			if err != nil {
				e.warnf("task %s: affinity %v: %v", t.st, op.CPUs, err)
			}
			if t.cpu < 0 {
				return
			}
		case workload.OpNice:
			f.pc++
			if err := e.core.SetNice(t.st, op.Nice); err != nil {
				e.warnf("task %s: nice %d: %v", t.st, op.Nice, err)
			}
			e.rec.SetWeight(t.rec, t.st.Weight())
			if t.cpu < 0 {
				return
			}
		case workload.OpPolicy:
			f.pc++
			if err := e.core.SetScheduler(t.st, policyOf(op.Policy), op.RTPrio); err != nil {
				e.warnf("task %s: policy %s: %v", t.st, op.Policy, err)
			}
			e.rec.SetWeight(t.rec, t.st.Weight())
			if t.cpu < 0 {
				return
			}
		case workload.OpCgroup:
			f.pc++
			if err := e.core.MoveCgroup(t.st, e.cgroups[op.Name]); err != nil {
				e.warnf("task %s: move to cgroup %s: %v", t.st, op.Name, err)
			} else {
				e.rec.SetCgroup(t.rec, op.Name)
			}
			if t.cpu < 0 {
				return
			}
		case workload.OpYield:
			f.pc++
			if err := e.core.Yield(t.st); err != nil {
				e.err = fmt.Errorf("task %s: yield: %w", t.st, err)
				return
			}
			if t.cpu < 0 {
				return
			}
		case workload.OpLoop:
			left := -1
			if op.Count > 0 {
				left = op.Count - 1
			}
			t.frames = append(t.frames, frame{ops: op.Body, left: left})
		case workload.OpServe:
			p := e.pools[op.Name]
			if p.head < len(p.queue) {
				r := p.queue[p.head]
				p.queue[p.head] = nil
				p.head++
				if p.head > 1024 && p.head*2 > len(p.queue) {
					p.queue = append(p.queue[:0], p.queue[p.head:]...)
					p.head = 0
				}
				f.pc++
				t.req = r
				t.inPhase, t.scaled, t.remain = true, true, float64(r.work)
				e.armPhase(e.cpus[t.cpu])
				return
			}
			p.idle = append(p.idle, t)
			e.block(t, bServe)
			return
		case workload.OpLock:
			m := e.mutex(op.Name)
			if m.owner == nil || m.owner == t {
				m.owner = t
				f.pc++
				continue
			}
			m.waiters = append(m.waiters, t)
			e.block(t, bLock)
			return
		case workload.OpUnlock:
			f.pc++
			if m := e.mutex(op.Name); m.owner == t {
				e.unlock(m)
			}
		case workload.OpCondWait:
			f.pc++
			if m := e.mutex(op.Mutex); m.owner == t {
				e.unlock(m)
			}
			t.relock = op.Mutex
			e.conds[op.Name] = append(e.conds[op.Name], t)
			e.block(t, bCond)
			return
		case workload.OpSignal:
			f.pc++
			if ws := e.conds[op.Name]; len(ws) > 0 {
				e.conds[op.Name] = ws[1:]
				e.wake(ws[0], bCond)
			}
		case workload.OpBroadcast:
			f.pc++
			ws := e.conds[op.Name]
			delete(e.conds, op.Name)
			for _, w := range ws {
				e.wake(w, bCond)
			}
		default:
			e.err = fmt.Errorf("task %s: unknown operation %v", t.st, op.Kind)
			return
		}
	}
}

// exit ends running task t in do_exit()'s order: sched_process_exit, the
// parent's wakeup (exit_notify()), then the final switch (do_task_dead()).
func (e *Engine) exit(t *task) {
	e.onExit(t, t.cpu, true)
	if err := e.core.Exit(t.st); err != nil {
		e.err = fmt.Errorf("task %s: exit: %w", t.st, err)
	}
}

func (e *Engine) sleepUntil(t *task, at uint64) {
	t.sgen++
	e.q.push(event{at: at, kind: evSleepEnd, t: t, gen: t.sgen})
	e.block(t, bSleep)
}

// timer returns t's timer name, starting it at t's creation: as in rt-app,
// the first boundary is one period after the task started, not after the
// timer's first use.
func (t *task) timer(name string) *timerState {
	for i := range t.timers {
		if t.timers[i].name == name {
			return &t.timers[i]
		}
	}
	t.timers = append(t.timers, timerState{name: name, next: t.born})
	return &t.timers[len(t.timers)-1]
}

func (e *Engine) mutex(name string) *mutex {
	m := e.mutexes[name]
	if m == nil {
		m = &mutex{}
		e.mutexes[name] = m
	}
	return m
}

// unlock hands m to its first waiter, if any.
func (e *Engine) unlock(m *mutex) {
	if len(m.waiters) == 0 {
		m.owner = nil
		return
	}
	w := m.waiters[0]
	m.waiters = m.waiters[1:]
	m.owner = w
	e.wake(w, bLock)
}

func (e *Engine) groupByName(name string) *group {
	for _, g := range e.groups {
		if g.w.Name == name {
			return g
		}
	}
	return nil
}

// give adds a wake token to x and wakes it if its wait is satisfied.
func (e *Engine) give(x *task) {
	if x.exited {
		return
	}
	x.tokens++
	if x.blocked == bWait && x.tokens >= x.need {
		e.wake(x, bWait)
	}
}

// wakeTargets wakes the tasks of tg that waker t reaches.
func (e *Engine) wakeTargets(t *task, tg workload.Target) {
	g := e.groupByName(tg.Group)
	m := len(g.tasks)
	if m == 0 {
		return
	}
	n := max(len(t.g.tasks), 1)
	i := t.idx
	switch tg.Which {
	case workload.WhichPeer:
		e.give(g.tasks[min(i*m/n, m-1)])
	case workload.WhichPeers:
		if g == t.g {
			e.give(t)
			return
		}
		// Tasks j whose peer (j*n/m) is i.
		for j := i * m / n; j < m; j++ {
			if pj := j * n / m; pj == i {
				e.give(g.tasks[j])
			} else if pj > i {
				break
			}
		}
	case workload.WhichAll:
		for _, x := range g.tasks {
			e.give(x)
		}
	case workload.WhichRandom:
		e.give(g.tasks[e.rng.IntN(m)])
	case workload.WhichNext:
		e.give(g.tasks[t.rr%m])
		t.rr++
	}
}
