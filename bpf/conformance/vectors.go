package conformance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/scxsim/scxsim/bpf/asm"
)

// Vector is one test vector file of the bpf_conformance suite.
type Vector struct {
	Name string // file name, such as "add.data"
	File *asm.DataFile
}

// VectorsDir returns the directory of the shared bpf_conformance vectors,
// shared/bpf_conformance/tests beside the root (go.mod) of the module the
// working directory is in: where tests, which run in their package's
// directory, find them.
func VectorsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("conformance: repository root (go.mod) not found above the working directory")
		}
		dir = parent
	}
	tests := filepath.Join(filepath.Dir(dir), "shared", "bpf_conformance", "tests")
	if st, err := os.Stat(tests); err != nil || !st.IsDir() {
		return "", fmt.Errorf("conformance: test vectors not found at %s (the shared/ directory must sit beside the repository root)", tests)
	}
	return tests, nil
}

// LoadVectors reads and parses every .data file in dir, in name order. It
// fails when there is none or one does not parse.
func LoadVectors(dir string) ([]Vector, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.data"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("conformance: no .data files in %s", dir)
	}
	slices.Sort(paths)
	out := make([]Vector, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(p)
		f, err := asm.ParseDataFile(name, data)
		if err != nil {
			return nil, fmt.Errorf("parse: %w", err)
		}
		out = append(out, Vector{Name: name, File: f})
	}
	return out, nil
}
