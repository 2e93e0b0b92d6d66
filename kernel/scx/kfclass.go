package scx

import (
	"fmt"

	"github.com/scxsim/scxsim/bpf/arena"
	"github.com/scxsim/scxsim/kernel/ktypes"
)

// arenaOnBehalf attributes a kernel-side arena access made for op.
func arenaOnBehalf(sch *Sched, op string) arena.OnBehalf {
	if sch.ops.ArenaActor != nil {
		return sch.ops.ArenaActor(op)
	}
	return arena.OnBehalf{Prog: sch.ops.Name}
}

// KfuncKind classifies a sched_ext kfunc for the cid-form rule: cid-form
// schedulers may not call cpu-only kfuncs.
type KfuncKind int

const (
	KfuncNotScx  KfuncKind = iota // not a sched_ext kfunc
	KfuncCommon                   // usable by both forms
	KfuncCPUOnly                  // scx_kfunc_ids_cpu_only: cpu-form only
	KfuncCid                      // scx_kfunc_ids_cid: the cid kfuncs
)

func (k KfuncKind) String() string {
	return [...]string{"not-scx", "common", "cpu-only", "cid"}[k]
}

// ClassifyKfunc returns the kernel's classification of kfunc name.
func ClassifyKfunc(name string) KfuncKind {
	k, ok := ktypes.LookupKfunc(name)
	if !ok || k.In(ktypes.SetGeneric) {
		return KfuncNotScx
	}
	switch {
	case k.In(ktypes.SetCPUOnly):
		return KfuncCPUOnly
	case k.In(ktypes.SetCid):
		return KfuncCid
	}
	return KfuncCommon
}

// CheckKfunc is the load-time check scx_kfunc_context_filter() makes for a
// struct_ops program implementing op (the member name of the form's ops
// struct, "" for a program that is not a callback) calling kfunc name; the
// error carries the verifier's refusal text.
func CheckKfunc(name string, form Form, op string) error {
	k, ok := ktypes.LookupKfunc(name)
	if !ok {
		return fmt.Errorf("kernel function %s is not allowed", name)
	}
	if ktypes.KfuncAllowed(k, ktypes.ProgStructOps, op, form == FormCid) {
		return nil
	}
	return fmt.Errorf("calling kernel function %s is not allowed", name)
}

// kfAllowed applies the same rule at run time, for Go schedulers that no
// verifier checks: the innermost op decides; outside any op the caller is
// treated as a SYSCALL program. A refused call is a scheduler error.
func (x *Ext) kfAllowed(sch *Sched, id kfID) bool {
	op := x.curOp()
	form := 0
	if x.cidType {
		form = 1
	}
	c := &x.kfCache[form][op][id]
	if *c == 0 {
		k, ok := ktypes.LookupKfunc(kfNames[id])
		allowed := ok
		if ok {
			if op == opNone {
				allowed = ktypes.KfuncAllowed(k, ktypes.ProgSyscall, "", x.cidType)
			} else {
				name := opNames[op]
				if x.cidType {
					o := Ops{Form: FormCid}
					name = o.opName(name)
				}
				allowed = ktypes.KfuncAllowed(k, ktypes.ProgStructOps, name, x.cidType)
			}
		}
		if allowed {
			*c = 1
		} else {
			*c = 2
		}
	}
	if *c == 1 {
		return true
	}
	if sch != nil {
		x.scxError(sch, "calling kernel function %s is not allowed", kfNames[id])
	}
	return false
}

type kfID int

const (
	kfDsqInsert kfID = iota
	kfDsqInsertVtime
	kfDispatchNrSlots
	kfDispatchCancel
	kfDsqMoveToLocal
	kfDsqMoveSetSlice
	kfDsqMoveSetVtime
	kfDsqMove
	kfDsqMoveVtime
	kfReenqueueLocal
	kfReenqueueLocalV2
	kfDsqReenq
	kfCreateDsq
	kfSelectCPUAnd
	kfSelectCPUDfl
	kfTaskSetSlice
	kfTaskSetDsqVtime
	kfKickCPU
	kfKickCid
	kfDsqNrQueued
	kfDestroyDsq
	kfDsqPeek
	kfIterNew
	kfExit
	kfError
	kfDump
	kfCPUPerfCap
	kfCPUPerfCur
	kfCPUPerfSet
	kfCidPerfCap
	kfCidPerfCur
	kfCidPerfSet
	kfNrNodeIDs
	kfNrCPUIDs
	kfNrCids
	kfNrOnlineCids
	kfThisCid
	kfGetPossibleCPUMask
	kfGetOnlineCPUMask
	kfTaskRunning
	kfTaskCPU
	kfTaskCid
	kfCPUCurr
	kfCidCurr
	kfNow
	kfEvents
	kfTaskCgroup
	kfCPUNode
	kfGetIdleCPUMaskNode
	kfGetIdleCPUMask
	kfGetIdleSMTMaskNode
	kfGetIdleSMTMask
	kfTestAndClearCPUIdle
	kfPickIdleCPUNode
	kfPickIdleCPU
	kfPickAnyCPUNode
	kfPickAnyCPU
	kfCidOverride
	kfCidToCPU
	kfCPUToCid
	kfCidTopo
	nrKf
)

