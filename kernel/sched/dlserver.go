package sched

// Deadline-server defaults (fair_server and ext_server of deadline.c):
// 50 ms of runtime every 1 s period.
const (
	DLServerRuntimeNS = 50_000_000
	DLServerPeriodNS  = 1_000_000_000
)

// dlServer is a simplified deferred deadline server (struct
// sched_dl_entity with dl_server and dl_defer set) for the tasks of one
// class on one CPU. See the package doc for what is simplified.
type dlServer struct {
	rq  *RQ
	ext bool // serves the ext class (rq->ext_server), else fair
	nr  int  // tasks of the class queued on rq, the running one included

	active       bool
	deferRunning bool // dl_defer_running: the starvation was seen; the server runs at each replenish
	boosting     bool // unthrottled: its class is picked before the RT class
	// throttled: the runtime ran out while boosting; the server waits for
	// its deadline to replenish.
	throttled bool
	deadline  uint64
	runtime   int64
	gen       uint64 // invalidates armed timers (hrtimer_try_to_cancel)
}

// class returns the class served, nil for ext when none is installed.
func (s *dlServer) class() Class {
	c := s.rq.core
	if !s.ext {
		return c.fair
	}
	if c.ext == nil {
		return nil
	}
	return c.ext
}

// starving reports whether a higher class has queued tasks on the CPU
// (RT for fair; RT or fair for ext): the server only starts under such
// pressure.
func (s *dlServer) starving() bool {
	if s.ext {
		return s.rq.rt.nr > 0 || s.rq.fairServer.nr > 0
	}
	return s.rq.rt.nr > 0
}

// Start mirrors dl_server_start() for a deferred server: a new period from
// now, and the zero-laxity timer at deadline - runtime.
func (s *dlServer) start() {
	if !s.active {
		s.rq.dlActive++
	}
	s.active = true
	s.deferRunning = false
	s.boosting, s.throttled = false, false
	s.newPeriod()
}

// newPeriod mirrors replenish_dl_new_period() plus start_dl_timer() of
// the deferred server.
func (s *dlServer) newPeriod() {
	now := s.rq.clock
	s.deadline = now + DLServerPeriodNS
	s.runtime = DLServerRuntimeNS
	s.arm(s.deadline-DLServerRuntimeNS, s.laxity)
}

func (s *dlServer) arm(at uint64, fn func()) {
	s.gen++
	gen := s.gen
	s.rq.core.host.ArmTimer(at, func() {
		if s.gen == gen && s.active {
			s.rq.UpdateClock()
			fn()
		}
	})
}

// stop mirrors dl_server_stop(): the class has no task left on the CPU.
func (s *dlServer) stop() {
	if !s.active {
		return
	}
	boosting := s.boosting
	s.rq.dlActive--
	s.active, s.boosting, s.deferRunning, s.throttled = false, false, false, false
	s.gen++
	if boosting {
		s.rq.core.ReschedCurr(s.rq)
	}
}

// laxity is the zero-laxity timer (dl_server_timer() with dl_defer_armed):
// the class waited until only its runtime is left of the period, so the
// server runs now. A runtime partly used in the background moves the
// point later.
func (s *dlServer) laxity() {
	if at := s.deadline - uint64(max(s.runtime, 0)); at > s.rq.clock {
		s.arm(at, s.laxity)
		return
	}
	s.deferRunning = true
	s.unthrottle()
}

func (s *dlServer) unthrottle() {
	s.boosting = true
	if s.rq.curr.class != s.class() {
		s.rq.core.ReschedCurr(s.rq)
	}
}

// replenish is the period timer of a server that used its runtime: a new
// runtime and deadline one period on (replenish_dl_entity()); a server
// that ran because of starvation runs again at once.
func (s *dlServer) replenish() {
	s.deadline += DLServerPeriodNS
	if s.deadline <= s.rq.clock {
		s.deadline = s.rq.clock + DLServerPeriodNS
	}
	s.runtime = DLServerRuntimeNS
	s.throttled = false
	if s.deferRunning && s.starving() {
		s.unthrottle()
		return
	}
	s.deferRunning = false
	s.arm(s.deadline-DLServerRuntimeNS, s.laxity)
}

// consume mirrors dl_server_update() -> update_curr_dl_se(): time the
// class ran comes off the runtime. A boosted server out of runtime is
// throttled until its deadline; one that was waiting and whose class got
// its runtime in the background starts a new period from now.
func (s *dlServer) consume(d uint64) {
	if s.throttled {
		// What the class runs until the resched lands, or in the
		// background while the server waits, is not charged.
		return
	}
	s.runtime -= int64(d)
	if s.runtime > 0 {
		return
	}
	if s.boosting {
		s.boosting, s.throttled = false, true
		s.arm(s.deadline, s.replenish)
		if s.rq.core.inSchedule == 0 {
			s.rq.core.ReschedCurr(s.rq)
		}
		return
	}
	s.deferRunning = false
	s.newPeriod()
}

// serverFor returns the server of p's class on rq, nil if it has none.
func (rq *RQ) serverFor(cl Class) *dlServer {
	switch {
	case cl == Class(rq.core.fair):
		return &rq.fairServer
	case rq.core.ext != nil && cl == Class(rq.core.ext):
		return &rq.extServer
	}
	return nil
}

// serverCount follows a task of class cl being queued (+1) or dequeued
// (-1) on rq and starts or stops the servers accordingly. Servers start
// lazily, when their class is runnable under pressure from a higher class.
func (c *Core) serverCount(rq *RQ, cl Class, delta int) {
	if s := rq.serverFor(cl); s != nil {
		s.nr += delta
		if s.nr == 0 {
			s.stop()
		}
	}
	if delta < 0 {
		return
	}
	if f := &rq.fairServer; !f.active && f.nr > 0 && rq.rt.nr > 0 {
		f.start()
	}
	if x := &rq.extServer; !x.active && x.nr > 0 && x.starving() && x.class() != nil {
		x.start()
	}
}

// serverPick mirrors the deadline class picking a server (pick_task_dl()
// -> dl_server pick): of the boosted servers, the earliest deadline (fair
// first on a tie) picks a task of its class. nil when none does.
func (c *Core) serverPick(rq *RQ) *Task {
	f, x := &rq.fairServer, &rq.extServer
	if !f.boosting && !x.boosting {
		return nil
	}
	order := [2]*dlServer{f, x}
	if x.boosting && (!f.boosting || x.deadline < f.deadline) {
		order = [2]*dlServer{x, f}
	}
	for _, s := range order {
		if !s.boosting {
			continue
		}
		if cl := s.class(); cl != nil {
			if p := cl.PickTask(rq); p != nil {
				return p
			}
		}
	}
	return nil
}

func (c *Core) initServers(rq *RQ) {
	rq.fairServer = dlServer{rq: rq}
	rq.extServer = dlServer{rq: rq, ext: true}
}

// FairServerBoosting and ExtServerBoosting report whether the CPU's fair
// or ext deadline server currently runs its class ahead of RT tasks.
func (rq *RQ) FairServerBoosting() bool { return rq.fairServer.boosting }

// ExtServerBoosting: see FairServerBoosting.
func (rq *RQ) ExtServerBoosting() bool { return rq.extServer.boosting }
