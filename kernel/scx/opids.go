package scx

// opID names an op of struct sched_ext_ops by its cpu-form name.
type opID uint8

const (
	opNone opID = iota
	opSelectCPU
	opEnqueue
	opDequeue
	opDispatch
	opTick
	opRunnable
	opRunning
	opStopping
	opQuiescent
	opYield
	opCoreSchedBefore
	opSetWeight
	opSetCPUMask
	opUpdateIdle
	opInitTask
	opExitTask
	opEnable
	opDisable
	opDump
	opDumpCPU
	opDumpTask
	opCgroupInit
	opCgroupExit
	opCgroupPrepMove
	opCgroupMove
	opCgroupCancelMove
	opCgroupSetWeight
	opCgroupSetBandwidth
	opCgroupSetIdle
	opCPUOnline
	opCPUOffline
	opInitCids
	opInit
	opExit
	opCPUAcquire
	opCPURelease
	nrOps
)

var opNames = [nrOps]string{
	opNone: "", opSelectCPU: "select_cpu", opEnqueue: "enqueue", opDequeue: "dequeue",
	opDispatch: "dispatch", opTick: "tick", opRunnable: "runnable", opRunning: "running",
	opStopping: "stopping", opQuiescent: "quiescent", opYield: "yield",
	opCoreSchedBefore: "core_sched_before", opSetWeight: "set_weight",
	opSetCPUMask: "set_cpumask", opUpdateIdle: "update_idle", opInitTask: "init_task",
	opExitTask: "exit_task", opEnable: "enable", opDisable: "disable", opDump: "dump",
	opDumpCPU: "dump_cpu", opDumpTask: "dump_task", opCgroupInit: "cgroup_init",
	opCgroupExit: "cgroup_exit", opCgroupPrepMove: "cgroup_prep_move",
	opCgroupMove: "cgroup_move", opCgroupCancelMove: "cgroup_cancel_move",
	opCgroupSetWeight: "cgroup_set_weight", opCgroupSetBandwidth: "cgroup_set_bandwidth",
	opCgroupSetIdle: "cgroup_set_idle", opCPUOnline: "cpu_online", opCPUOffline: "cpu_offline",
	opInitCids: "init_cids", opInit: "init", opExit: "exit",
	opCPUAcquire: "cpu_acquire", opCPURelease: "cpu_release",
}

// present reports which ops o implements (the has_op bitmap).
func (o *Ops) present() [nrOps]bool {
	var h [nrOps]bool
	h[opSelectCPU] = o.SelectCPU != nil
	h[opEnqueue] = o.Enqueue != nil
	h[opDequeue] = o.Dequeue != nil
	h[opDispatch] = o.Dispatch != nil
	h[opTick] = o.Tick != nil
	h[opRunnable] = o.Runnable != nil
	h[opRunning] = o.Running != nil
	h[opStopping] = o.Stopping != nil
	h[opQuiescent] = o.Quiescent != nil
	h[opYield] = o.Yield != nil
	h[opCoreSchedBefore] = o.CoreSchedBefore != nil
	h[opSetWeight] = o.SetWeight != nil
	if o.Form == FormCid {
		h[opSetCPUMask] = o.SetCmask != nil
	} else {
		h[opSetCPUMask] = o.SetCPUMask != nil
	}
	h[opUpdateIdle] = o.UpdateIdle != nil
	h[opInitTask] = o.InitTask != nil
	h[opExitTask] = o.ExitTask != nil
	h[opEnable] = o.Enable != nil
	h[opDisable] = o.Disable != nil
	h[opDump] = o.Dump != nil
	h[opDumpCPU] = o.DumpCPU != nil
	h[opDumpTask] = o.DumpTask != nil
	h[opCgroupInit] = o.CgroupInit != nil
	h[opCgroupExit] = o.CgroupExit != nil
	h[opCgroupPrepMove] = o.CgroupPrepMove != nil
	h[opCgroupMove] = o.CgroupMove != nil
	h[opCgroupCancelMove] = o.CgroupCancelMove != nil
	h[opCgroupSetWeight] = o.CgroupSetWeight != nil
	h[opCgroupSetBandwidth] = o.CgroupSetBandwidth != nil
	h[opCgroupSetIdle] = o.CgroupSetIdle != nil
	h[opCPUOnline] = o.CPUOnline != nil
	h[opCPUOffline] = o.CPUOffline != nil
	h[opInitCids] = o.InitCids != nil && o.Form == FormCid
	h[opInit] = o.Init != nil
	h[opExit] = o.Exit != nil
	h[opCPUAcquire] = o.CPUAcquire != nil && o.Form == FormCPU
	h[opCPURelease] = o.CPURelease != nil && o.Form == FormCPU
	return h
}
