package scx

import (
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/topo"
)

// idleState is kernel/sched/ext/idle.c's state: the idle cpumask and the
// idle SMT (whole idle core) mask, global or per NUMA node.
type idleState struct {
	x         *Ext
	builtin   bool // scx_builtin_idle_enabled
	perNode   bool // SCX_OPS_BUILTIN_IDLE_PER_NODE
	smtActive bool
	cpu       topo.CPUMask // global idle cpus (also the union of the per-node masks)
	smt       topo.CPUMask
	sibling   []topo.CPUMask // per cpu: its core's cpus
	llc       []topo.CPUMask // per cpu: its LLC's cpus
	node      []topo.CPUMask // per node id
	cursor    []int          // cpumask_any_and_distribute() state, per calling cpu
	scratch   topo.CPUMask
	scratch2  topo.CPUMask
	scratch3  topo.CPUMask
	scratch4  topo.CPUMask
	topoLLC   bool
	topoNUMA  bool
}

func (s *idleState) init(x *Ext) {
	s.x = x
	n := x.core.NrCPUIDs()
	s.cpu, s.smt = topo.NewCPUMask(n), topo.NewCPUMask(n)
	s.scratch, s.scratch2, s.scratch3 = topo.NewCPUMask(n), topo.NewCPUMask(n), topo.NewCPUMask(n)
	s.scratch4 = topo.NewCPUMask(n)
	s.sibling = make([]topo.CPUMask, n)
	s.llc = make([]topo.CPUMask, n)
	s.cursor = make([]int, n)
	s.node = make([]topo.CPUMask, max(x.m.NrNodeIDs(), 1))
	for i := range s.node {
		s.node[i] = topo.NewCPUMask(n)
	}
	for _, c := range x.m.CPUs() {
		sm := topo.NewCPUMask(n)
		for _, sib := range x.m.Siblings(c.ID) {
			sm.Set(sib)
		}
		if sm.Weight() > 1 {
			s.smtActive = true
		}
		s.sibling[c.ID] = sm
		lm := topo.NewCPUMask(n)
		for _, l := range x.m.LLCCPUs(c.ID) {
			lm.Set(l)
		}
		s.llc[c.ID] = lm
		s.node[x.cpuNode(c.ID)].Set(c.ID)
	}
}

// enable mirrors scx_idle_enable() + reset_idle_masks(): every cpu starts
// out busy; idle ones are found when bypass is lifted and each CPU goes
// through an idle re-pick.
func (s *idleState) enable(o *Ops) {
	s.builtin = o.UpdateIdle == nil || o.Flags&OpsKeepBuiltinIdle != 0
	s.perNode = o.Flags&OpsBuiltinIdlePerNode != 0
	clear(s.cpu)
	clear(s.smt)
}

func (s *idleState) disable() {
	s.builtin = false
	clear(s.cpu)
	clear(s.smt)
}

func (s *idleState) updateTopology() {
	if r := s.x.root; r != nil {
		s.updateTopo(&r.ops)
	}
}

// UpdateIdle mirrors scx_update_idle() / __scx_update_idle(): the idle
// masks follow every call; ops.update_idle() sees real transitions
// (doNotify) and the re-notification owed after bypass.
func (x *Ext) UpdateIdle(rq *sched.RQ, idle bool, doNotify bool) {
	if !x.enabled || x.root == nil {
		return
	}
	sch := x.root
	s := &x.idle
	if s.builtin {
		s.update(rq.CPU, idle)
	}
	r := rs(rq)
	if doNotify || (idle && r.idleRenotify) {
		renotify := r.idleRenotify
		r.idleRenotify = false
		if (doNotify || renotify) && sch.has(opUpdateIdle) && !sch.Bypassing() {
			arg := x.cpuArg(rq.CPU)
			x.call(sch, opUpdateIdle, rq, nil, nil, func() { sch.ops.UpdateIdle(arg, idle) })
		}
	}
}

// update mirrors update_builtin_idle().
func (s *idleState) update(cpu int, idle bool) {
	if idle {
		s.cpu.Set(cpu)
	} else {
		s.cpu.Clear(cpu)
	}
	if !s.smtActive {
		return
	}
	sib := s.sibling[cpu]
	if idle {
		for i := range sib {
			if sib[i]&^s.cpu[i] != 0 {
				return
			}
		}
		for i := range sib {
			s.smt[i] |= sib[i]
		}
	} else {
		for i := range sib {
			s.smt[i] &^= sib[i]
		}
	}
}

