package topo

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// writeTree writes files (path relative to root -> content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// x86Tree is a 2-node machine numbered x86-style: core g has threads g and
// g+4; node 0 holds cores 0-1, node 1 cores 2-3, one L3 per node. cpu 7 is
// offline (no topology or cache directory; its sibling 3 lists itself
// alone), cpus 8-9 are possible but not present. cpu 2 reports capacity 512.
func x86Tree() map[string]string {
	f := map[string]string{
		"devices/system/cpu/possible":       "0-9\n",
		"devices/system/cpu/present":        "0-7\n",
		"devices/system/cpu/online":         "0-6\n",
		"devices/system/node/possible":      "0-1\n",
		"devices/system/node/node0/cpulist": "0-1,4-5\n",
		"devices/system/node/node1/cpulist": "2-3,6-7\n",
		"devices/cpu_core/cpus":             "0-1,4-5\n",
		"devices/cpu_atom/cpus":             "2-3,6\n",
	}
	sib := map[int]string{0: "0,4", 1: "1,5", 2: "2,6", 3: "3", 4: "0,4", 5: "1,5", 6: "2,6"}
	l3 := map[int]string{0: "0-1,4-5", 1: "0-1,4-5", 4: "0-1,4-5", 5: "0-1,4-5", 2: "2-3,6", 3: "2-3,6", 6: "2-3,6"}
	for cpu := range 7 {
		d := "devices/system/cpu/cpu" + strconv.Itoa(cpu)
		f[d+"/topology/thread_siblings_list"] = sib[cpu] + "\n"
		f[d+"/topology/core_id"] = strconv.Itoa(cpu%4) + "\n"
		capacity := "1024"
		if cpu == 2 {
			capacity = "512"
		}
		f[d+"/cpu_capacity"] = capacity + "\n"
		for idx, level := range []string{"1", "1", "2"} {
			f[d+"/cache/index"+strconv.Itoa(idx)+"/level"] = level + "\n"
			f[d+"/cache/index"+strconv.Itoa(idx)+"/shared_cpu_list"] = sib[cpu] + "\n"
		}
		f[d+"/cache/index3/level"] = "3\n"
		f[d+"/cache/index3/shared_cpu_list"] = l3[cpu] + "\n"
	}
	f["devices/system/cpu/cpu7/online"] = "0\n"
	return f
}

// x86TreeCPUs is the machine x86Tree describes, written out by hand: core
// and LLC ids are the lowest cpu of the sibling and L3 lists.
var x86TreeCPUs = []CPU{
	{ID: 0, Node: 0, LLC: 0, Core: 0, Online: true, Capacity: 1024, Perf: 1024, Type: "core"},
	{ID: 1, Node: 0, LLC: 0, Core: 1, Online: true, Capacity: 1024, Perf: 1024, Type: "core"},
	{ID: 2, Node: 1, LLC: 2, Core: 2, Online: true, Capacity: 512, Perf: 1024, Type: "atom"},
	{ID: 3, Node: 1, LLC: 2, Core: 3, Online: true, Capacity: 1024, Perf: 1024, Type: "atom"},
	{ID: 4, Node: 0, LLC: 0, Core: 0, Online: true, Capacity: 1024, Perf: 1024, Type: "core"},
	{ID: 5, Node: 0, LLC: 0, Core: 1, Online: true, Capacity: 1024, Perf: 1024, Type: "core"},
	{ID: 6, Node: 1, LLC: 2, Core: 2, Online: true, Capacity: 1024, Perf: 1024, Type: "atom"},
	{ID: 7, Node: 1, LLC: -1, Core: -1, Online: false, Capacity: 1024, Perf: 1024},
	{ID: 8, Node: -1, LLC: -1, Core: -1, Online: false, Capacity: 1024, Perf: 1024},
	{ID: 9, Node: -1, LLC: -1, Core: -1, Online: false, Capacity: 1024, Perf: 1024},
}

