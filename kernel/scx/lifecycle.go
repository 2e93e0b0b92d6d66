package scx

import (
	"syscall"

	"github.com/scxsim/scxsim/kernel/sched"
)

// initTask mirrors __scx_init_task().
func (x *Ext) initTask(sch *Sched, p *Task, cg *Cgroup, fork bool) int32 {
	e := ent(p)
	e.Disallow = false
	if sch.has(opInitTask) || sch.ops.InitTask != nil {
		if cg == nil {
			cg = p.Cgroup()
		}
		args := InitTaskArgs{Fork: fork, Cgroup: cg}
		var ret int32
		x.call(sch, opInitTask, nil, p, nil, func() { ret = sch.ops.InitTask(p, args) })
		if ret != 0 {
			return x.sanitizeErr(sch, "init_task", ret)
		}
	}
	if e.Disallow {
		switch {
		case fork:
			x.scxError(sch, "ops.init_task() set task->scx.disallow for %s[%d] during fork", p.Comm, p.PID)
		case x.state != Enabling:
			x.scxError(sch, "ops.init_task() set task->scx.disallow for %s[%d] outside the enable path", p.Comm, p.PID)
		default:
			if p.Policy() == sched.PolicyExt {
				x.core.SetPolicy(p, sched.PolicyNormal)
				x.nrRejected++
			}
		}
	}
	return 0
}

// enableTask mirrors scx_enable_task().
func (x *Ext) enableTask(sch *Sched, p *Task) {
	e := ent(p)
	rq := x.core.RQ(p.CPU())
	e.Weight = weightToCgroup(p.Weight())
	if sch.has(opEnable) {
		x.call(sch, opEnable, rq, p, nil, func() { sch.ops.Enable(p) })
	}
	if sch.has(opSetWeight) {
		w := e.Weight
		x.call(sch, opSetWeight, rq, p, nil, func() { sch.ops.SetWeight(p, w) })
	}
	e.setState(TaskEnabled)
}

// disableTask mirrors scx_disable_task().
func (x *Ext) disableTask(sch *Sched, p *Task) {
	e := ent(p)
	clearDirectDispatch(e)
	if sch.has(opDisable) {
		x.call(sch, opDisable, x.core.RQ(p.CPU()), p, nil, func() { sch.ops.Disable(p) })
	}
	e.setState(TaskReady)
	e.DsqVtime = 0
	e.Slice = 0
	e.reenqCnt = 0
}

// disableAndExitTask mirrors scx_disable_and_exit_task().
func (x *Ext) disableAndExitTask(sch *Sched, p *Task) {
	e := ent(p)
	args := ExitTaskArgs{}
	switch e.State() {
	case TaskNone:
		return
	case TaskInit:
		args.Cancelled = true
	case TaskReady:
	case TaskEnabled:
		x.disableTask(sch, p)
	default:
		return
	}
	if sch != nil && sch.has(opExitTask) {
		x.call(sch, opExitTask, x.core.RQ(p.CPU()), p, nil, func() { sch.ops.ExitTask(p, args) })
	}
	e.sch = nil
	e.setState(TaskNone)
}

// Fork mirrors scx_fork().
func (x *Ext) Fork(p *Task) error {
	e := ent(p)
	if !x.initTaskEnabled {
		return nil
	}
	sch := x.root
	e.setState(TaskInitBegin)
	if ret := x.initTask(sch, p, nil, true); ret != 0 {
		e.setState(TaskNone)
		return syscall.Errno(-ret)
	}
	e.setState(TaskInit)
	e.sch = sch
	return nil
}

// PostFork mirrors scx_post_fork().
func (x *Ext) PostFork(p *Task) {
	if !x.initTaskEnabled {
		return
	}
	e := ent(p)
	e.setState(TaskReady)
	if p.Class() == sched.Class(x) {
		x.enableTask(e.sch, p)
	}
}

// CancelFork mirrors scx_cancel_fork().
func (x *Ext) CancelFork(p *Task) {
	if x.initTaskEnabled {
		x.disableAndExitTask(ent(p).sch, p)
	}
}

