package topo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A sysfs snapshot is a tree of the topology files under /sys, as a
// directory or a tarball. Its root is the directory holding
// devices/system/cpu (the live /sys itself is one); paths may also start
// with "sys/". The files read:
//
//	devices/system/cpu/{possible,online}
//	devices/system/cpu/cpuN/cpu_capacity                  capacity (default 1024)
//	devices/system/cpu/cpuN/topology/thread_siblings_list SMT siblings
//	devices/system/cpu/cpuN/cache/indexK/shared_cpu_list  the highest K is the LLC
//	devices/system/node/nodeK/cpulist                     NUMA nodes
//	devices/cpu_core/cpus, devices/cpu_atom/cpus          hybrid core types
//
// Capture also keeps the neighbouring topology files for reference.

const (
	sysCPU  = "devices/system/cpu"
	sysNode = "devices/system/node"
)

// Limits on snapshot tarballs, which are untrusted input.
const (
	maxSnapshotFile  = 1 << 20
	maxSnapshotTotal = 64 << 20
)

// snapshot reads files of a sysfs tree by path relative to its root.
type snapshot interface {
	read(name string) (string, bool)
	subdirs(name string) []string // names of the subdirectories of name
}

type dirSnapshot struct{ fsys fs.FS }

func (d dirSnapshot) read(name string) (string, bool) {
	b, err := fs.ReadFile(d.fsys, name)
	if err != nil || len(b) > maxSnapshotFile {
		return "", false
	}
	return string(b), true
}

