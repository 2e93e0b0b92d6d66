package helpers

import (
	"slices"

	"github.com/scxsim/scxsim/bpf/vm"
)

// BPF helper ids (enum bpf_func_id) of the helpers this package implements.
const (
	FuncMapLookupElem        = 1
	FuncMapUpdateElem        = 2
	FuncMapDeleteElem        = 3
	FuncProbeRead            = 4
	FuncKtimeGetNs           = 5
	FuncTracePrintk          = 6
	FuncGetPrandomU32        = 7
	FuncGetSmpProcessorID    = 8
	FuncGetCurrentPidTgid    = 14
	FuncGetCurrentComm       = 16
	FuncPerfEventRead        = 22
	FuncPerfEventOutput      = 25
	FuncGetCurrentTask       = 35
	FuncGetNumaNodeID        = 42
	FuncProbeReadStr         = 45
	FuncSeqPrintf            = 126
	FuncSeqWrite             = 127
	FuncPerfEventReadValue   = 55
	FuncMapPushElem          = 87
	FuncMapPopElem           = 88
	FuncMapPeekElem          = 89
	FuncSpinLock             = 93
	FuncSpinUnlock           = 94
	FuncProbeReadUser        = 112
	FuncProbeReadKernel      = 113
	FuncProbeReadUserStr     = 114
	FuncProbeReadKernelStr   = 115
	FuncJiffies64            = 118
	FuncKtimeGetBootNs       = 125
	FuncRingbufOutput        = 130
	FuncRingbufReserve       = 131
	FuncRingbufSubmit        = 132
	FuncRingbufDiscard       = 133
	FuncRingbufQuery         = 134
	FuncPerCPUPtr            = 153
	FuncThisCPUPtr           = 154
	FuncTaskStorageGet       = 156
	FuncTaskStorageDelete    = 157
	FuncGetCurrentTaskBTF    = 158
	FuncKtimeGetCoarseNs     = 160
	FuncForEachMapElem       = 164
	FuncSnprintf             = 165
	FuncTimerInit            = 169
	FuncTimerSetCallback     = 170
	FuncTimerStart           = 171
	FuncTimerCancel          = 172
	FuncTraceVprintk         = 177
	FuncLoop                 = 181
	FuncStrncmp              = 182
	FuncKptrXchg             = 194
	FuncMapLookupPercpuElem  = 195
	FuncDynptrFromMem        = 197
	FuncRingbufReserveDynptr = 198
	FuncRingbufSubmitDynptr  = 199
	FuncRingbufDiscardDynptr = 200
	FuncDynptrRead           = 201
	FuncDynptrWrite          = 202
	FuncDynptrData           = 203
	FuncKtimeGetTaiNs        = 208
	FuncUserRingbufDrain     = 209
	FuncCgrpStorageGet       = 210
	FuncCgrpStorageDelete    = 211
)

// Table maps helper ids and kfunc names to implementations. NewTable fills
// it with this package's helpers and generic kfuncs; the kernel layer adds
// its own kfuncs (scx_bpf_*, the arena's, the streams') with SetKfunc or
// AddKfuncs. The loader resolves calls through Helper and Kfunc.
type Table struct {
	helpers map[int32]vm.Helper
	kfuncs  map[string]vm.Helper
}

// NewTable returns a table of every helper and kfunc of this package.
func NewTable() *Table {
	t := &Table{helpers: map[int32]vm.Helper{}, kfuncs: map[string]vm.Helper{}}
	for id, h := range baseHelpers() {
		t.helpers[id] = h
	}
	for name, h := range baseKfuncs() {
		t.kfuncs[name] = h
	}
	return t
}

// Helper returns the implementation of helper id.
func (t *Table) Helper(id int32) (vm.Helper, bool) {
	h, ok := t.helpers[id]
	return h, ok
}

// Kfunc returns the implementation of the kfunc named name.
func (t *Table) Kfunc(name string) (vm.Helper, bool) {
	h, ok := t.kfuncs[name]
	return h, ok
}

// SetHelper adds or replaces helper id.
func (t *Table) SetHelper(id int32, h vm.Helper) { t.helpers[id] = h }

// SetKfunc adds or replaces the kfunc name.
func (t *Table) SetKfunc(name string, h vm.Helper) { t.kfuncs[name] = h }

// AddKfuncs adds a set of kfuncs by name (for example stream.Set.Kfuncs()).
func (t *Table) AddKfuncs(set map[string]vm.Helper) {
	for name, h := range set {
		t.kfuncs[name] = h
	}
}