// Dead mirrors sched_ext_dead().
func (x *Ext) Dead(p *Task) {
	e := ent(p)
	if e.State() != TaskNone {
		if e.State() != TaskInitBegin {
			x.disableAndExitTask(e.sch, p)
		}
		e.setState(TaskDead)
	}
}

// --- cgroups -------------------------------------------------------------

func (x *Ext) cgroupArgs(cg *Cgroup) CgroupInitArgs {
	return CgroupInitArgs{Weight: cg.Weight, BWPeriodUS: cg.PeriodUS, BWQuotaUS: cg.QuotaUS, BWBurstUS: cg.BurstUS}
}

type cgState struct {
	inited bool
}

func cgs(cg *Cgroup) *cgState {
	if s, ok := cg.Ext.(*cgState); ok {
		return s
	}
	s := &cgState{}
	cg.Ext = s
	return s
}

// cgroupInitAll mirrors scx_cgroup_init(): ops.cgroup_init() for every
// online cgroup, parents first. Cgroups are known through the tasks'
// cgroups and those created while enabled.
func (x *Ext) cgroupInitAll(sch *Sched) int {
	var list []*Cgroup
	seen := map[*Cgroup]bool{}
	var add func(cg *Cgroup)
	add = func(cg *Cgroup) {
		if cg == nil || seen[cg] {
			return
		}
		add(cg.Parent)
		seen[cg] = true
		list = append(list, cg)
	}
	add(x.core.RootCgroup())
	for _, p := range x.core.Tasks() {
		add(p.Cgroup())
	}
	for _, cg := range x.knownCgroups {
		add(cg)
	}
	for _, cg := range list {
		if !sch.has(opCgroupInit) {
			cgs(cg).inited = true
			sch.cgroupsInit = append(sch.cgroupsInit, cg)
			continue
		}
		var ret int32
		args := x.cgroupArgs(cg)
		x.call(sch, opCgroupInit, nil, nil, nil, func() { ret = sch.ops.CgroupInit(cg, args) })
		if ret != 0 {
			// The enable path reports the value as returned (no
			// scx_ops_sanitize_err(), unlike scx_tg_online()).
			x.scxError(sch, "ops.cgroup_init() failed (%d)", ret)
			return int(ret)
		}
		cgs(cg).inited = true
		sch.cgroupsInit = append(sch.cgroupsInit, cg)
	}
	return 0
}

// cgroupExitAll mirrors scx_cgroup_exit(): children first.
func (x *Ext) cgroupExitAll(sch *Sched) {
	for i := len(sch.cgroupsInit) - 1; i >= 0; i-- {
		cg := sch.cgroupsInit[i]
		if !cgs(cg).inited {
			continue
		}
		cgs(cg).inited = false
		if sch.has(opCgroupExit) {
			x.call(sch, opCgroupExit, nil, nil, nil, func() { sch.ops.CgroupExit(cg) })
		}
	}
	sch.cgroupsInit = nil
}

func (x *Ext) cgroupLive() *Sched {
	if x.root == nil || !x.initTaskEnabled {
		return nil
	}
	return x.root
}

// CgroupOnline mirrors scx_tg_online().
func (x *Ext) CgroupOnline(cg *Cgroup) error {
	x.knownCgroups = append(x.knownCgroups, cg)
	sch := x.cgroupLive()
	if sch == nil {
		return nil
	}
	if sch.has(opCgroupInit) {
		var ret int32
		args := x.cgroupArgs(cg)
		x.call(sch, opCgroupInit, nil, nil, nil, func() { ret = sch.ops.CgroupInit(cg, args) })
		if ret != 0 {
			x.knownCgroups = x.knownCgroups[:len(x.knownCgroups)-1]
			return syscall.Errno(-x.sanitizeErr(sch, "cgroup_init", ret))
		}
	}
	cgs(cg).inited = true
	sch.cgroupsInit = append(sch.cgroupsInit, cg)
	return nil
}

