/* A 4-byte load of an 8-byte unsigned field whose kernel size is 4: libbpf
 * cannot tell which size to use and fails the load ("unexpected mem size"). */
#include "mini.h"

struct sized {
	u64 wide;
} __attribute__((preserve_access_index));

SEC("struct_ops/read_narrow")
u64 read_narrow(unsigned long long *ctx)
{
	struct sized *p = (void *)ctx[0];

	return *(u32 *)&p->wide;
}

char _license[] SEC("license") = "GPL";
