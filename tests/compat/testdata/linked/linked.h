/* SPDX-License-Identifier: GPL-2.0 */
/* What main.bpf.c and lib.bpf.c share. */
#ifndef __LINKED_H
#define __LINKED_H

#define SHARED_DSQ 0

struct seen {
	u64 preempt_rcu;
	u64 insert_v2;
	u64 move_v2;
	s64 llc_size;
	u64 slice;
	u64 counted;
};

extern struct seen main_seen, lib_seen;

u64 lib_slice(void);
void lib_count(s32 pid);
u64 lib_lookup(s32 pid);
void lib_record_exit(struct scx_exit_info *ei);

#endif
