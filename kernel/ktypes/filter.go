package ktypes

// ProgType is the BPF program type a kfunc call is checked for.
type ProgType int

const (
	ProgStructOps ProgType = iota // BPF_PROG_TYPE_STRUCT_OPS
	ProgSyscall                   // BPF_PROG_TYPE_SYSCALL
	ProgTracing                   // BPF_PROG_TYPE_TRACING and others
)

// Per-op kfunc allow groups, as the kernel's scx_kf_allow_flags.
const (
	allowUnlocked = 1 << iota
	allowInitCids
	allowCPURelease
	allowDispatch
	allowEnqueue
	allowSelectCPU
)

// kfAllow maps a cpu-form callback name to the kfunc groups it permits.
// Callbacks not listed permit only kfuncs that are not context-sensitive.
var kfAllow = map[string]int{
	"select_cpu":           allowSelectCPU | allowEnqueue,
	"enqueue":              allowSelectCPU | allowEnqueue,
	"dispatch":             allowEnqueue | allowDispatch,
	"cpu_release":          allowCPURelease,
	"init_task":            allowUnlocked,
	"dump":                 allowUnlocked,
	"cgroup_init":          allowUnlocked,
	"cgroup_exit":          allowUnlocked,
	"cgroup_prep_move":     allowUnlocked,
	"cgroup_cancel_move":   allowUnlocked,
	"cgroup_set_weight":    allowUnlocked,
	"cgroup_set_bandwidth": allowUnlocked,
	"cgroup_set_idle":      allowUnlocked,
	"sub_attach":           allowUnlocked,
	"sub_detach":           allowUnlocked,
	"sub_ecaps_updated":    allowEnqueue | allowDispatch,
	"cpu_online":           allowUnlocked,
	"cpu_offline":          allowUnlocked,
	"init_cids":            allowUnlocked | allowInitCids,
	"init":                 allowUnlocked,
	"exit":                 allowUnlocked,
}

// KfuncAllowed reports whether a program may call kfunc k. Mirrors
// scx_kfunc_context_filter(): non-sched_ext kfuncs are always allowed;
// SYSCALL programs get the unlocked, select_cpu, idle, any and cid sets;
// other non-struct_ops programs the any, idle and cid sets. A struct_ops
// program implementing callback op of sched_ext_ops (cid=false) or
// sched_ext_ops_cid (cid=true) may not call cpu-only kfuncs when cid-form,
// may always call the any, idle and cid sets, and otherwise only the
// context-sensitive sets its callback permits. op "" means a struct_ops
// program that is not a sched_ext callback. A false return is the kernel's
// -EACCES ("calling kernel function ... is not allowed").
func KfuncAllowed(k *Kfunc, prog ProgType, op string, cid bool) bool {
	unlocked, initCids, selectCPU := k.In(SetUnlocked), k.In(SetInitCids), k.In(SetSelectCPU)
	enqueue, dispatch, cpuRelease := k.In(SetEnqueueDispatch), k.In(SetDispatch), k.In(SetCPURelease)
	idle, anySet, cidSet, cpuOnly := k.In(SetIdle), k.In(SetAny), k.In(SetCid), k.In(SetCPUOnly)

	if !(unlocked || initCids || selectCPU || enqueue || dispatch || cpuRelease || idle || anySet || cidSet) {
		return true
	}
	switch prog {
	case ProgSyscall:
		return unlocked || selectCPU || idle || anySet || cidSet
	case ProgStructOps:
	default:
		return anySet || idle || cidSet
	}
	name, ok := cpuFormOp(op, cid)
	if !ok {
		return false
	}
	if cid && cpuOnly {
		return false
	}
	if anySet || idle || cidSet {
		return true
	}
	flags := kfAllow[name]
	return (flags&allowUnlocked != 0 && unlocked) ||
		(flags&allowInitCids != 0 && initCids) ||
		(flags&allowCPURelease != 0 && cpuRelease) ||
		(flags&allowDispatch != 0 && dispatch) ||
		(flags&allowEnqueue != 0 && enqueue) ||
		(flags&allowSelectCPU != 0 && selectCPU)
}

// cpuFormOp maps a callback of either ops struct to the cpu-form callback
// in the same slot, as the kernel indexes its table by member offset.
func cpuFormOp(op string, cid bool) (string, bool) {
	if op == "" {
		return "", false
	}
	if !cid {
		for _, m := range Ops(false) {
			if m.Name == op && m.Proto != nil {
				return op, true
			}
		}
		return "", false
	}
	var off = -1
	for _, m := range Ops(true) {
		if m.Name == op && m.Proto != nil {
			off = m.Offset
		}
	}
	if off < 0 {
		return "", false
	}
	for _, m := range Ops(false) {
		if m.Offset == off {
			return m.Name, true
		}
	}
	return "", false
}
