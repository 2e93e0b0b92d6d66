package topo

import (
	"archive/tar"
	"bytes"
	"testing"
)

// FuzzParse feeds arbitrary bytes to every topology parser: the compact
// spec, cpu lists, YAML/JSON files and sysfs tarballs. None may panic; a
// machine that parses must yield a consistent cid table.
func FuzzParse(f *testing.F) {
	f.Add([]byte("2x2x8x2"))
	f.Add([]byte("0-3,8,10-11:1/2"))
	f.Add([]byte("spec: 1x1x4x2\nnumbering: x86\noffline: \"3\"\n"))
	f.Add([]byte(`{"cpus": [{"cpus": "0-3", "node": 0, "llc": 1, "threads": 2}, {"cpus": "6", "node": -1}]}`))
	f.Add([]byte("cpus:\n  - {cpus: \"0,2,4\", node: 0, llc: 0, core: 3}\n  - {cpus: \"1\", node: 1, llc: 0}\nset: [{cpus: \"1\", perf: 10}]\n"))
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	small := [][2]string{
		{"devices/system/cpu/possible", "0-2"},
		{"devices/system/cpu/online", "0-1"},
		{"devices/system/node/node0/cpulist", "0-1"},
		{"devices/system/cpu/cpu0/topology/thread_siblings_list", "0-1"},
		{"devices/system/cpu/cpu1/cache/index3/shared_cpu_list", "0-1"},
	}
	for _, nb := range small {
		name, body := nb[0], nb[1]
		_ = tw.WriteHeader(&tar.Header{Name: "sys/" + name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(body))
	}
	_ = tw.Close()
	f.Add(tb.Bytes())

	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data)
		if sp, err := ParseSpec(s); err == nil && sp.NumCPUs() <= 1024 {
			for _, num := range []Numbering{Linear, X86} {
				m, err := sp.Machine(num)
				if err != nil {
					t.Fatalf("spec %s: %v", sp, err)
				}
				fuzzTable(t, m)
			}
		}
		if l, err := ParseCPUList(s); err == nil {
			if back, err := ParseCPUList(FormatCPUList(l)); err != nil || len(back) != len(l) {
				t.Fatalf("cpu list %q does not round-trip", s)
			}
		}
		if m, err := ParseFile(data); err == nil {
			fuzzTable(t, m)
		}
		if m, err := ParseSysfsTar(data); err == nil {
			fuzzTable(t, m)
		}
	})
}

func fuzzTable(t *testing.T, m *Machine) {
	for _, ss := range []uint32{0, 3} {
		tbl, err := NewCidTable(m, ss)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkInvariants(m, tbl); err != nil {
			t.Fatal(err)
		}
	}
}
