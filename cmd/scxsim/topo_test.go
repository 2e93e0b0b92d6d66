package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runTopo executes `scxsim topo ARGS...` in process and returns stdout,
// stderr and the error.
func runTopo(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := newTopoCmd()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

// The default numbering is x86, the same as run's; linear keeps a core's
// threads consecutive.
func TestTopoJSON(t *testing.T) {
	if d, r := newTopoCmd().Flags().Lookup("numbering").DefValue, newRunCmd().Flags().Lookup("numbering").DefValue; d != r {
		t.Errorf("topo --numbering defaults to %q, run to %q", d, r)
	}
	type row struct{ cpu, cid, coreCid, llcCid, nodeCid, shardIdx float64 }
	// x86 numbering, 2 cores: core 0 = cpus {0,2}, core 1 = {1,3}; in cid
	// order the cpus are 0, 2, 1, 3.
	x86 := []row{{0, 0, 0, 0, 0, 0}, {2, 1, 0, 0, 0, 0}, {1, 2, 2, 0, 0, 0}, {3, 3, 2, 0, 0, 0}}
	linear := []row{{0, 0, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0}, {2, 2, 2, 0, 0, 0}, {3, 3, 2, 0, 0, 0}}
	for _, tc := range []struct {
		args []string
		want []row
	}{
		{nil, x86},
		{[]string{"--numbering", "x86"}, x86},
		{[]string{"--numbering", "linear"}, linear},
	} {
		out, _, err := runTopo(t, append([]string{"1x1x2x2", "--json"}, tc.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(rows) != len(tc.want) {
			t.Fatalf("%v: %d rows, want %d", tc.args, len(rows), len(tc.want))
		}
		for i, w := range tc.want {
			r := rows[i]
			got := []any{r["cpu"], r["cid"], r["core_cid"], r["llc_cid"], r["node_cid"], r["shard_idx"]}
			exp := []any{w.cpu, w.cid, w.coreCid, w.llcCid, w.nodeCid, w.shardIdx}
			for j := range got {
				if got[j] != exp[j] {
					t.Fatalf("%v: row %d: %v, want %v", tc.args, i, got, exp)
				}
			}
		}
	}
}

func TestTopoTableAndFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(file, []byte("spec: 1x1x2x1\noffline: \"1\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runTopo(t, file, "--shard-size", "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"possible 2 (nr_cpu_ids 2), online 1", "no-topology tail 1", "shards 2", "shard_idx"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestTopoCaptureRoundTrip(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "sys")
	files := map[string]string{
		"devices/system/cpu/possible":                           "0-3\n",
		"devices/system/cpu/online":                             "0-2\n",
		"devices/system/cpu/cpu0/topology/thread_siblings_list": "0,2\n",
		"devices/system/cpu/cpu2/topology/thread_siblings_list": "0,2\n",
		"devices/system/cpu/cpu1/topology/thread_siblings_list": "1\n",
		"devices/system/node/node0/cpulist":                     "0-3\n",
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, out := range []string{filepath.Join(dir, "snap.tar.gz"), filepath.Join(dir, "snapdir")} {
		if _, _, err := runTopo(t, "capture", "--root", root, out); err != nil {
			t.Fatal(err)
		}
		js, _, err := runTopo(t, out, "--json")
		if err != nil {
			t.Fatal(err)
		}
		var rows []struct{ CPU, Cid int }
		if err := json.Unmarshal([]byte(js), &rows); err != nil {
			t.Fatal(err)
		}
		// Core {0,2} first, then 1, then offline 3 in the tail.
		got := []int{}
		for _, r := range rows {
			got = append(got, r.CPU)
		}
		if len(got) != 4 || got[0] != 0 || got[1] != 2 || got[2] != 1 || got[3] != 3 {
			t.Fatalf("%s: cpus in cid order %v, want [0 2 1 3]", out, got)
		}
	}
}

func TestTopoErrors(t *testing.T) {
	if _, _, err := runTopo(t, "1x1x0x1"); err == nil || !strings.Contains(err.Error(), "not a positive count") {
		t.Errorf("bad spec: %v", err)
	}
	_, _, err := runTopo(t, "1x1x2x1", "--numbering", "zigzag")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("bad numbering: %v", err)
	}
	if _, _, err := runTopo(t, "capture", "--root", t.TempDir(), filepath.Join(t.TempDir(), "x.tgz")); err == nil {
		t.Error("capture from a non-sysfs root succeeded")
	}
}
