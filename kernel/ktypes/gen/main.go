// Command gen writes the files generated from kernel/ktypes (the SDK's
// include/vmlinux.h and include/scx/kfuncs.h) under a repository root.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/scxsim/scxsim/kernel/ktypes"
)

func main() {
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	files := ktypes.GeneratedFiles()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(*root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