var kfNames = [nrKf]string{
	kfDsqInsert: "scx_bpf_dsq_insert___v2", kfDsqInsertVtime: "__scx_bpf_dsq_insert_vtime",
	kfDispatchNrSlots: "scx_bpf_dispatch_nr_slots", kfDispatchCancel: "scx_bpf_dispatch_cancel",
	kfDsqMoveToLocal: "scx_bpf_dsq_move_to_local___v2", kfDsqMoveSetSlice: "scx_bpf_dsq_move_set_slice",
	kfDsqMoveSetVtime: "scx_bpf_dsq_move_set_vtime", kfDsqMove: "scx_bpf_dsq_move",
	kfDsqMoveVtime: "scx_bpf_dsq_move_vtime", kfReenqueueLocal: "scx_bpf_reenqueue_local",
	kfReenqueueLocalV2: "scx_bpf_reenqueue_local___v2", kfDsqReenq: "scx_bpf_dsq_reenq",
	kfCreateDsq: "scx_bpf_create_dsq", kfSelectCPUAnd: "__scx_bpf_select_cpu_and",
	kfSelectCPUDfl: "scx_bpf_select_cpu_dfl", kfTaskSetSlice: "scx_bpf_task_set_slice",
	kfTaskSetDsqVtime: "scx_bpf_task_set_dsq_vtime", kfKickCPU: "scx_bpf_kick_cpu",
	kfKickCid: "scx_bpf_kick_cid", kfDsqNrQueued: "scx_bpf_dsq_nr_queued",
	kfDestroyDsq: "scx_bpf_destroy_dsq", kfDsqPeek: "scx_bpf_dsq_peek",
	kfIterNew: "bpf_iter_scx_dsq_new", kfExit: "scx_bpf_exit_bstr", kfError: "scx_bpf_error_bstr",
	kfDump: "scx_bpf_dump_bstr", kfCPUPerfCap: "scx_bpf_cpuperf_cap", kfCPUPerfCur: "scx_bpf_cpuperf_cur",
	kfCPUPerfSet: "scx_bpf_cpuperf_set", kfCidPerfCap: "scx_bpf_cidperf_cap",
	kfCidPerfCur: "scx_bpf_cidperf_cur", kfCidPerfSet: "scx_bpf_cidperf_set",
	kfNrNodeIDs: "scx_bpf_nr_node_ids", kfNrCPUIDs: "scx_bpf_nr_cpu_ids", kfNrCids: "scx_bpf_nr_cids",
	kfNrOnlineCids: "scx_bpf_nr_online_cids", kfThisCid: "scx_bpf_this_cid",
	kfGetPossibleCPUMask: "scx_bpf_get_possible_cpumask", kfGetOnlineCPUMask: "scx_bpf_get_online_cpumask",
	kfTaskRunning: "scx_bpf_task_running", kfTaskCPU: "scx_bpf_task_cpu", kfTaskCid: "scx_bpf_task_cid",
	kfCPUCurr: "scx_bpf_cpu_curr", kfCidCurr: "scx_bpf_cid_curr", kfNow: "scx_bpf_now",
	kfEvents: "scx_bpf_events", kfTaskCgroup: "scx_bpf_task_cgroup", kfCPUNode: "scx_bpf_cpu_node",
	kfGetIdleCPUMaskNode: "scx_bpf_get_idle_cpumask_node", kfGetIdleCPUMask: "scx_bpf_get_idle_cpumask",
	kfGetIdleSMTMaskNode: "scx_bpf_get_idle_smtmask_node", kfGetIdleSMTMask: "scx_bpf_get_idle_smtmask",
	kfTestAndClearCPUIdle: "scx_bpf_test_and_clear_cpu_idle", kfPickIdleCPUNode: "scx_bpf_pick_idle_cpu_node",
	kfPickIdleCPU: "scx_bpf_pick_idle_cpu", kfPickAnyCPUNode: "scx_bpf_pick_any_cpu_node",
	kfPickAnyCPU: "scx_bpf_pick_any_cpu", kfCidOverride: "scx_bpf_cid_override",
	kfCidToCPU: "scx_bpf_cid_to_cpu", kfCPUToCid: "scx_bpf_cpu_to_cid", kfCidTopo: "scx_bpf_cid_topo",
}
