/* One program touching two arena maps: the kernel verifier refuses it. */
#include "mini.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena_b SEC(".maps");

u64 sink;

SEC("struct_ops/both")
int both(unsigned long long *ctx)
{
	sink = (u64)&arena_a + (u64)&arena_b;
	return 0;
}

char _license[] SEC("license") = "GPL";
