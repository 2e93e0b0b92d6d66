package ktypes

//go:generate go run ./gen -root ../..

// GeneratedFiles returns the repository files generated from this package,
// keyed by their path relative to the repository root. `go generate
// ./kernel/ktypes` writes them; a test checks the committed copies.
func GeneratedFiles() map[string][]byte {
	return map[string][]byte{
		"include/vmlinux.h":    VmlinuxH(),
		"include/scx/kfuncs.h": KfuncsH(),
	}
}
