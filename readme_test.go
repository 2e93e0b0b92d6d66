package scxsim_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// readmeExample returns the Go code block of README.md's "Testing a
// scheduler from Go" section.
func readmeExample(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(raw), "\n## Testing a scheduler from Go\n")
	if !ok {
		t.Fatal(`README.md has no "## Testing a scheduler from Go" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	_, code, ok := strings.Cut(sec, "```go\n")
	if !ok {
		t.Fatal("the README's Go API section has no ```go block")
	}
	code, _, ok = strings.Cut(code, "```")
	if !ok {
		t.Fatal("the README's Go code block is not closed")
	}
	return code
}

// The README's complete example test compiles as its own package against
// this module and passes, unchanged, with the cid-form example scheduler
// standing in for mysched.bpf.o. The package exists only in a go build
// overlay, so the tree is not touched.
func TestREADMEExample(t *testing.T) {
	code := readmeExample(t)
	for _, want := range []string{"package mysched_test", "scxsim.Simulate(", "scxsim.NoStall(", "scxsim.LatencyBelow(", "scxsim.FairWithin(", `os.ReadFile("mysched.bpf.o")`} {
		if !strings.Contains(code, want) {
			t.Errorf("README example lacks %s", want)
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "example_test.go")
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	pkgDir := filepath.Join(root, "zz_readme_example")
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(pkgDir, "example_test.go"): src}})
	if err := os.WriteFile(filepath.Join(dir, "overlay.json"), overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "example.test")
	build := exec.Command(goBin, "test", "-c", "-vet=off", "-overlay", filepath.Join(dir, "overlay.json"), "-o", bin, "./zz_readme_example")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the README example does not compile: %v\n%s", err, out)
	}
	obj, err := os.ReadFile("schedulers/cidq/cidq.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mysched.bpf.o"), obj, 0o644); err != nil {
		t.Fatal(err)
	}
	run := exec.Command(bin, "-test.v", "-test.count=1")
	run.Dir = dir
	out, err := run.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestMyScheduler") {
		t.Fatalf("the README example fails: %v\n%s", err, out)
	}
}