// CgroupOffline mirrors scx_tg_offline().
func (x *Ext) CgroupOffline(cg *Cgroup) {
	for i, k := range x.knownCgroups {
		if k == cg {
			x.knownCgroups = append(x.knownCgroups[:i], x.knownCgroups[i+1:]...)
			break
		}
	}
	sch := x.cgroupLive()
	if sch == nil || !cgs(cg).inited {
		return
	}
	cgs(cg).inited = false
	if sch.has(opCgroupExit) {
		x.call(sch, opCgroupExit, nil, nil, nil, func() { sch.ops.CgroupExit(cg) })
	}
}

// CgroupCanAttach mirrors scx_cgroup_can_attach(): ops.cgroup_prep_move().
func (x *Ext) CgroupCanAttach(p *Task, from, to *Cgroup) error {
	sch := x.cgroupLive()
	if sch == nil || !sch.has(opCgroupPrepMove) {
		return nil
	}
	var ret int32
	x.call(sch, opCgroupPrepMove, nil, p, nil, func() { ret = sch.ops.CgroupPrepMove(p, from, to) })
	if ret != 0 {
		return syscall.Errno(-x.sanitizeErr(sch, "cgroup_prep_move", ret))
	}
	return nil
}

// CgroupMove mirrors scx_cgroup_move_task(): ops.cgroup_move().
func (x *Ext) CgroupMove(p *Task, from, to *Cgroup) {
	sch := x.cgroupLive()
	if sch == nil || !sch.has(opCgroupMove) {
		return
	}
	x.call(sch, opCgroupMove, x.core.RQ(p.CPU()), p, nil, func() { sch.ops.CgroupMove(p, from, to) })
}

// CgroupCancelAttach mirrors scx_cgroup_cancel_attach().
func (x *Ext) CgroupCancelAttach(p *Task, from, to *Cgroup) {
	sch := x.cgroupLive()
	if sch == nil || !sch.has(opCgroupCancelMove) {
		return
	}
	x.call(sch, opCgroupCancelMove, nil, p, nil, func() { sch.ops.CgroupCancelMove(p, from, to) })
}

// CgroupSetWeight mirrors scx_group_set_weight(): ops.cgroup_set_weight()
// on a change.
func (x *Ext) CgroupSetWeight(cg *Cgroup, w uint32) {
	if sch := x.cgroupLive(); sch != nil && sch.has(opCgroupSetWeight) && cg.Weight != w {
		x.call(sch, opCgroupSetWeight, nil, nil, nil, func() { sch.ops.CgroupSetWeight(cg, w) })
	}
}

// CgroupSetBandwidth mirrors scx_group_set_bandwidth(): on a change.
func (x *Ext) CgroupSetBandwidth(cg *Cgroup, period, quota, burst uint64) {
	changed := cg.PeriodUS != period || cg.QuotaUS != quota || cg.BurstUS != burst
	if sch := x.cgroupLive(); sch != nil && sch.has(opCgroupSetBandwidth) && changed {
		x.call(sch, opCgroupSetBandwidth, nil, nil, nil, func() { sch.ops.CgroupSetBandwidth(cg, period, quota, burst) })
	}
}

// CgroupSetIdle mirrors scx_group_set_idle().
func (x *Ext) CgroupSetIdle(cg *Cgroup, idle bool) {
	if sch := x.cgroupLive(); sch != nil && sch.has(opCgroupSetIdle) {
		x.call(sch, opCgroupSetIdle, nil, nil, nil, func() { sch.ops.CgroupSetIdle(cg, idle) })
	}
}

// CheckSetscheduler mirrors scx_check_setscheduler(): a task whose
// ops.init_task() set p->scx.disallow may not switch to SCHED_EXT.
func (x *Ext) CheckSetscheduler(p *Task, pol sched.Policy) error {
	if x.enabled && ent(p).Disallow && p.Policy() != pol && pol == sched.PolicyExt {
		return syscall.EACCES
	}
	return nil
}
