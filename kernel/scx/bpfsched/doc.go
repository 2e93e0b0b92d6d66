// Package bpfsched is scxsim's BPF struct_ops adapter: it turns a loaded
// sched_ext object (a clang-built .bpf.o, cpu-form struct sched_ext_ops or
// cid-form struct sched_ext_ops_cid) into a scheduler the sched_ext core
// (package kernel/scx) runs.
//
// # API
//
//	obj, err := bpfsched.Load(raw, bpfsched.Config{Machine: m}) // load for the simulated kernel
//	s, err := obj.Attach(x)     // x is the machine's *scx.Ext: bpf_scx_reg[_cid]() + scx_enable()
//	s.Exited(), s.ExitInfo()    // the core's exit info once the scheduler is out
//	s.Detach()                  // bpf_scx_unreg()
//	obj.Close()                 // drop the object's own handles
//
// Before loading, Load sizes the exit dump buffer of an scx-style user
// exit info (UEI_DEFINE(NAME): char RESIZABLE_ARRAY(data, NAME_dump) and
// const volatile u32 NAME_dump_len) to the ops' exit_dump_len, or scx's
// UEI_DUMP_DFL_LEN when it is 0, as UEI_SET_SIZE() does from user space
// (loader.Spec.SetMapValueSize, bpf_map__set_value_size()).
//
// Load builds an Env, the simulated kernel one object lives in: its
// address space, the BTF of kernel/ktypes, the helper table of bpf/helpers
// plus the arena, stream and scx_bpf_* kfuncs, the per-op and per-form
// kfunc filter (KfuncFilter: a cid-form program calling a cpu-only kfunc
// fails to load with "calling kernel function NAME is not allowed"), the
// per-CPU kernel variables (__ksym) and the Kconfig/LINUX_KERNEL_VERSION
// defaults. `scxsim check` loads through it.
//
// Attach builds the core's scx.Ops from the struct_ops map: each bound
// member becomes a Go func that writes its arguments into a struct_ops
// context (an array of u64 in a VM region; task pointers are task_struct
// mirror addresses, argument structs follow the array), runs the member
// program on the CPU the core runs the op on (vm.Exec.CPU), with the
// Kernel as vm.Exec.Ctx and the object's stream set as vm.Exec.Stream,
// and converts r0. One execution context (one stack) serves every
// simulated CPU: the simulation is single-threaded and each op sets the
// CPU it runs on; Config.Budget caps the instructions of one op's run.
// Data members (name, flags, timeout_ms,
// dispatch_max_batch, exit_dump_len, hotplug_seq, cid_shard_size) go into
// the Ops as they are; the core validates them as bpf_scx_init_member()
// does. The arena of every member program (vm.Program.Arena) goes into
// Ops.Arenas for the core's cid-form rule. The scheduler keeps a reference
// on every map its programs use, so closing the object does not free
// what it runs on.
//
// A program that does not run to completion (an invalid memory access,
// the instruction budget exhausted, a poisoned CO-RE relocation, a kfunc
// given a pointer that is not what it takes) ejects the scheduler with
// SCX_EXIT_ERROR and the VM's message, which names the program and the
// instruction; a budget exhaustion reads as the kernel's soft lockup
// report. Ejection leaves every task with the core, which moves them back
// to the fair class.
//
// Task mirroring: each simulated task gets a task_struct region laid out
// per kernel/ktypes (pid, tgid, comm, flags, prios, policy,
// nr_cpus_allowed, cpus_ptr pointing at its embedded cpus_mask, cgroups,
// se.sum_exec_runtime and load weight, and the scx entity: weight, slice,
// dsq_vtime, flags, ops_state, sticky/holding cpu, runnable_at). Before an
// op, only the tasks it involves are refreshed; a kfunc returning a task
// refreshes that one. The fields bpf_scx_btf_struct_access() lets a
// struct_ops program store to (p->scx.slice, p->scx.dsq_vtime,
// p->scx.disallow) are handed back to the core before each scx kfunc and
// when the op returns; a scheduler that writes slice or dsq_vtime directly
// gets the kernel's deprecation warning in Scheduler.Log once.
//
// Kernel implements helpers.Kernel for the simulated machine: virtual
// time and jiffies from the core's host, the task running on each CPU,
// task and cgroup lookup and references, per-CPU variables (runqueues,
// sd_llc_*, refreshed when a program takes a per-CPU pointer), BPF timers
// through the host's timer queue and printk to a sink. It also walks the
// core's cgroup hierarchy (helpers.CgroupWalker, bpf_for_each(css, ...))
// and gives each task's cgroup (helpers.TaskCgrouper,
// bpf_task_under_cgroup()). bpf_obj_new() and bpf_percpu_obj_new() are
// sized from the program-local type id the program passes, with the
// type's struct bpf_refcount, as the verifier finds them.
//
// Every kfunc of the simulated kernel's BTF has an implementation. The
// scx_bpf_sub_* kfuncs behave as in a kernel with no sub-scheduler
// attached: no cgroup id names a child scheduler (scx_bpf_sub_dispatch()
// is false, the others -ENODEV), a cpu-form caller of the sub-cap kfuncs is
// disabled ("sub-cap kfuncs require a cid-form scheduler"), and
// scx_bpf_sub_caps() for self reads the root's caps, the whole cid space.
//
// cid-form: the core allocates the per-CPU set_cmask scratch cmasks with
// the arena sub-allocator, fills them through the arena's kernel view and
// passes their arena address, which the adapter hands to ops.set_cmask()
// as the program's __arena pointer.
package bpfsched
