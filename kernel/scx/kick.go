package scx

import (
	"github.com/scxsim/scxsim/kernel/cmask"
	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/topo"
)

// kickCPU mirrors scx_kick_cpu(): the kick is recorded and carried out
// after the current scheduling operation (kick_cpus_irq_workfn()).
func (x *Ext) kickCPU(sch *Sched, cpu int, flags uint64) {
	if !x.cpuValid(sch, cpu, "") {
		return
	}
	from := x.curCPU()
	if r := x.rqOf(from); r != nil && sch.Bypassing() {
		return
	}
	x.kicks = append(x.kicks, kick{sch: sch, from: from, cpu: cpu, flags: flags})
	if !x.kickArmed {
		x.kickArmed = true
		x.host.ArmTimer(x.now(), x.flushKicks)
	}
}

// flushKicks mirrors kick_cpus_irq_workfn(): kick_one_cpu() and
// kick_one_cpu_if_idle() for each recorded kick.
func (x *Ext) flushKicks() {
	x.kickArmed = false
	ks := x.kicks
	x.kicks = nil
	for _, k := range ks {
		r := x.rqs[k.cpu]
		rq := r.rq
		if !rq.Online() && k.cpu != k.from {
			continue
		}
		if k.flags&KickIdle != 0 {
			if rq.Curr().IsIdleTask() {
				x.core.ReschedCurr(rq)
			}
			continue
		}
		curr := rq.Curr()
		onExt := curr.Class() == sched.Class(x)
		if k.flags&KickPreempt != 0 && onExt {
			ent(curr).Slice = 0
		}
		x.core.ReschedCurr(rq)
		if k.flags&KickWait != 0 && onExt && k.cpu != k.from {
			// SCX_KICK_WAIT: the kicker goes on only once the target's
			// ext task switched out. Virtual time does not pass while
			// the kicker spins, so the target schedules right here.
			seq := x.rqs[k.cpu].kickSync
			x.core.Schedule(k.cpu)
			if x.rqs[k.cpu].kickSync == seq {
				x.core.ReschedCurr(rq)
			}
		}
	}
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
	if err := sch.arena.KernelWrite(kaddr, buf, arenaOnBehalf(sch)); err != nil {
		return CmaskArg{}, false
	}
	return CmaskArg{Mask: m, Addr: sch.arena.UserAddr(kaddr)}, true
}