func TestSysfsSnapshot(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "sys")
	writeTree(t, root, x86Tree())

	// The tree itself, and its parent (root/sys layout).
	for _, p := range []string{root, dir} {
		m, err := LoadSysfsDir(p)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(m.CPUs(), x86TreeCPUs) {
			t.Fatalf("%s:\n got %+v\nwant %+v", p, m.CPUs(), x86TreeCPUs)
		}
	}

	// A tarball capture parses to the same machine and is reproducible.
	var tb1, tb2 bytes.Buffer
	if err := CaptureTar(root, &tb1); err != nil {
		t.Fatal(err)
	}
	if err := CaptureTar(root, &tb2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tb1.Bytes(), tb2.Bytes()) {
		t.Fatal("two captures of the same tree differ")
	}
	m, err := ParseSysfsTar(tb1.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.CPUs(), x86TreeCPUs) {
		t.Fatalf("tarball:\n got %+v\nwant %+v", m.CPUs(), x86TreeCPUs)
	}
	tarPath := filepath.Join(dir, "snap.tar.gz")
	if err := os.WriteFile(tarPath, tb1.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	// A directory capture, and Load on each form.
	out := filepath.Join(dir, "captured")
	if err := CaptureDir(root, out); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{out, tarPath} {
		m, err := Load(p, "")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(m.CPUs(), x86TreeCPUs) {
			t.Fatalf("Load(%s): got %+v", p, m.CPUs())
		}
	}

	// Its cid table, by hand: node 0 cores {0,4} {1,5}, node 1 cores
	// {2,6} {3}, then the tail 7, 8, 9.
	tbl, err := NewCidTable(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, m, tbl, []int{0, 4, 1, 5, 2, 6, 3, 7, 8, 9}, []row{
		{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
		{2, 1, 0, 0, 0, 0, 0, 0}, {2, 1, 0, 0, 0, 0, 0, 0},
		{4, 2, 4, 1, 4, 1, 4, 1}, {4, 2, 4, 1, 4, 1, 4, 1},
		{6, 3, 4, 1, 4, 1, 4, 1},
		neg(7, 2), neg(7, 2), neg(7, 2),
	}, []Shard{{0, 4}, {4, 3}, {7, 3}}, []int{0, 1, -1})
}

func TestSysfsNoNUMA(t *testing.T) {
	// Without devices/system/node every cpu is on node 0 (!CONFIG_NUMA);
	// without cache directories the LLC is unknown.
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"devices/system/cpu/possible": "0-1\n",
		"devices/system/cpu/online":   "0-1\n",
	})
	m, err := LoadSysfsDir(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []CPU{
		{ID: 0, Node: 0, LLC: -1, Core: -1, Online: true, Capacity: 1024, Perf: 1024},
		{ID: 1, Node: 0, LLC: -1, Core: -1, Online: true, Capacity: 1024, Perf: 1024},
	}
	if !slices.Equal(m.CPUs(), want) {
		t.Fatalf("got %+v", m.CPUs())
	}
}

func TestSysfsErrors(t *testing.T) {
	base := x86Tree()
	cases := []struct {
		name   string
		change map[string]string
		drop   string
		want   string
	}{
		{"no possible", nil, "devices/system/cpu/possible", "no devices/system/cpu/possible"},
		{"empty possible", map[string]string{"devices/system/cpu/possible": "\n"}, "", "missing or empty"},
		{"bad online", map[string]string{"devices/system/cpu/online": "0-x\n"}, "", "devices/system/cpu/online"},
		{"bad siblings", map[string]string{"devices/system/cpu/cpu1/topology/thread_siblings_list": "5-1\n"}, "", "descending"},
		{"bad capacity", map[string]string{"devices/system/cpu/cpu1/cpu_capacity": "fast\n"}, "", "not a number"},
		{"capacity too big", map[string]string{"devices/system/cpu/cpu1/cpu_capacity": "2048\n"}, "", "capacity 2048 out of range"},
		{"nothing online", map[string]string{"devices/system/cpu/online": "\n"}, "", "no online CPU"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range base {
				if k != c.drop {
					files[k] = v
				}
			}
			for k, v := range c.change {
				files[k] = v
			}
			root := t.TempDir()
			writeTree(t, root, files)
			_, err := LoadSysfsDir(root)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
	if _, err := ParseSysfsTar([]byte("not a tarball at all")); err == nil {
		t.Error("garbage tarball accepted")
	}
}

// TestCaptureThisMachine captures the running machine's /sys, simulates it,
// and compares the CPUs and SMT siblings with what /sys reports, read here
// directly.
func TestCaptureThisMachine(t *testing.T) {
	const sys = "/sys"
	read := func(p string) ([]int, bool) {
		b, err := os.ReadFile(filepath.Join(sys, p))
		if err != nil {
			return nil, false
		}
		l, err := ParseCPUList(string(b))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return l, true
	}
	possible, ok := read("devices/system/cpu/possible")
	if !ok {
		t.Skip("no /sys/devices/system/cpu on this machine")
	}
	online, _ := read("devices/system/cpu/online")

	var buf bytes.Buffer
	if err := CaptureTar(sys, &buf); err != nil {
		t.Fatal(err)
	}
	m, err := ParseSysfsTar(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var gotPossible, gotOnline []int
	for _, c := range m.CPUs() {
		gotPossible = append(gotPossible, c.ID)
		if c.Online {
			gotOnline = append(gotOnline, c.ID)
		}
	}
	if !slices.Equal(gotPossible, possible) || !slices.Equal(gotOnline, online) {
		t.Fatalf("possible %v online %v; /sys says %v and %v", gotPossible, gotOnline, possible, online)
	}
	onlineOnly := func(l []int) []int {
		return slices.DeleteFunc(slices.Clone(l), func(c int) bool { return !m.Online(c) })
	}
	for _, cpu := range online {
		want, ok := read("devices/system/cpu/cpu" + strconv.Itoa(cpu) + "/topology/thread_siblings_list")
		if !ok {
			continue
		}
		if got := onlineOnly(m.Siblings(cpu)); !slices.Equal(got, want) {
			t.Errorf("cpu %d siblings %v, /sys says %v", cpu, got, want)
		}
	}
	tbl, err := NewCidTable(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkInvariants(m, tbl); err != nil {
		t.Fatal(err)
	}
	// Siblings have adjacent cids: each online cpu's core starts at the
	// cid of its lowest online sibling.
	for _, cpu := range online {
		sib := onlineOnly(m.Siblings(cpu))
		if got, want := tbl.Topo(tbl.Cid(cpu)).CoreCid, tbl.Cid(sib[0]); int(got) != want {
			t.Errorf("cpu %d core cid %d, want %d", cpu, got, want)
		}
	}
}