// testAndClear mirrors scx_idle_test_and_clear_cpu().
func (s *idleState) testAndClear(cpu int) bool {
	if s.smtActive {
		sib := s.sibling[cpu]
		inter := false
		for i := range sib {
			if sib[i]&s.smt[i] != 0 {
				inter = true
				break
			}
		}
		if inter {
			for i := range sib {
				s.smt[i] &^= sib[i]
			}
		}
	}
	was := s.cpu.Test(cpu)
	s.cpu.Clear(cpu)
	return was
}

// anyAndDistribute mirrors cpumask_any_and_distribute(): the next cpu after
// the calling cpu's previous pick set in both masks, wrapping.
func (s *idleState) anyAndDistribute(a, b topo.CPUMask) int {
	me := s.x.curCPU()
	if me < 0 {
		me = 0
	}
	n := len(a) * 64
	start := s.cursor[me] + 1
	pick := nextAnd(a, b, start, n)
	if pick < 0 {
		pick = nextAnd(a, b, 0, n)
	}
	if pick >= 0 {
		s.cursor[me] = pick
	}
	return pick
}

func nextAnd(a, b topo.CPUMask, start, n int) int {
	if start >= n {
		return -1
	}
	for w := start / 64; w < len(a) && w < len(b); w++ {
		v := a[w] & b[w]
		if w == start/64 {
			v &= ^uint64(0) << (start % 64)
		}
		if v != 0 {
			for bit := 0; bit < 64; bit++ {
				if v&(1<<bit) != 0 {
					return w*64 + bit
				}
			}
		}
	}
	return -1
}

// pickIdle mirrors pick_idle_cpu_in_node() over the (global) masks.
func (s *idleState) pickIdle(allowed topo.CPUMask, flags uint64) int {
	for {
		if s.smtActive {
			if cpu := s.anyAndDistribute(s.smt, allowed); cpu >= 0 {
				if s.testAndClear(cpu) {
					return cpu
				}
				continue
			}
			if flags&PickIdleCore != 0 {
				return -int(16) // -EBUSY
			}
		}
		cpu := s.anyAndDistribute(s.cpu, allowed)
		if cpu < 0 {
			return -16
		}
		if s.testAndClear(cpu) {
			return cpu
		}
	}
}

func andInto(dst, a, b topo.CPUMask) topo.CPUMask {
	for i := range dst {
		var av, bv uint64
		if i < len(a) {
			av = a[i]
		}
		if i < len(b) {
			bv = b[i]
		}
		dst[i] = av & bv
	}
	return dst
}

// updateTopology mirrors scx_idle_update_selcpu_topology(): the LLC step
// runs only when the online CPUs span several LLCs, the NUMA step only with
// several nodes whose spans differ from the LLCs' (and not per-node).
func (s *idleState) updateTopo(o *Ops) {
	act := s.x.core.Active()
	first := act.First()
	s.topoLLC, s.topoNUMA = false, false
	if first < 0 {
		return
	}
	online := act.Weight()
	w := andInto(s.scratch, s.llc[first], act).Weight()
	if w > 0 && w < online {
		s.topoLLC = true
	}
	if o.Flags&OpsBuiltinIdlePerNode == 0 {
		nw := andInto(s.scratch, s.node[s.x.cpuNode(first)], act).Weight()
		if nw > 0 && nw < online {
			mismatch := false
			for cpu := range act.CPUs() {
				if andInto(s.scratch, s.llc[cpu], act).Weight() != andInto(s.scratch2, s.node[s.x.cpuNode(cpu)], act).Weight() {
					mismatch = true
					break
				}
			}
			s.topoNUMA = mismatch
		}
	}
}

// pickIdleNode mirrors scx_pick_idle_cpu(): with per-node idle tracking the
// search starts in node and, unless SCX_PICK_IDLE_IN_NODE, goes on to the
// other nodes in id order.
func (s *idleState) pickIdleNode(allowed topo.CPUMask, node int, flags uint64) int {
	if !s.perNode || node < 0 {
		return s.pickIdle(allowed, flags)
	}
	m := andInto(s.scratch4, allowed, s.node[node])
	if c := s.pickIdle(m, flags); c >= 0 || flags&PickIdleInNode != 0 {
		return c
	}
	for n := range s.node {
		if n == node {
			continue
		}
		m := andInto(s.scratch4, allowed, s.node[n])
		if c := s.pickIdle(m, flags); c >= 0 {
			return c
		}
	}
	return -16
}