// HelperIDs lists the helper ids in the table, sorted.
func (t *Table) HelperIDs() []int32 {
	out := make([]int32, 0, len(t.helpers))
	for id := range t.helpers {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// KfuncNames lists the kfunc names in the table, sorted.
func (t *Table) KfuncNames() []string {
	out := make([]string, 0, len(t.kfuncs))
	for n := range t.kfuncs {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func baseHelpers() map[int32]vm.Helper {
	return map[int32]vm.Helper{
		FuncMapLookupElem:        mapLookupElem,
		FuncMapUpdateElem:        mapUpdateElem,
		FuncMapDeleteElem:        mapDeleteElem,
		FuncMapPushElem:          mapPushElem,
		FuncMapPopElem:           mapPopElem,
		FuncMapPeekElem:          mapPeekElem,
		FuncMapLookupPercpuElem:  mapLookupPercpuElem,
		FuncForEachMapElem:       forEachMapElem,
		FuncKtimeGetNs:           ktimeGetNs,
		FuncKtimeGetBootNs:       ktimeGetBootNs,
		FuncKtimeGetCoarseNs:     ktimeGetNs,
		FuncKtimeGetTaiNs:        ktimeGetBootNs,
		FuncJiffies64:            jiffies64,
		FuncGetSmpProcessorID:    getSmpProcessorID,
		FuncGetNumaNodeID:        getNumaNodeID,
		FuncGetPrandomU32:        getPrandomU32,
		FuncGetCurrentTask:       getCurrentTask,
		FuncGetCurrentTaskBTF:    getCurrentTask,
		FuncGetCurrentPidTgid:    getCurrentPidTgid,
		FuncGetCurrentComm:       getCurrentComm,
		FuncProbeRead:            probeRead,
		FuncProbeReadKernel:      probeRead,
		FuncProbeReadUser:        probeReadUser,
		FuncProbeReadStr:         probeReadStr,
		FuncProbeReadKernelStr:   probeReadStr,
		FuncProbeReadUserStr:     probeReadUserStr,
		FuncTracePrintk:          tracePrintk,
		FuncTraceVprintk:         traceVprintk,
		FuncSnprintf:             snprintf,
		FuncSeqWrite:             seqWrite,
		FuncSeqPrintf:            seqPrintf,
		FuncStrncmp:              strncmp,
		FuncPerCPUPtr:            perCPUPtr,
		FuncThisCPUPtr:           thisCPUPtr,
		FuncKptrXchg:             kptrXchg,
		FuncSpinLock:             spinLock,
		FuncSpinUnlock:           spinUnlock,
		FuncLoop:                 bpfLoop,
		FuncTaskStorageGet:       taskStorageGet,
		FuncTaskStorageDelete:    taskStorageDelete,
		FuncCgrpStorageGet:       cgrpStorageGet,
		FuncCgrpStorageDelete:    cgrpStorageDelete,
		FuncTimerInit:            timerInit,
		FuncTimerSetCallback:     timerSetCallback,
		FuncTimerStart:           timerStart,
		FuncTimerCancel:          timerCancel,
		FuncRingbufOutput:        ringbufOutput,
		FuncRingbufReserve:       ringbufReserve,
		FuncRingbufSubmit:        ringbufSubmit,
		FuncRingbufDiscard:       ringbufDiscard,
		FuncRingbufQuery:         ringbufQuery,
		FuncRingbufReserveDynptr: ringbufReserveDynptr,
		FuncRingbufSubmitDynptr:  ringbufSubmitDynptr,
		FuncRingbufDiscardDynptr: ringbufDiscardDynptr,
		FuncUserRingbufDrain:     userRingbufDrain,
		FuncDynptrFromMem:        dynptrFromMem,
		FuncDynptrRead:           dynptrRead,
		FuncDynptrWrite:          dynptrWrite,
		FuncDynptrData:           dynptrData,
		FuncPerfEventOutput:      perfEventOutput,
		FuncPerfEventRead:        perfEventRead,
		FuncPerfEventReadValue:   perfEventReadValue,
	}
}

func baseKfuncs() map[string]vm.Helper {
	k := map[string]vm.Helper{
		"bpf_rcu_read_lock":              nop,
		"bpf_rcu_read_unlock":            nop,
		"bpf_preempt_disable":            nop,
		"bpf_preempt_enable":             nop,
		"bpf_obj_new_impl":               objNew,
		"bpf_obj_drop_impl":              objDrop,
		"bpf_percpu_obj_new_impl":        percpuObjNew,
		"bpf_percpu_obj_drop_impl":       percpuObjDrop,
		"bpf_refcount_acquire_impl":      refcountAcquire,
		"bpf_task_under_cgroup":          taskUnderCgroup,
		"bpf_task_acquire":               taskAcquire,
		"bpf_task_release":               taskRelease,
		"bpf_task_from_pid":              taskFromPid,
		"bpf_cgroup_acquire":             cgroupAcquire,
		"bpf_cgroup_release":             cgroupRelease,
		"bpf_cgroup_from_id":             cgroupFromID,
		"bpf_cgroup_ancestor":            cgroupAncestor,
		"bpf_iter_num_new":               iterNumNew,
		"bpf_iter_num_next":              iterNumNext,
		"bpf_iter_num_destroy":           iterNumDestroy,
		"bpf_iter_css_new":               iterCSSNew,
		"bpf_iter_css_next":              iterCSSNext,
		"bpf_iter_css_destroy":           iterCSSDestroy,
		"bpf_res_spin_lock":              resSpinLock,
		"bpf_res_spin_unlock":            resSpinUnlock,
		"bpf_res_spin_lock_irqsave":      resSpinLockIrqsave,
		"bpf_res_spin_unlock_irqrestore": resSpinUnlockIrqrestore,
		"bpf_local_irq_save":             localIrqSave,
		"bpf_local_irq_restore":          localIrqRestore,
		"bpf_cast_to_kern_ctx":           castIdentity,
		"bpf_rdonly_cast":                castIdentity,
	}
	for name, h := range cpumaskKfuncs() {
		k[name] = h
	}
	return k
}

// nop is the kfuncs that only matter to the verifier (RCU and preemption
// sections): nothing to do in a single-threaded simulation.
func nop(e *vm.Exec, r1, r2, r3, r4, r5 uint64) (uint64, error) { return 0, nil }