func (d dirSnapshot) subdirs(name string) []string {
	ents, err := fs.ReadDir(d.fsys, name)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		// sysfs directories are real directories; entries such as
		// cpu0/node0 are symlinks and are skipped.
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

type mapSnapshot map[string]string

func (m mapSnapshot) read(name string) (string, bool) { s, ok := m[name]; return s, ok }

func (m mapSnapshot) subdirs(name string) []string {
	set := map[string]bool{}
	prefix := name + "/"
	for p := range m {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			if d, _, ok := strings.Cut(rest, "/"); ok {
				set[d] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// LoadSysfsDir reads a snapshot directory (or the live /sys).
func LoadSysfsDir(dir string) (*Machine, error) {
	for _, root := range []string{dir, filepath.Join(dir, "sys")} {
		if st, err := os.Stat(filepath.Join(root, sysCPU, "possible")); err == nil && !st.IsDir() {
			return parseSnapshot(dirSnapshot{os.DirFS(root)})
		}
	}
	return nil, fmt.Errorf("%s: no %s/possible in the snapshot", dir, sysCPU)
}

// ParseSysfsTar reads a snapshot tarball, gzip-compressed or not.
func ParseSysfsTar(data []byte) (*Machine, error) {
	var r io.Reader = bytes.NewReader(data)
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("sysfs snapshot: %w", err)
		}
		r = zr
	}
	files := map[string]string{}
	tr := tar.NewReader(r)
	total := int64(0)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sysfs snapshot: %w", err)
		}
		if h.Typeflag != tar.TypeReg || h.Size > maxSnapshotFile {
			continue
		}
		total += h.Size
		if total > maxSnapshotTotal {
			return nil, fmt.Errorf("sysfs snapshot: larger than %d bytes", maxSnapshotTotal)
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxSnapshotFile))
		if err != nil {
			return nil, fmt.Errorf("sysfs snapshot: %w", err)
		}
		files[path.Clean(strings.TrimPrefix(h.Name, "./"))] = string(b)
	}
	// The root is wherever devices/system/cpu/possible sits.
	root, found := "", false
	for name := range files {
		if r, ok := strings.CutSuffix(name, sysCPU+"/possible"); ok && (r == "" || strings.HasSuffix(r, "/")) {
			if !found || len(r) < len(root) || (len(r) == len(root) && r < root) {
				root, found = r, true
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("sysfs snapshot: no %s/possible in the tarball", sysCPU)
	}
	snap := mapSnapshot{}
	for name, s := range files {
		if rel, ok := strings.CutPrefix(name, root); ok {
			snap[rel] = s
		}
	}
	return parseSnapshot(snap)
}

// parseSnapshot builds the machine a sysfs tree describes.
func parseSnapshot(s snapshot) (*Machine, error) {
	list := func(name string) ([]int, bool, error) {
		txt, ok := s.read(name)
		if !ok {
			return nil, false, nil
		}
		l, err := ParseCPUList(txt)
		if err != nil {
			return nil, true, fmt.Errorf("%s: %w", name, err)
		}
		return l, true, nil
	}
	possible, ok, err := list(sysCPU + "/possible")
	if err != nil {
		return nil, err
	}
	if !ok || len(possible) == 0 {
		return nil, fmt.Errorf("%s/possible is missing or empty", sysCPU)
	}
	online, ok, err := list(sysCPU + "/online")
	if err != nil {
		return nil, err
	}
	if !ok {
		online = possible
	}
	isOnline := map[int]bool{}
	for _, c := range online {
		isOnline[c] = true
	}

	// Nodes. Without a node directory the kernel has no NUMA and every
	// cpu is on node 0.
	nodeOf := map[int]int{}
	nodeDirs := s.subdirs(sysNode)
	hasNUMA := len(nodeDirs) > 0
	for _, d := range nodeDirs {
		n, ok := numSuffix(d, "node")
		if !ok {
			continue
		}
		cpus, _, err := list(sysNode + "/" + d + "/cpulist")
		if err != nil {
			return nil, err
		}
		for _, c := range cpus {
			if _, dup := nodeOf[c]; !dup {
				nodeOf[c] = n
			}
		}
	}

	types := map[int]string{}
	for _, t := range []string{"core", "atom"} {
		cpus, _, err := list("devices/cpu_" + t + "/cpus")
		if err != nil {
			return nil, err
		}
		for _, c := range cpus {
			types[c] = t
		}
	}

	cpus := make([]CPU, 0, len(possible))
	for _, id := range possible {
		dir := fmt.Sprintf("%s/cpu%d", sysCPU, id)
		c := CPU{ID: id, Node: 0, LLC: -1, Core: -1, Online: isOnline[id],
			Capacity: CapacityScale, Perf: CapacityScale, Type: types[id]}
		if hasNUMA {
			c.Node = -1
			if n, ok := nodeOf[id]; ok {
				c.Node = n
			}
		}
		if txt, ok := s.read(dir + "/cpu_capacity"); ok {
			v, err := strconv.ParseUint(strings.TrimSpace(txt), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("%s/cpu_capacity: %q is not a number", dir, strings.TrimSpace(txt))
			}
			c.Capacity = uint32(min(v, 1<<31))
		}
		sib, ok, err := list(dir + "/topology/thread_siblings_list")
		if err != nil {
			return nil, err
		}
		if ok {
			c.Core = minWith(sib, id)
		}
		// The LLC is the last cache leaf (the highest indexK).
		last := -1
		for _, d := range s.subdirs(dir + "/cache") {
			if k, ok := numSuffix(d, "index"); ok && k > last {
				last = k
			}
		}
		if last >= 0 {
			shared, ok, err := list(fmt.Sprintf("%s/cache/index%d/shared_cpu_list", dir, last))
			if err != nil {
				return nil, err
			}
			if ok {
				c.LLC = minWith(shared, id)
			}
		}
		cpus = append(cpus, c)
	}
	return NewMachine(cpus)
}

// numSuffix parses names such as "node3" or "index2".
func numSuffix(name, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || rest == "" {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 || n >= MaxCPUs || strconv.Itoa(n) != rest {
		return 0, false
	}
	return n, true
}

// minWith is the lowest of l and x: the key naming the group of cpus a
// sibling or shared-cache list describes.
func minWith(l []int, x int) int {
	for _, v := range l {
		x = min(x, v)
	}
	return x
}

// captureFiles lists the files a snapshot keeps, relative to the sysfs
// root, for the cpus and nodes present under root.
func captureFiles(root string) []string {
	var files []string
	add := func(names ...string) { files = append(files, names...) }
	add(sysCPU+"/possible", sysCPU+"/present", sysCPU+"/online", sysCPU+"/offline", sysCPU+"/kernel_max",
		sysNode+"/possible", sysNode+"/online", sysNode+"/has_cpu",
		"devices/cpu_core/cpus", "devices/cpu_atom/cpus")
	d := dirSnapshot{os.DirFS(root)}
	for _, name := range d.subdirs(sysCPU) {
		if _, ok := numSuffix(name, "cpu"); !ok {
			continue
		}
		cpu := sysCPU + "/" + name
		add(cpu+"/online", cpu+"/cpu_capacity")
		for _, f := range []string{"thread_siblings_list", "core_cpus_list", "core_siblings_list",
			"cluster_cpus_list", "die_cpus_list", "package_cpus_list",
			"core_id", "cluster_id", "die_id", "physical_package_id"} {
			add(cpu + "/topology/" + f)
		}
		for _, idx := range d.subdirs(cpu + "/cache") {
			if _, ok := numSuffix(idx, "index"); !ok {
				continue
			}
			for _, f := range []string{"level", "type", "id", "size", "shared_cpu_list"} {
				add(cpu + "/cache/" + idx + "/" + f)
			}
		}
	}
	for _, name := range d.subdirs(sysNode) {
		if _, ok := numSuffix(name, "node"); ok {
			add(sysNode + "/" + name + "/cpulist")
		}
	}
	slices.Sort(files)
	return files
}

// readCapture reads the snapshot files present under root (/sys for the
// running machine); missing or unreadable ones are skipped.
func readCapture(root string) (map[string][]byte, []string, error) {
	if _, err := os.Stat(filepath.Join(root, sysCPU, "possible")); err != nil {
		return nil, nil, fmt.Errorf("%s is not a sysfs root: %w", root, err)
	}
	data := map[string][]byte{}
	var names []string
	for _, f := range captureFiles(root) {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue
		}
		data[f] = b
		names = append(names, f)
	}
	return data, names, nil
}

// CaptureDir writes a snapshot of the sysfs tree at root (normally /sys)
// into the directory out, laid out as out/sys/devices/....
func CaptureDir(root, out string) error {
	data, names, err := readCapture(root)
	if err != nil {
		return err
	}
	for _, n := range names {
		p := filepath.Join(out, "sys", filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// CaptureTar writes a snapshot of the sysfs tree at root (normally /sys) to
// w as a gzip-compressed tarball with entries sys/devices/..., in sorted
// order with fixed times and owners, so the same topology gives the same
// bytes.
func CaptureTar(root string, w io.Writer) error {
	data, names, err := readCapture(root)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		h := &tar.Header{Name: "sys/" + n, Mode: 0o644, Size: int64(len(data[n])), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(data[n]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// Load reads a machine from arg: a compact spec ("2x2x8x2", numbered by
// num), a sysfs snapshot directory (or /sys), a snapshot tarball (.tar,
// .tar.gz, .tgz, or any tar/gzip content) or a YAML/JSON file.
func Load(arg string, num Numbering) (*Machine, error) {
	if sp, err := ParseSpec(arg); err == nil {
		return sp.Machine(num)
	}
	st, err := os.Stat(arg)
	if err != nil {
		if isSpecLike(arg) {
			_, perr := ParseSpec(arg)
			return nil, perr
		}
		return nil, fmt.Errorf("topology %q is neither a spec (NODESxLLCSxCORESxTHREADS) nor a readable path: %w", arg, err)
	}
	if st.IsDir() {
		return LoadSysfsDir(arg)
	}
	data, err := os.ReadFile(arg)
	if err != nil {
		return nil, err
	}
	if isTarball(arg, data) {
		m, err := ParseSysfsTar(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arg, err)
		}
		return m, nil
	}
	m, err := ParseFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	return m, nil
}

// isSpecLike reports whether s looks like an attempted compact spec, to
// give the spec's error instead of a file-not-found one.
func isSpecLike(s string) bool {
	return strings.Count(strings.ToLower(s), "x") >= 1 && strings.Trim(strings.ToLower(s), "0123456789x") == ""
}

func isTarball(name string, data []byte) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		return true
	}
	return len(data) >= 262 && string(data[257:262]) == "ustar"
}
