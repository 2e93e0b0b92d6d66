/* SPDX-License-Identifier: GPL-2.0 */
/*
 * linked: the entry half of a scheduler built from two source files and
 * linked into one object with libbpf's static linker (bpftool gen object),
 * as the scx project builds its larger schedulers. This file has the
 * struct_ops and the programs; lib.bpf.c the shared map, globals and
 * global functions they call. Both declare the same weak kfunc flavors,
 * Kconfig and kernel variables, which the linker merges.
 */
#include "../scx_compat.bpf.h"
#include "linked.h"

char _license[] SEC("license") = "GPL";

extern bool CONFIG_PREEMPT_RCU __kconfig __weak;
extern const int sd_llc_size __ksym __weak;

s32 BPF_STRUCT_OPS(linked_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	s32 cpu = compat_select_cpu_and(p, prev_cpu, wake_flags, p->cpus_ptr, 0);

	return cpu >= 0 ? cpu : prev_cpu;
}

void BPF_STRUCT_OPS(linked_enqueue, struct task_struct *p, u64 enq_flags)
{
	lib_count(p->pid);
	compat_dsq_insert(p, SHARED_DSQ, lib_slice(), enq_flags);
}

void BPF_STRUCT_OPS(linked_dispatch, s32 cpu, struct task_struct *prev)
{
	compat_dsq_move_to_local(SHARED_DSQ, 0);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(linked_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, -1);
}

void BPF_STRUCT_OPS(linked_exit, struct scx_exit_info *ei)
{
	lib_record_exit(ei);
}

SCX_OPS_DEFINE(linked_ops,
	       .select_cpu	= (void *)linked_select_cpu,
	       .enqueue		= (void *)linked_enqueue,
	       .dispatch	= (void *)linked_dispatch,
	       .init		= (void *)linked_init,
	       .exit		= (void *)linked_exit,
	       .name		= "linked");

/* What BPF sees of the externs, from this file. */
SEC("syscall")
int main_probe(void *ctx)
{
	const int *sz;

	main_seen.preempt_rcu = CONFIG_PREEMPT_RCU;
	main_seen.insert_v2 = bpf_ksym_exists(scx_bpf_dsq_insert___v2___compat);
	main_seen.move_v2 = bpf_ksym_exists(scx_bpf_dsq_move_to_local___v2);
	main_seen.llc_size = -1;
	if (bpf_ksym_exists(&sd_llc_size)) {
		sz = bpf_this_cpu_ptr(&sd_llc_size);
		main_seen.llc_size = *sz;
	}
	main_seen.slice = lib_slice();
	main_seen.counted = lib_lookup(7);
	return 0;
}
