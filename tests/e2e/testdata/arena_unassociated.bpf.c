/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A program that casts an integer to an arena pointer without any
 * instruction naming the arena map: the verifier has no arena to tie it to
 * and refuses the load.
 */
#include <scx/common.bpf.h>

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

u64 addr, val;

SEC("syscall")
int load_through_int(void *ctx)
{
	val = *(u64 __arena *)addr;
	return 0;
}
