// Package compat checks scxsim's BPF loader and runtime against the idioms
// production sched_ext schedulers (the scx project's) are built with:
// testdata/compat.bpf.c is such a scheduler, compiled by clang-19 with the
// usual flags, carrying its own __weak ___flavor kfunc declarations
// (testdata/scx_compat.bpf.h), __weak .kconfig externs, typed per-CPU
// __ksym variables, .data.NAME resilient locks, an arena with __arena
// globals, task storage, hash, LRU hash, per-CPU array and ring buffer
// maps, open-coded iterators, bpf_loop, a BPF timer, a bpf_cpumask kptr,
// the scx_bpf_error() bstr path and user exit info.
//
// The tests load it the way `scxsim check` does (kernel/scx/bpfsched's
// loader options), also against older kernels' BTF built from the
// simulated kernel's by removing and renaming kfuncs, and run its programs
// in the VM with bpf/helpers' FakeKernel and recording stand-ins for the
// scx_bpf_* kfuncs, so each flavor choice is observed at run time.
package compat
