// Package e2e holds end-to-end tests that load clang-19 BPF objects
// (testdata/*.bpf.c, built by scripts/build-bpf.sh) with bpf/loader against
// the simulated kernel's BTF and kfunc tables, run their programs in the VM
// and check what they leave in BPF arenas against Go's own view of the same
// bytes: the arena's user view (issue 4) and kernel/cmask (issue 5).
package e2e
