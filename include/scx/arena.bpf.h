/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scxsim SDK: BPF arena address spaces.
 *
 * A BPF arena (BPF_MAP_TYPE_ARENA) is memory shared by the BPF program and
 * user space. Pointers into it live in address space 1: declare them
 * "T __arena *" and arena globals "T name __arena_global". clang 18+ with
 * __BPF_FEATURE_ADDR_SPACE_CAST places __arena_global variables in the
 * ".addr_space.1" section and inserts the addr_space_cast instructions
 * converting between the kernel and user views by itself, so cast_kern()
 * and cast_user() are no-ops kept for sources written for older compilers.
 */
#ifndef __SCX_ARENA_BPF_H
#define __SCX_ARENA_BPF_H

#ifndef __BPF_FEATURE_ADDR_SPACE_CAST
#error "BPF arenas need clang >= 18 (__BPF_FEATURE_ADDR_SPACE_CAST)"
#endif

#define __arena __attribute__((address_space(1)))
#define __arena_global __attribute__((address_space(1)))
#define cast_kern(ptr) /* emitted by the compiler */
#define cast_user(ptr) /* emitted by the compiler */

#ifndef PAGE_SIZE
#define PAGE_SIZE 4096
#endif

/* node_id of bpf_arena_alloc_pages() for "any NUMA node". */
#ifndef NUMA_NO_NODE
#define NUMA_NO_NODE (-1)
#endif

#endif /* __SCX_ARENA_BPF_H */
