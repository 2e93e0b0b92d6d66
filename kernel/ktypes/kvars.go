package ktypes

// KernelVar is a kernel variable a BPF program can name with __ksym. All of
// the simulated kernel's variables are per-CPU: in BTF they sit in the
// ".data..percpu" DATASEC, so the verifier types &var as a per-CPU pointer
// for bpf_per_cpu_ptr() and bpf_this_cpu_ptr().
type KernelVar struct {
	Name   string
	Type   Type
	Size   int
	Offset int // offset in the per-CPU area (the DATASEC)
	PerCPU bool
}

// PerCPUSection is the DATASEC name of per-CPU variables in kernel BTF.
const PerCPUSection = ".data..percpu"

// KernelVars returns the kernel variables of the simulated kernel. The
// kernel layer backs each with memory and hands the addresses to the
// loader; the returned values are shared and must not be modified.
func KernelVars() []*KernelVar { return append([]*KernelVar(nil), reg().vars...) }

// kernelVars declares the per-CPU variables production schedulers read
// through __ksym, with the names and types a current x86-64 kernel has
// (runqueues in kernel/sched/core.c, sd_llc_* in topology.c,
// sched_core_priority in arch/x86/kernel/itmt.c, kernel_cpustat and kstat
// in kernel/sched/cputime.c, sugov_cpu in cpufreq_schedutil.c,
// vm_event_states in mm/vmstat.c, __preempt_count on x86,
// cpufreq_cpu_data in drivers/cpufreq/cpufreq.c, hw_pressure in
// drivers/base/arch_topology.c).
func (d *defs) kernelVars() {
	add := func(name string, t Type) {
		d.vars = append(d.vars, &KernelVar{Name: name, Type: t, PerCPU: true})
	}
	add("runqueues", d.st("rq"))
	add("sd_llc_size", d.int_)
	add("sd_llc_id", d.int_)
	add("sched_core_priority", d.int_)
	add("kernel_cpustat", d.st("kernel_cpustat"))
	add("kstat", d.st("kernel_stat"))
	add("sugov_cpu", d.st("sugov_cpu"))
	add("vm_event_states", d.st("vm_event_state"))
	add("__preempt_count", d.int_)
	add("cpufreq_cpu_data", d.sp("cpufreq_policy"))
	add("hw_pressure", d.ulong)
}
