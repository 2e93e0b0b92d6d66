package scx

import (
	"github.com/scxsim/scxsim/kernel/cmask"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/topo"
)

// kickMasks is one CPU's pending kicks (scx_sched_pcpu's cpus_to_kick,
// cpus_to_kick_if_idle, cpus_to_preempt and cpus_to_wait).
type kickMasks struct {
	from                      int
	queued                    bool
	kick, ifIdle, preempt, wt topo.CPUMask
}

// canSkipIdleKick mirrors can_skip_idle_kick(): the CPU is busy and not
// in the middle of dispatching.
func (x *Ext) canSkipIdleKick(r *rqState) bool {
	return !r.rq.Curr().IsIdleTask() && !r.inDispatch
}

// kickCPU mirrors scx_kick_cpu(): the kick is recorded in the calling
// CPU's masks and carried out after the current scheduling operation
// (kick_cpus_irq_workfn()).
func (x *Ext) kickCPU(sch *Sched, cpu int, flags uint64) {
	if !x.cpuValid(sch, cpu, "") {
		return
	}
	from := x.curCPU()
	if sch.Bypassing() {
		return
	}
	if x.kickPer == nil {
		x.kickPer = make([]*kickMasks, x.core.NrCPUIDs())
	}
	km := x.kickPer[from]
	if km == nil {
		n := x.core.NrCPUIDs()
		km = &kickMasks{from: from, kick: topo.NewCPUMask(n), ifIdle: topo.NewCPUMask(n),
			preempt: topo.NewCPUMask(n), wt: topo.NewCPUMask(n)}
		x.kickPer[from] = km
	}
	newKM := !km.queued
	if flags&KickIdle != 0 {
		if flags&(KickPreempt|KickWait) != 0 {
			x.scxError(sch, "PREEMPT/WAIT cannot be used with SCX_KICK_IDLE")
		}
		if x.canSkipIdleKick(x.rqs[cpu]) {
			return
		}
		km.ifIdle.Set(cpu)
	} else {
		km.kick.Set(cpu)
		if flags&KickPreempt != 0 {
			km.preempt.Set(cpu)
		}
		if flags&KickWait != 0 {
			km.wt.Set(cpu)
		}
	}
	if newKM {
		km.queued = true
		x.kicks = append(x.kicks, km)
	}
	if !x.kickArmed {
		x.kickArmed = true
		x.host.ArmTimer(x.now(), x.flushKicks)
	}
}

// flushKicks mirrors kick_cpus_irq_workfn(): kick_one_cpu() for every CPU
// to kick, then kick_one_cpu_if_idle(), in CPU order, per kicking CPU.
func (x *Ext) flushKicks() {
	x.kickArmed = false
	ks := x.kicks
	x.kicks = nil
	for _, km := range ks {
		km.queued = false
		shouldWait := false
		var waitFor []int
		for cpu := range km.kick.CPUs() {
			if x.kickOne(cpu, km) {
				shouldWait = true
				waitFor = append(waitFor, cpu)
			}
			km.ifIdle.Clear(cpu)
		}
		for cpu := range km.ifIdle.CPUs() {
			r := x.rqs[cpu]
			if !x.canSkipIdleKick(r) && (r.rq.Online() || cpu == km.from) {
				x.core.ReschedCurr(r.rq)
			}
		}
		clear(km.kick)
		clear(km.ifIdle)
		if shouldWait {
			// kick_sync_wait_bal_cb(): the kicking CPU reschedules and
			// waits in its pick until every target switched. The spin
			// takes no virtual time, so the targets schedule right here.
			if fr := x.rqOf(km.from); fr != nil {
				x.core.ReschedCurr(fr.rq)
			}
			for _, cpu := range waitFor {
				seq := x.rqs[cpu].kickSync
				x.core.Schedule(cpu)
				if x.rqs[cpu].kickSync == seq {
					x.core.ReschedCurr(x.rqs[cpu].rq)
				}
			}
		}
	}
}

// kickOne mirrors kick_one_cpu(); true if the kicker must wait for cpu.
func (x *Ext) kickOne(cpu int, km *kickMasks) bool {
	r := x.rqs[cpu]
	rq := r.rq
	curr := rq.Curr()
	kickable := (rq.Online() || cpu == km.from) && !x.core.ClassAbove(curr.Class(), x)
	wait := false
	if kickable {
		onExt := curr.Class() == sched.Class(x)
		if km.preempt.Test(cpu) && onExt {
			ent(curr).Slice = 0
		}
		if km.wt.Test(cpu) && onExt {
			wait = true
		}
		x.core.ReschedCurr(rq)
	}
	km.preempt.Clear(cpu)
	km.wt.Clear(cpu)
	return wait
}

// buildCmaskArg fills cpu's set_cmask scratch in the arena from cpus and
// returns the view and arena address handed to ops.set_cmask().
func (x *Ext) buildCmaskArg(sch *Sched, cpu int, cpus topo.CPUMask) (CmaskArg, bool) {
	if sch.pool == nil || cpu < 0 || cpu >= len(sch.cmaskScr) || x.cids == nil {
		return CmaskArg{}, false
	}
	kaddr := sch.cmaskScr[cpu]
	buf := make([]byte, sch.cmaskSize)
	m, err := cmask.View(buf)
	if err != nil {
		return CmaskArg{}, false
	}
	ref, err := x.cids.RefInitKern(m, 0, uint32(x.m.NumPossible()))
	if err != nil {
		return CmaskArg{}, false
	}
	ref.FromCpumask(cpus)
	if err := sch.arena.KernelWrite(kaddr, buf, arenaOnBehalf(sch, "set_cmask")); err != nil {
		return CmaskArg{}, false
	}
	return CmaskArg{Mask: m, Addr: sch.arena.UserAddr(kaddr)}, true
}
