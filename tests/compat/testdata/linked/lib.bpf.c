/* SPDX-License-Identifier: GPL-2.0 */
/*
 * linked: the library half (see main.bpf.c): a map both files use, global
 * variables, user exit info and global functions.
 *
 * It calls no kfunc and tests no kfunc with bpf_ksym_exists(): the linker
 * of the bpftool at hand (7.1, libbpf 1.1) fails to merge one kfunc extern
 * declared in two objects ("failed to resolve size of underlying type"),
 * which newer libbpf releases, the scx project's, do.
 */
#include "../scx_compat.bpf.h"
#include "linked.h"

extern bool CONFIG_PREEMPT_RCU __kconfig __weak;
extern const int sd_llc_size __ksym __weak;

const volatile u64 slice_ns = 4 * NSEC_PER_MSEC;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, s32);
	__type(value, u64);
} pid_cnt SEC(".maps");

struct seen main_seen, lib_seen;

UEI_DEFINE(uei);

__hidden u64 lib_slice(void)
{
	return slice_ns;
}

__hidden void lib_count(s32 pid)
{
	u64 one = 1, *cnt = bpf_map_lookup_elem(&pid_cnt, &pid);

	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&pid_cnt, &pid, &one, BPF_NOEXIST);
}

__hidden u64 lib_lookup(s32 pid)
{
	u64 *cnt = bpf_map_lookup_elem(&pid_cnt, &pid);

	return cnt ? *cnt : 0;
}

__hidden void lib_record_exit(struct scx_exit_info *ei)
{
	UEI_RECORD(uei, ei);
}

/* What BPF sees of the externs, from this file. */
SEC("syscall")
int lib_probe(void *ctx)
{
	const int *sz;

	lib_seen.preempt_rcu = CONFIG_PREEMPT_RCU;
	lib_seen.llc_size = -1;
	if (bpf_ksym_exists(&sd_llc_size)) {
		sz = bpf_this_cpu_ptr(&sd_llc_size);
		lib_seen.llc_size = *sz;
	}
	lib_seen.slice = lib_slice();
	lib_seen.counted = lib_lookup(7);
	return 0;
}
