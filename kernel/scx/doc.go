// Package scx is the sched_ext scheduling class of scxsim: kernel/sched/ext
// (ext.c, idle.c, cid.c, arena.c) in Go, driving schedulers described by an
// Ops value (struct sched_ext_ops or struct sched_ext_ops_cid).
//
// # API
//
//	x := scx.New(core)                // install the class in a sched.Core
//	sch, err := x.Register(&ops)      // bpf_scx_reg()/bpf_scx_reg_cid() + scx_enable()
//	x.Unregister(sch)                 // bpf_scx_unreg(): disable (SCX_EXIT_UNREG) and free
//	sch.ExitInfo()                    // struct scx_exit_info; .Report() is UEI_REPORT()
//	x.Log()                           // the kernel log lines sched_ext printed
//	x.DebugDump(reason)               // the SysRq-D dump
//	x.TraceOps = true                 // report every op call as a sched.EvExtOp event
//
// Ops holds one func field per callback (nil = absent, as NULL in C) and the
// data members (Name, Flags, TimeoutMS, DispatchMaxBatch, ExitDumpLen,
// HotplugSeq, CidShardSize) plus Form. In cid-form (FormCid) every cpu
// argument or return value of an op is a cid: SelectCPU is select_cid,
// Dispatch/UpdateIdle/DumpCPU/CPUOnline/CPUOffline get cids, SetCmask
// (a cmask in the scheduler's arena, CmaskArg) replaces SetCPUMask,
// the Cgroup* fields are the cpuctl_* ops and InitCids runs before Init.
// Ops.Arenas lists the arena of each member program; a cid-form scheduler
// needs exactly one (the BPF adapter fills it from prog->aux->arena; Go
// schedulers list the arena they create with bpf/arena).
//
// Registration errors are *Error values carrying the errno and the kernel
// log line ("sched_ext: cid-form scheduler uses multiple arena maps",
// "sched_ext: cid-form scheduler must use a BPF arena map", ...). As in the
// kernel, failures after the scheduler was allocated (ops.init() failing,
// an invalid flag combination caught by scx_validate_ops()) do not fail
// Register: the scheduler comes back already disabled with its exit info.
// The cid-form arena reference is taken before enabling, owned by the
// scheduler once allocated and dropped on Unregister (or on any failure
// before allocation).
//
// Every scx_bpf_* kfunc is a method of Ext (DsqInsert, DsqInsertVtime,
// DsqMoveToLocal, DsqMove, KickCPU, KickCid, SelectCPUDfl, PickIdleCPU,
// CidToCPU, ...; see kfuncs.go). Each checks the calling context with the
// kernel's kfunc sets and per-op rules (ktypes.KfuncAllowed, the same
// table scx_kfunc_context_filter() applies at load time) and turns misuse
// into a scheduler error. ClassifyKfunc and CheckKfunc expose the
// cpu-only / cid / common classification and the load-time refusal text for
// the loader.
//
// Errors detected at run time (scx_bpf_error(), invalid DSQ ids, invalid
// cpus or cids, bad dispatches, the watchdog) claim an exit with the
// kernel's message; the disable work then runs as a zero-delay host timer
// (the kernel's irq_work/kthread): a dump is taken with the dump ops, every
// task is moved back to the fair class and exited, ops.exit() gets the exit
// info. No task is lost.
//
// Entity (EntityOf(p)) is p->scx: slice, dsq_vtime, weight, flags, ops
// state, for the BPF adapter's task_struct mirror. OpError lets the adapter
// raise scx_error() for failures it detects (a faulting program).
//
// # Model notes
//
// Everything runs on one goroutine, so the kernel's lock dances and the
// transient ops states (QUEUEING, DISPATCHING, holding_cpu) collapse: a
// dispatch either finds its task still QUEUED with the same qseq or is
// ignored, as in the kernel. What the kernel defers to irq_work, balance
// callbacks or kthreads (kicks, deferred local dispatches, re-enqueues, the
// disable work) runs as zero-delay host timers, i.e. right after the
// current scheduling operation. SCX_KICK_WAIT makes the target CPU
// schedule before the kicking CPU goes on (the kicker's spin takes no
// virtual time). Slices are charged at ticks (update_curr at tick,
// dequeue, put_prev), as the kernel without hrtick does.
//
// scx_bpf_task_set_slice() writes the slice directly; the kernel defers a
// write from a context not holding the task's rq lock to the next slice
// check (apply_task_slice_oob()), which charges the same way.
//
// The core tracks rq->next_class: a higher class waking on a CPU calls the
// next class's wakeup_preempt hook (ext re-enqueues waiting SCX_ENQ_IMMED
// tasks), and inserts into a local DSQ reschedule the CPU only when ext is
// above its next class, so an SCX_ENQ_LAST insert made from
// put_prev_task_scx() needs the scheduler's own kick, as in the kernel.
//
// SCHED_FIFO/SCHED_RR tasks are in the core's RT class above fair and ext,
// whatever the scheduler's mode: when one takes a CPU from an ext task,
// ops.cpu_release() gets SCX_CPU_PREEMPT_RT and the RT task
// (preempt_reason_from_class(); the fair class gives UNKNOWN, and there is
// no stop or deadline class), and ops.cpu_acquire() follows when the CPU
// next dispatches for ext. Ext tasks starved by RT (or, in partial mode, by
// fair) tasks get the ext deadline server's 50 ms per second
// (rq->ext_server), modelled by package kernel/sched.
//
// Ops run on the CPU of the runqueue they lock (ops.select_cpu() on the
// waker's): the kernel runs the wakeup's ops.runnable()/ops.enqueue() on the
// waker's CPU, which bpf_get_smp_processor_id() and per-CPU maps would see.
//
// Not modelled: sub-schedulers (ops.sub_*, scx_bpf_sub_* kfuncs, caps,
// rescue), core scheduling (ops.core_sched_before is never called),
// SCX_TASK_PROTECTED, bypass-mode load balancing between bypass DSQs,
// SCX_OPS_ALLOW_QUEUED_WAKEUP (there is no queued wakeup), the
// NUMA-distance order of per-node idle searches (node id order is used),
// and the watchdog as a workqueue item (it is a host timer, so a
// scheduler starving kworkers cannot trip "watchdog failed to check in").
package scx
