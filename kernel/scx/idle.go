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
}

func (s *idleState) init(x *Ext) {
	s.x = x
	n := x.core.NrCPUIDs()
	s.cpu, s.smt = topo.NewCPUMask(n), topo.NewCPUMask(n)
	s.scratch, s.scratch2, s.scratch3 = topo.NewCPUMask(n), topo.NewCPUMask(n), topo.NewCPUMask(n)
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

// enable mirrors scx_idle_enable() + reset_idle_masks(): every online cpu
// starts out idle.
func (s *idleState) enable(o *Ops) {
	s.builtin = o.UpdateIdle == nil || o.Flags&OpsKeepBuiltinIdle != 0
	s.perNode = o.Flags&OpsBuiltinIdlePerNode != 0
	copy(s.cpu, s.x.core.Active())
	copy(s.smt, s.x.core.Active())
}

func (s *idleState) disable() {
	s.builtin = false
	clear(s.cpu)
	clear(s.smt)
}

func (s *idleState) updateTopology() {}

// UpdateIdle mirrors scx_update_idle() / __scx_update_idle().
func (x *Ext) UpdateIdle(rq *sched.RQ, idle bool, doNotify bool) {
	if !x.enabled || x.root == nil {
		return
	}
	sch := x.root
	s := &x.idle
	if s.builtin && (doNotify || rq.Curr().IsIdleTask()) {
		s.update(rq.CPU, idle)
	}
	if sch.has(opUpdateIdle) && doNotify && !sch.Bypassing() {
		arg := x.cpuArg(rq.CPU)
		x.call(sch, opUpdateIdle, rq, nil, nil, func() { sch.ops.UpdateIdle(arg, idle) })
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

// selectCPUDfl mirrors scx_select_cpu_dfl(): prev's idle core, an idle
// core in prev's LLC, node, anywhere; then prev if idle, an idle cpu in
// the LLC, node, anywhere; -EBUSY if none. cpusAllowed (nil: p's affinity)
// further restricts the choice.
func (x *Ext) selectCPUDfl(p *Task, prev int, wakeFlags uint64, cpusAllowed topo.CPUMask, flags uint64) int {
	s := &x.idle
	allowed := andInto(s.scratch3, p.CPUsAllowed(), x.core.Active())
	if cpusAllowed != nil {
		allowed.And(cpusAllowed)
	}
	if prev < 0 || prev >= len(x.rqs) || x.rqs[prev] == nil {
		prev = p.CPU()
	}
	prevOK := allowed.Test(prev)
	llc := andInto(s.scratch, s.llc[max(prev, 0)], allowed)
	node := andInto(s.scratch2, s.node[x.cpuNode(max(prev, 0))], allowed)
	inNode := flags&PickIdleInNode != 0
	if s.smtActive {
		if prevOK && s.smt.Test(prev) && s.testAndClear(prev) {
			return prev
		}
		if c := s.pickIdle(llc, PickIdleCore); c >= 0 {
			return c
		}
		if c := s.pickIdle(node, PickIdleCore); c >= 0 {
			return c
		}
		if !inNode {
			if c := s.pickIdle(allowed, PickIdleCore); c >= 0 {
				return c
			}
		}
	}
	if prevOK && s.testAndClear(prev) {
		return prev
	}
	if c := s.pickIdle(llc, 0); c >= 0 {
		return c
	}
	if c := s.pickIdle(node, 0); c >= 0 {
		return c
	}
	if !inNode {
		if c := s.pickIdle(allowed, 0); c >= 0 {
			return c
		}
	}
	return -16
}
