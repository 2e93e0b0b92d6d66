// Package compat checks scxsim's BPF loader and runtime against the idioms
// production sched_ext schedulers (the scx project's) are built with.
//
// testdata/compat.bpf.c is such a scheduler, compiled by clang-19 with the
// usual flags and carrying its own declarations the way scx's headers do
// (testdata/scx_compat.bpf.h): __weak ___flavor kfuncs picked with
// bpf_ksym_exists() or bpf_core_type_exists(), __weak .kconfig externs,
// typed per-CPU __ksym variables, CO-RE type flavors, __SCX_* enum rodata,
// .data.NAME resilient locks, an arena at a fixed address with __arena
// globals and __arg_arena global functions, task and cgroup storage, hash,
// LRU hash, per-CPU array, perf event array and ring buffer maps,
// bpf_for/bpf_repeat/bpf_loop/can_loop loops, css iteration, a BPF timer,
// a bpf_cpumask kptr, the scx_bpf_error() bstr path, BPF streams and user
// exit info. testdata/linked/ is a scheduler linked from two objects by
// libbpf's static linker (bpftool gen object), as scx links its larger
// schedulers.
//
// The tests load them the way `scxsim check` does (kernel/scx/bpfsched's
// loader options), also against older kernels' BTF built from the
// simulated kernel's by removing and renaming kfuncs; run their programs
// in the VM with bpf/helpers' FakeKernel and recording stand-ins for the
// scx_bpf_* kfuncs, so each flavor choice is observed at run time; and
// attach the scheduler to the simulated sched_ext class.
package compat