// selectCPUDfl mirrors scx_select_cpu_dfl(): a WAKE_SYNC wakee may stay
// on prev or move to the waker's CPU; then, with SMT, prev's whole idle
// core, an idle core in prev's LLC, node, anywhere; then prev if idle, its
// idle SMT sibling, an idle CPU in the LLC, node, anywhere; -EBUSY if none.
func (x *Ext) selectCPUDfl(p *Task, prev int, wakeFlags uint64, cpusAllowed topo.CPUMask, flags uint64) int {
	s := &x.idle
	allowed := p.CPUsAllowed()
	if cpusAllowed != nil {
		allowed = andInto(s.scratch3, cpusAllowed, p.CPUsAllowed())
		if allowed.Empty() {
			return -16
		}
	}
	if prev < 0 || prev >= len(x.rqs) || x.rqs[prev] == nil {
		prev = p.CPU()
	}
	node := -1
	if s.perNode {
		node = x.cpuNode(prev)
	}
	prevOK := allowed.Test(prev)
	var llc, numa topo.CPUMask
	if s.topoNUMA {
		if m := andInto(s.scratch2, allowed, s.node[x.cpuNode(prev)]); !m.Empty() {
			numa = m
		}
	}
	if s.topoLLC {
		if m := andInto(s.scratch, allowed, s.llc[prev]); !m.Empty() {
			llc = m
		}
	}
	if wakeFlags&WakeSync != 0 {
		cpu := x.curCPU()
		if prevOK && s.llc[cpu].Test(prev) && s.testAndClear(prev) {
			return prev
		}
		if cpu >= 0 && x.rqs[cpu].local.nr == 0 && !s.cpu.Empty() && allowed.Test(cpu) {
			s.testAndClear(cpu)
			return cpu
		}
	}
	if s.smtActive {
		if prevOK && s.smt.Test(prev) && s.testAndClear(prev) {
			return prev
		}
		if llc != nil {
			if c := s.pickIdleNode(llc, node, PickIdleCore); c >= 0 {
				return c
			}
		}
		if numa != nil {
			if c := s.pickIdleNode(numa, node, PickIdleCore); c >= 0 {
				return c
			}
		}
		if c := s.pickIdleNode(allowed, node, flags|PickIdleCore); c >= 0 {
			return c
		}
		if flags&PickIdleCore != 0 {
			return -16
		}
	}
	if prevOK && s.testAndClear(prev) {
		return prev
	}
	if s.smtActive {
		for sib := range s.sibling[prev].CPUs() {
			if sib != prev && allowed.Test(sib) && s.testAndClear(sib) {
				return sib
			}
		}
	}
	if llc != nil {
		if c := s.pickIdleNode(llc, node, 0); c >= 0 {
			return c
		}
	}
	if numa != nil {
		if c := s.pickIdleNode(numa, node, 0); c >= 0 {
			return c
		}
	}
	return s.pickIdleNode(allowed, node, flags)
}

// selectCPUFromKfunc mirrors select_cpu_from_kfunc(): a task that can only
// run on one CPU gets prev if it is idle.
func (x *Ext) selectCPUFromKfunc(sch *Sched, p *Task, prev int, wakeFlags uint64, allowed topo.CPUMask, flags uint64) int {
	if !x.cpuValid(sch, prev, "") {
		return -22
	}
	if !x.builtinIdle(sch) {
		return -16
	}
	if x.curOp() == opSelectCPU {
		if !x.kfArgTaskOK(sch, p) {
			return -22
		}
	} else if lr := x.lockedRQ(); lr != nil && lr.CPU != p.CPU() {
		x.scxError(sch, "select_cpu kfunc called cross-task on %s[%d]", p.Comm, p.PID)
		return -22
	}
	if p.NrCPUsAllowed() == 1 || p.MigrationDisabled() {
		m := allowed
		if m == nil {
			m = p.CPUsAllowed()
		}
		if m.Test(prev) && x.idle.testAndClear(prev) {
			return prev
		}
		return -16
	}
	return x.selectCPUDfl(p, prev, wakeFlags, allowed, flags)
}
