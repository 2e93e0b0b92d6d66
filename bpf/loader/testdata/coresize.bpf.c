// bpf-cflags: -mcpu=v4
/* CO-RE load/store size adjustment. struct sized below plays the part of
 * the vmlinux.h the object was built against; the test kernel
 * (kernel_test.go) lays it out differently and changes field sizes:
 *
 *   field  here          kernel         expected
 *   a      u32           u64            ldxw/stxw become dw
 *   b      u64           u32            ldxdw/stxdw become w
 *   c      u16           u8             ldxh/st h become b
 *   d      s32           s64            poisoned (signed, size changed)
 *   e      s32 (ldsx)    s32, moved     offset only, still sign-extending
 *   f      short (ldsx)  s32            poisoned (signed, size changed)
 *   st     enum (4)      enum (8)       poisoned (not an integer)
 *   ptr    void *        void *, moved  offset only
 *   arr    u32[4]        u64[4]         element loads become dw
 *   mid    u32 : 8       u8             poisoned (bitfield here only)
 *
 * -mcpu=v4 so that signed loads are LDSX (BPF_MEMSX). */
#include "mini.h"

enum sized_state { SIZED_IDLE, SIZED_BUSY };

struct sized {
	u32 a;
	u64 b;
	u16 c;
	s32 d;
	s32 e;
	short f;
	enum sized_state st;
	void *ptr;
	u32 arr[4];
	u32 lo : 4, mid : 8;
} __attribute__((preserve_access_index));

u64 out[8];

SEC("struct_ops/read_sized")
int read_sized(unsigned long long *ctx)
{
	struct sized *p = (void *)ctx[0];

	out[0] = p->a;
	out[1] = p->b;
	out[2] = p->c;
	out[3] = p->e;
	out[4] = (u64)p->ptr;
	out[5] = p->arr[2];
	return 0;
}

SEC("struct_ops/write_sized")
int write_sized(unsigned long long *ctx)
{
	struct sized *p = (void *)ctx[0];

	p->a = ctx[1];
	p->b = ctx[2];
	p->c = 9;
	p->arr[1] = ctx[1];
	return 0;
}

SEC("struct_ops/read_d")
s64 read_d(unsigned long long *ctx)
{
	struct sized *p = (void *)ctx[0];

	return p->d;
}

SEC("struct_ops/read_f")
s64 read_f(unsigned long long *ctx)
{
	struct sized *p = (void *)ctx[0];

	return p->f;
}

SEC("struct_ops/read_st")
u64 read_st(unsigned long long *ctx)
{
	struct sized *p = (void *)ctx[0];

	return p->st;
}

SEC("struct_ops/read_mid")
u64 read_mid(unsigned long long *ctx)
{
	struct sized *p = (void *)ctx[0];

	return p->mid;
}

char _license[] SEC("license") = "GPL";
