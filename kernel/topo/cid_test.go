package topo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// row is one cid's expected scx_cid_topo, in field order: core_cid,
// core_idx, llc_cid, llc_idx, node_cid, node_idx, shard_cid, shard_idx.
type row = [8]int32

// neg is a no-topology row in shard (cid, idx).
func neg(shardCid, shardIdx int32) row { return row{-1, -1, -1, -1, -1, -1, shardCid, shardIdx} }

type cidCase struct {
	name      string
	machine   func(t *testing.T) *Machine
	shardSize uint32
	// Expected tables, derived by hand from the walk rules (node by node,
	// LLC by LLC, core by core, lowest cpu first; shards balanced by cores
	// within each LLC; offline cpus in the tail).
	cidToCPU  []int
	topo      []row
	shards    []Shard
	shardNode []int
	warnings  []string
}

func specMachine(spec string, num Numbering) func(*testing.T) *Machine {
	return func(t *testing.T) *Machine {
		t.Helper()
		sp, err := ParseSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		m, err := sp.Machine(num)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
}

func fileMachine(yaml string) func(*testing.T) *Machine {
	return func(t *testing.T) *Machine {
		t.Helper()
		m, err := ParseFile([]byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
}

func cidCases() []cidCase {
	return []cidCase{
		{
			name:      "1 cpu",
			machine:   specMachine("1x1x1x1", Linear),
			cidToCPU:  []int{0},
			topo:      []row{{0, 0, 0, 0, 0, 0, 0, 0}},
			shards:    []Shard{{0, 1}},
			shardNode: []int{0},
		},
		{
			name:     "smt off",
			machine:  specMachine("1x1x4x1", Linear),
			cidToCPU: []int{0, 1, 2, 3},
			topo: []row{
				{0, 0, 0, 0, 0, 0, 0, 0},
				{1, 1, 0, 0, 0, 0, 0, 0},
				{2, 2, 0, 0, 0, 0, 0, 0},
				{3, 3, 0, 0, 0, 0, 0, 0},
			},
			shards:    []Shard{{0, 4}},
			shardNode: []int{0},
		},
		{
			name:     "smt on linear",
			machine:  specMachine("1x1x4x2", Linear),
			cidToCPU: []int{0, 1, 2, 3, 4, 5, 6, 7},
			topo: []row{
				{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
				{2, 1, 0, 0, 0, 0, 0, 0}, {2, 1, 0, 0, 0, 0, 0, 0},
				{4, 2, 0, 0, 0, 0, 0, 0}, {4, 2, 0, 0, 0, 0, 0, 0},
				{6, 3, 0, 0, 0, 0, 0, 0}, {6, 3, 0, 0, 0, 0, 0, 0},
			},
			shards:    []Shard{{0, 8}},
			shardNode: []int{0},
		},
		{
			// Sibling of cpu i is i+4: each core's two cids are cpus i, i+4.
			name:     "smt on x86 numbering",
			machine:  specMachine("1x1x4x2", X86),
			cidToCPU: []int{0, 4, 1, 5, 2, 6, 3, 7},
			topo: []row{
				{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
				{2, 1, 0, 0, 0, 0, 0, 0}, {2, 1, 0, 0, 0, 0, 0, 0},
				{4, 2, 0, 0, 0, 0, 0, 0}, {4, 2, 0, 0, 0, 0, 0, 0},
				{6, 3, 0, 0, 0, 0, 0, 0}, {6, 3, 0, 0, 0, 0, 0, 0},
			},
			shards:    []Shard{{0, 8}},
			shardNode: []int{0},
		},
		{
			// 8 cores, core g = threads {g, g+8}; node 0 holds cores 0-3
			// (LLC 0: cores 0-1, LLC 1: cores 2-3), node 1 cores 4-7.
			name:     "two nodes two llcs per node x86",
			machine:  specMachine("2x2x2x2", X86),
			cidToCPU: []int{0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15},
			topo: []row{
				{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
				{2, 1, 0, 0, 0, 0, 0, 0}, {2, 1, 0, 0, 0, 0, 0, 0},
				{4, 2, 4, 1, 0, 0, 4, 1}, {4, 2, 4, 1, 0, 0, 4, 1},
				{6, 3, 4, 1, 0, 0, 4, 1}, {6, 3, 4, 1, 0, 0, 4, 1},
				{8, 4, 8, 2, 8, 1, 8, 2}, {8, 4, 8, 2, 8, 1, 8, 2},
				{10, 5, 8, 2, 8, 1, 8, 2}, {10, 5, 8, 2, 8, 1, 8, 2},
				{12, 6, 12, 3, 8, 1, 12, 3}, {12, 6, 12, 3, 8, 1, 12, 3},
				{14, 7, 12, 3, 8, 1, 12, 3}, {14, 7, 12, 3, 8, 1, 12, 3},
			},
			shards:    []Shard{{0, 4}, {4, 4}, {8, 4}, {12, 4}},
			shardNode: []int{0, 0, 1, 1},
		},
		{
			// One physical LLC over both nodes, nodes interleaved: the
			// walk splits it into one LLC unit per node.
			name: "llc straddling two nodes",
			machine: fileMachine(`
cpus:
  - {cpus: "0,2,4,6", node: 0, llc: 0}
  - {cpus: "1,3,5,7", node: 1, llc: 0}
`),
			cidToCPU: []int{0, 2, 4, 6, 1, 3, 5, 7},
			topo: []row{
				{0, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0, 0, 0},
				{2, 2, 0, 0, 0, 0, 0, 0}, {3, 3, 0, 0, 0, 0, 0, 0},
				{4, 4, 4, 1, 4, 1, 4, 1}, {5, 5, 4, 1, 4, 1, 4, 1},
				{6, 6, 4, 1, 4, 1, 4, 1}, {7, 7, 4, 1, 4, 1, 4, 1},
			},
			shards:    []Shard{{0, 4}, {4, 4}},
			shardNode: []int{0, 1},
		},
		{
			// Cores of 2, 1, 4 and 1 threads, shard size 3: 8 cpus and 4
			// cores make ceil(8/3)=3 shards of 4/3=1 core, the first
			// 4%3=1 of them taking 2. Shard 0 takes cores A and B (3
			// cids), shard 1 core C (4 cids: a core is never split),
			// shard 2 core D.
			name: "uneven smt",
			machine: fileMachine(`
cpus:
  - {cpus: "0-1", core: 10, llc: 0}
  - {cpus: "2", core: 11, llc: 0}
  - {cpus: "3-6", core: 12, llc: 0}
  - {cpus: "7", core: 13, llc: 0}
`),
			shardSize: 3,
			cidToCPU:  []int{0, 1, 2, 3, 4, 5, 6, 7},
			topo: []row{
				{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
				{2, 1, 0, 0, 0, 0, 0, 0},
				{3, 2, 0, 0, 0, 0, 3, 1}, {3, 2, 0, 0, 0, 0, 3, 1},
				{3, 2, 0, 0, 0, 0, 3, 1}, {3, 2, 0, 0, 0, 0, 3, 1},
				{7, 3, 0, 0, 0, 0, 7, 2},
			},
			shards:    []Shard{{0, 3}, {3, 4}, {7, 1}},
			shardNode: []int{0, 0, 0},
		},
		{
			// 4 cores of 4 threads, shard size 7: ceil(16/7)=3 shards of
			// 4/3=1 core, the first taking 2 - but 2 cores are 8 cids,
			// over the 7-cid cap, so core 1 opens a shard of its own and
			// every core ends up alone: 4 shards.
			name:      "cid cap splits shards",
			machine:   specMachine("1x1x4x4", Linear),
			shardSize: 7,
			cidToCPU:  []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
			topo: []row{
				{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
				{4, 1, 0, 0, 0, 0, 4, 1}, {4, 1, 0, 0, 0, 0, 4, 1}, {4, 1, 0, 0, 0, 0, 4, 1}, {4, 1, 0, 0, 0, 0, 4, 1},
				{8, 2, 0, 0, 0, 0, 8, 2}, {8, 2, 0, 0, 0, 0, 8, 2}, {8, 2, 0, 0, 0, 0, 8, 2}, {8, 2, 0, 0, 0, 0, 8, 2},
				{12, 3, 0, 0, 0, 0, 12, 3}, {12, 3, 0, 0, 0, 0, 12, 3}, {12, 3, 0, 0, 0, 0, 12, 3}, {12, 3, 0, 0, 0, 0, 12, 3},
			},
			shards:    []Shard{{0, 4}, {4, 4}, {8, 4}, {12, 4}},
			shardNode: []int{0, 0, 0, 0},
		},
		{
			// Possible ids 0-1,4-5,8,10: nr_cpu_ids 11, six cids.
			name: "sparse possible ids",
			machine: fileMachine(`
cpus:
  - {cpus: "0-1,4-5", llc: 0, threads: 2}
  - {cpus: "8,10", llc: 0}
`),
			cidToCPU: []int{0, 1, 4, 5, 8, 10},
			topo: []row{
				{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
				{2, 1, 0, 0, 0, 0, 0, 0}, {2, 1, 0, 0, 0, 0, 0, 0},
				{4, 2, 0, 0, 0, 0, 0, 0}, {5, 3, 0, 0, 0, 0, 0, 0},
			},
			shards:    []Shard{{0, 6}},
			shardNode: []int{0},
		},
		{
			// Cores {0,1} {2,3} {4,5} {6,7} with 2, 3 and 6 offline:
			// core {2,3} disappears, 7 is a core alone, and 2, 3, 6
			// form the no-topology tail in their own shard.
			name: "offline cpus in the tail",
			machine: fileMachine(`
spec: 1x1x4x2
offline: "2-3,6"
`),
			cidToCPU: []int{0, 1, 4, 5, 7, 2, 3, 6},
			topo: []row{
				{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
				{2, 1, 0, 0, 0, 0, 0, 0}, {2, 1, 0, 0, 0, 0, 0, 0},
				{4, 2, 0, 0, 0, 0, 0, 0},
				neg(5, 1), neg(5, 1), neg(5, 1),
			},
			shards:    []Shard{{0, 5}, {5, 3}},
			shardNode: []int{0, -1},
		},
		{
			// 16 cpus, 8 cores, shard size 6: ceil(16/6)=3 shards of
			// 8/3=2 cores, the first 8%3=2 taking 3: 6, 6 and 4 cids.
			name:      "shard smaller than the llc",
			machine:   specMachine("1x1x8x2", Linear),
			shardSize: 6,
			cidToCPU:  []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
			topo: []row{
				{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
				{2, 1, 0, 0, 0, 0, 0, 0}, {2, 1, 0, 0, 0, 0, 0, 0},
				{4, 2, 0, 0, 0, 0, 0, 0}, {4, 2, 0, 0, 0, 0, 0, 0},
				{6, 3, 0, 0, 0, 0, 6, 1}, {6, 3, 0, 0, 0, 0, 6, 1},
				{8, 4, 0, 0, 0, 0, 6, 1}, {8, 4, 0, 0, 0, 0, 6, 1},
				{10, 5, 0, 0, 0, 0, 6, 1}, {10, 5, 0, 0, 0, 0, 6, 1},
				{12, 6, 0, 0, 0, 0, 12, 2}, {12, 6, 0, 0, 0, 0, 12, 2},
				{14, 7, 0, 0, 0, 0, 12, 2}, {14, 7, 0, 0, 0, 0, 12, 2},
			},
			shards:    []Shard{{0, 6}, {6, 6}, {12, 4}},
			shardNode: []int{0, 0, 0},
		},
		{
			// Cpu 3 has no NUMA node: it lands in the tail although
			// online. Cpus 4-5 have no cacheinfo: their LLC is their
			// node's cpus, which also takes in the rest of node 1.
			name: "no numa info and no cacheinfo",
			machine: fileMachine(`
cpus:
  - {cpus: "0-2", node: 0, llc: 0}
  - {cpus: "3", node: -1, llc: 0}
  - {cpus: "4-5", node: 1}
  - {cpus: "6", node: 1, llc: 7}
`),
			cidToCPU: []int{0, 1, 2, 4, 5, 6, 3},
			topo: []row{
				{0, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0, 0, 0}, {2, 2, 0, 0, 0, 0, 0, 0},
				{3, 3, 3, 1, 3, 1, 3, 1}, {4, 4, 3, 1, 3, 1, 3, 1}, {5, 5, 3, 1, 3, 1, 3, 1},
				neg(6, 2),
			},
			shards:    []Shard{{0, 3}, {3, 3}, {6, 1}},
			shardNode: []int{0, 1, -1},
			warnings: []string{
				"scx_cid: cpus without cacheinfo, using node mask as llc: 4",
				"scx_cid: online cpus with no usable topology: 3",
			},
		},
		{
			// Mixed core types: 2 SMT big cores and 4 single-thread little
			// cores in separate LLCs.
			name: "mixed core types",
			machine: fileMachine(`
cpus:
  - {cpus: "0-3", llc: 0, threads: 2, type: big}
  - {cpus: "4-7", llc: 1, capacity: 400, type: little}
`),
			cidToCPU: []int{0, 1, 2, 3, 4, 5, 6, 7},
			topo: []row{
				{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
				{2, 1, 0, 0, 0, 0, 0, 0}, {2, 1, 0, 0, 0, 0, 0, 0},
				{4, 2, 4, 1, 0, 0, 4, 1}, {5, 3, 4, 1, 0, 0, 4, 1},
				{6, 4, 4, 1, 0, 0, 4, 1}, {7, 5, 4, 1, 0, 0, 4, 1},
			},
			shards:    []Shard{{0, 4}, {4, 4}},
			shardNode: []int{0, 0},
		},
	}
}

func topoRow(t CidTopo) row {
	return row{t.CoreCid, t.CoreIdx, t.LLCCid, t.LLCIdx, t.NodeCid, t.NodeIdx, t.ShardCid, t.ShardIdx}
}

// checkTable compares a table with the expected cid->cpu map, topology,
// shards and shard nodes, and checks the derived lookups agree.
func checkTable(t *testing.T, m *Machine, tbl *CidTable, cidToCPU []int, topo []row, shards []Shard, shardNode []int) {
	t.Helper()
	if tbl.NrCids() != len(cidToCPU) {
		t.Fatalf("NrCids %d, want %d", tbl.NrCids(), len(cidToCPU))
	}
	for cid, cpu := range cidToCPU {
		if got := tbl.CPU(cid); got != cpu {
			t.Fatalf("cid %d -> cpu %d, want %d", cid, got, cpu)
		}
		if got, err := tbl.CidToCPU(cid); err != nil || got != cpu {
			t.Fatalf("CidToCPU(%d) = %d, %v", cid, got, err)
		}
		if got, err := tbl.CPUToCid(cpu); err != nil || got != cid {
			t.Fatalf("CPUToCid(%d) = %d, %v; want %d", cpu, got, err, cid)
		}
		if got := topoRow(tbl.Topo(cid)); got != topo[cid] {
			t.Fatalf("topo[%d] = %v, want %v", cid, got, topo[cid])
		}
		if got := tbl.ShardOf(cid); got != int(topo[cid][7]) {
			t.Fatalf("ShardOf(%d) = %d, want %d", cid, got, topo[cid][7])
		}
	}
	for cpu := range tbl.NrCPUIDs() {
		if !m.Possible(cpu) {
			if tbl.Cid(cpu) != -1 {
				t.Fatalf("hole cpu %d has cid %d", cpu, tbl.Cid(cpu))
			}
			if _, err := tbl.CPUToCid(cpu); err == nil || err.Error() != fmt.Sprintf("invalid CPU %d", cpu) {
				t.Fatalf("CPUToCid(hole %d) error %v", cpu, err)
			}
		}
	}
	if tbl.NrShards() != len(shards) {
		t.Fatalf("NrShards %d, want %d", tbl.NrShards(), len(shards))
	}
	for i, s := range shards {
		if tbl.Shard(i) != s {
			t.Fatalf("shard %d = %+v, want %+v", i, tbl.Shard(i), s)
		}
		if tbl.ShardNode(i) != shardNode[i] {
			t.Fatalf("shard %d node %d, want %d", i, tbl.ShardNode(i), shardNode[i])
		}
	}
}

func TestCidTables(t *testing.T) {
	for _, c := range cidCases() {
		t.Run(c.name, func(t *testing.T) {
			m := c.machine(t)
			tbl, err := NewCidTable(m, c.shardSize)
			if err != nil {
				t.Fatal(err)
			}
			checkTable(t, m, tbl, c.cidToCPU, c.topo, c.shards, c.shardNode)
			if !slices.Equal(tbl.Warnings(), c.warnings) {
				t.Fatalf("warnings %q, want %q", tbl.Warnings(), c.warnings)
			}
		})
	}
}

// bigCase derives the tables of a regular spec machine by formula: the
// walk visits cores in global core order and a core's threads in thread
// order; the shards of each LLC follow the balanced split.
func bigCase(t *testing.T, spec string, num Numbering, shardSize uint32) {
	sp, err := ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sp.Machine(num)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := NewCidTable(m, shardSize)
	if err != nil {
		t.Fatal(err)
	}
	T, C, L := sp.Threads, sp.Cores, sp.LLCs
	nrCores := sp.Nodes * L * C
	llcCPUs := C * T
	ss := int(shardSize)
	if ss == 0 {
		ss = ShardSizeDefault
	}
	nrShards := max(1, (llcCPUs+ss-1)/ss, (llcCPUs+ShardMaxCPUs-1)/ShardMaxCPUs)
	perShard, large := C/nrShards, C%nrShards
	// Shard of the k-th core of an LLC and the first core of each shard.
	var shardOfCore, shardFirstCore []int
	for s := range nrShards {
		shardFirstCore = append(shardFirstCore, len(shardOfCore))
		n := perShard
		if s < large {
			n++
		}
		for range n {
			shardOfCore = append(shardOfCore, s)
		}
	}
	var cidToCPU []int
	var topo []row
	var shards []Shard
	var shardNode []int
	for cid := range sp.NumCPUs() {
		g, th := cid/T, cid%T // global core, thread
		cpu := g*T + th
		if num == X86 {
			cpu = th*nrCores + g
		}
		cidToCPU = append(cidToCPU, cpu)
		llc := g / C
		node := llc / L
		s := shardOfCore[g%C]
		shardIdx := llc*nrShards + s
		shardCid := (llc*C + shardFirstCore[s]) * T
		topo = append(topo, row{int32(g * T), int32(g), int32(llc * C * T), int32(llc),
			int32(node * L * C * T), int32(node), int32(shardCid), int32(shardIdx)})
		if len(shards) == shardIdx {
			shards = append(shards, Shard{int32(shardCid), 0})
			shardNode = append(shardNode, node)
		}
		shards[shardIdx].NrCids++
	}
	checkTable(t, m, tbl, cidToCPU, topo, shards, shardNode)
}

func TestCidTablesLarge(t *testing.T) {
	cases := []struct {
		spec      string
		num       Numbering
		shardSize uint32
	}{
		{"2x4x64x2", Linear, 0},     // 1024 cpus, 6 shards of 22,22,22,22,20,20 per LLC
		{"2x4x64x2", X86, 0},        // 1024 cpus, cid map far from identity
		{"2x4x64x2", X86, 16},       // shard smaller than an LLC
		{"1x1x600x1", Linear, 1000}, // shard size above the 512 cap
		{"4x2x16x4", X86, 12},       // 6 shards of 3,3,3,3,2,2 cores per LLC
		{"1x1x1024x8", Linear, 0},   // 8192 cpus, the limit
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s-%s-%d", c.spec, c.num, c.shardSize), func(t *testing.T) {
			bigCase(t, c.spec, c.num, c.shardSize)
		})
	}
	// Spot checks of the derivation itself on 1024 cpus.
	m, _ := Spec{2, 4, 64, 2}.Machine(X86)
	tbl, _ := NewCidTable(m, 0)
	if tbl.CPU(1) != 512 || tbl.Cid(512) != 1 || tbl.Cid(1) != 2 {
		t.Fatalf("x86 1024: cid1->%d cpu512->%d cpu1->%d", tbl.CPU(1), tbl.Cid(512), tbl.Cid(1))
	}
	if s := tbl.Shard(4); s != (Shard{88, 20}) {
		t.Fatalf("shard 4 = %+v, want {88 20}", s)
	}
}

func TestCidTableShardCap(t *testing.T) {
	// 600 cpus in one LLC with shard size 1000: capped at 512, split in 2
	// shards of 300 cores.
	m, _ := Spec{1, 1, 600, 1}.Machine(Linear)
	tbl, err := NewCidTable(m, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if tbl.NrShards() != 2 || tbl.Shard(0) != (Shard{0, 300}) || tbl.Shard(1) != (Shard{300, 300}) {
		t.Fatalf("shards %d: %+v %+v", tbl.NrShards(), tbl.Shard(0), tbl.Shard(1))
	}
	// 30 offline cpus with shard size 24: tail shards of 24 and 6.
	f := &File{Spec: "1x1x32x1", Offline: "2-31"}
	m, err = f.Machine()
	if err != nil {
		t.Fatal(err)
	}
	tbl, _ = NewCidTable(m, 0)
	want := []Shard{{0, 2}, {2, 24}, {26, 6}}
	for i, s := range want {
		if tbl.Shard(i) != s {
			t.Fatalf("shard %d = %+v, want %+v", i, tbl.Shard(i), s)
		}
	}
	if tbl.NrShards() != 3 || tbl.Topo(27) != (CidTopo{-1, -1, -1, -1, -1, -1, 26, 2}) {
		t.Fatalf("tail: %d shards, topo %+v", tbl.NrShards(), tbl.Topo(27))
	}
}

func TestCidLookupErrors(t *testing.T) {
	m, _ := Spec{1, 1, 2, 2}.Machine(Linear)
	tbl, _ := NewCidTable(m, 0)
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"cid -1", func() error { _, err := tbl.CidToCPU(-1); return err }, "invalid cid -1"},
		{"cid 4", func() error { _, err := tbl.CidToCPU(4); return err }, "invalid cid 4"},
		{"cpu 4", func() error { _, err := tbl.CPUToCid(4); return err }, "invalid CPU 4"},
		{"cpu -2", func() error { _, err := tbl.CPUToCid(-2); return err }, "invalid CPU -2"},
	}
	for _, c := range cases {
		err := c.call()
		var se *Error
		if !errors.As(err, &se) || se.Msg != c.want {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if tbl.Topo(9) != cidTopoNeg || tbl.CPU(9) != -1 || tbl.Cid(99) != -1 || tbl.ShardOf(-1) != -1 {
		t.Error("out-of-range lookups must give -1")
	}
	var b [CidTopoSize]byte
	CidTopo{1, 2, 3, 4, 5, 6, 7, -1}.PutBytes(b[:])
	if b[0] != 1 || b[24] != 7 || b[28] != 0xff || b[31] != 0xff {
		t.Errorf("PutBytes % x", b)
	}
}

func TestOverride(t *testing.T) {
	// 2 nodes of 4 cpus, one core each.
	newTbl := func() (*Machine, *CidTable) {
		m, _ := Spec{2, 1, 4, 1}.Machine(Linear)
		tbl, _ := NewCidTable(m, 0)
		return m, tbl
	}
	m, tbl := newTbl()
	// Reverse order; shards [0,3) [3,8): shard 0 = cids 0-2 = cpus 7,6,5
	// (node 1); shard 1 = cpus 4,3,2,1,0: 1 on node 1, 4 on node 0.
	if err := tbl.Override([]int32{7, 6, 5, 4, 3, 2, 1, 0}, []int32{0, 3}); err != nil {
		t.Fatal(err)
	}
	var topo []row
	for cid := range 8 {
		if cid < 3 {
			topo = append(topo, neg(0, 0))
		} else {
			topo = append(topo, neg(3, 1))
		}
	}
	checkTable(t, m, tbl, []int{7, 6, 5, 4, 3, 2, 1, 0}, topo, []Shard{{0, 3}, {3, 5}}, []int{1, 0})

	// Invalid inputs: the kernel's message, tables untouched.
	cases := []struct {
		name       string
		cpuToCid   []byte
		shardStart []byte
		want       string
	}{
		{"short cpu_to_cid", s32(0, 1, 2, 3, 4, 5, 6), s32(0), "scx_bpf_cid_override: cpu_to_cid expected 32 bytes, got 28"},
		{"no shards", s32(0, 1, 2, 3, 4, 5, 6, 7), nil, "scx_bpf_cid_override: invalid shard_start size 0"},
		{"ragged shards", s32(0, 1, 2, 3, 4, 5, 6, 7), []byte{0, 0, 0, 0, 1, 0}, "scx_bpf_cid_override: invalid shard_start size 6"},
		{"first shard", s32(0, 1, 2, 3, 4, 5, 6, 7), s32(1, 4), "scx_bpf_cid_override: shard_start[0] must be 0, got 1"},
		{"not increasing", s32(0, 1, 2, 3, 4, 5, 6, 7), s32(0, 4, 4), "scx_bpf_cid_override: shard_start not increasing at [2]"},
		{"shard beyond", s32(0, 1, 2, 3, 4, 5, 6, 7), s32(0, 8), "scx_bpf_cid_override: shard_start[1]=8 >= 8"},
		{"cid beyond", s32(0, 1, 2, 3, 4, 5, 6, 8), s32(0), "invalid cid 8"},
		{"negative cid", s32(-1, 1, 2, 3, 4, 5, 6, 7), s32(0), "invalid cid -1"},
		{"duplicate", s32(0, 1, 2, 3, 3, 5, 6, 7), s32(0), "cid 3 assigned to multiple cpus"},
	}
	for _, c := range cases {
		_, tbl := newTbl()
		before := *tbl
		before.cidToCPU, before.topo = slices.Clone(tbl.cidToCPU), slices.Clone(tbl.topo)
		err := tbl.OverrideBytes(c.cpuToCid, c.shardStart)
		var se *Error
		if !errors.As(err, &se) || se.Msg != c.want {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
			continue
		}
		if !slices.Equal(before.cidToCPU, tbl.cidToCPU) || !slices.Equal(before.topo, tbl.topo) || tbl.NrShards() != 2 {
			t.Errorf("%s: tables changed by a rejected override", c.name)
		}
	}

	// Span limits need more than 512 cids.
	big, _ := Spec{1, 1, 1024, 1}.Machine(Linear)
	bt, _ := NewCidTable(big, 0)
	ident := make([]int32, 1024)
	for i := range ident {
		ident[i] = int32(i)
	}
	for _, c := range []struct {
		starts []int32
		want   string
	}{
		{[]int32{0, 513}, "scx_bpf_cid_override: shard[0] span 513 exceeds max 512"},
		{[]int32{0}, "scx_bpf_cid_override: shard[0] span 1024 exceeds max 512"},
		{[]int32{0, 100, 511}, "scx_bpf_cid_override: shard[2] span 513 exceeds max 512"},
	} {
		if err := bt.Override(ident, c.starts); err == nil || err.Error() != c.want {
			t.Errorf("starts %v: error %v, want %q", c.starts, err, c.want)
		}
	}
	if err := bt.Override(ident, []int32{0, 512}); err != nil {
		t.Errorf("two 512-cid shards rejected: %v", err)
	}

	// Sparse ids: entries of impossible cpus are ignored.
	sm, _ := ParseFile([]byte(`cpus: [{cpus: "0,2,5"}]`))
	st, _ := NewCidTable(sm, 0)
	if err := st.Override([]int32{2, 99, 0, -7, 42, 1}, []int32{0}); err != nil {
		t.Fatal(err)
	}
	if st.Cid(0) != 2 || st.Cid(2) != 0 || st.Cid(5) != 1 || st.Cid(1) != -1 || st.CPU(1) != 5 {
		t.Fatalf("sparse override: cpu0->%d cpu2->%d cpu5->%d", st.Cid(0), st.Cid(2), st.Cid(5))
	}
}

func s32(v ...int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(x), byte(x>>8), byte(x>>16), byte(x>>24)
	}
	return b
}

func TestCidTableInvariantsRandomFiles(t *testing.T) {
	// Irregular machines from a seeded generator: the mapping is a
	// bijection, units are contiguous cid ranges, shards respect the cap.
	for seed := range uint64(200) {
		y := randomFile(seed)
		m, err := ParseFile([]byte(y))
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, y)
		}
		for _, ss := range []uint32{0, 1, 5, 600} {
			tbl, err := NewCidTable(m, ss)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkInvariants(m, tbl); err != nil {
				t.Fatalf("seed %d shard %d: %v\n%s", seed, ss, err, y)
			}
		}
	}
}

// checkInvariants verifies properties every cid table has.
func checkInvariants(m *Machine, tbl *CidTable) error {
	np := m.NumPossible()
	seen := make([]bool, m.NrCPUIDs())
	for cid := range np {
		cpu := tbl.CPU(cid)
		if !m.Possible(cpu) || seen[cpu] || tbl.Cid(cpu) != cid {
			return fmt.Errorf("cid %d -> cpu %d is not a bijection", cid, cpu)
		}
		seen[cpu] = true
		tp := tbl.Topo(cid)
		if (cid < tbl.NrTopoCids()) != (tp.CoreCid >= 0) {
			return fmt.Errorf("cid %d: topo %+v vs %d topo cids", cid, tp, tbl.NrTopoCids())
		}
		if tp.CoreCid >= 0 {
			if !m.Online(cpu) {
				return fmt.Errorf("offline cpu %d has topology", cpu)
			}
			if !(tp.NodeCid <= tp.LLCCid && tp.LLCCid <= tp.CoreCid && tp.CoreCid <= int32(cid)) {
				return fmt.Errorf("cid %d: unit starts out of order %+v", cid, tp)
			}
			if c, _ := m.CPU(cpu); !slices.Contains(m.Siblings(tbl.CPU(int(tp.CoreCid))), cpu) && c.Core >= 0 {
				return fmt.Errorf("cid %d: core start is not a sibling", cid)
			}
		}
		s := tbl.Shard(int(tp.ShardIdx))
		if tbl.ShardOf(cid) != int(tp.ShardIdx) || s.BaseCid != tp.ShardCid || int32(cid) < s.BaseCid || int32(cid) >= s.BaseCid+s.NrCids {
			return fmt.Errorf("cid %d: shard %+v of %+v", cid, s, tp)
		}
		if cid > 0 {
			prev := tbl.Topo(cid - 1)
			if tp.CoreIdx >= 0 && prev.CoreIdx >= 0 && tp.CoreIdx != prev.CoreIdx && tp.CoreCid != int32(cid) {
				return fmt.Errorf("cid %d: core not contiguous", cid)
			}
		}
	}
	total := 0
	for i := range tbl.NrShards() {
		s := tbl.Shard(i)
		if s.NrCids < 1 || s.BaseCid != int32(total) {
			return fmt.Errorf("shard %d %+v not contiguous", i, s)
		}
		// Only a single core (never split) may exceed the cap.
		if first := tbl.Topo(int(s.BaseCid)); s.NrCids > ShardMaxCPUs &&
			(first.CoreCid < 0 || tbl.Topo(int(s.BaseCid+s.NrCids-1)).CoreIdx != first.CoreIdx) {
			return fmt.Errorf("shard %d has %d cids", i, s.NrCids)
		}
		total += int(s.NrCids)
	}
	if total != np {
		return fmt.Errorf("shards cover %d of %d cids", total, np)
	}
	return nil
}

// randomFile writes a random irregular machine description.
func randomFile(seed uint64) string {
	r := newRand(seed)
	var b strings.Builder
	b.WriteString("cpus:\n")
	id := 0
	var ids []int
	for g := range 1 + r.IntN(6) {
		id += r.IntN(3) // holes
		threads := 1 + r.IntN(3)
		n := threads * (1 + r.IntN(5))
		for c := id; c < id+n; c++ {
			ids = append(ids, c)
		}
		fmt.Fprintf(&b, "  - {cpus: \"%d-%d\", node: %d, llc: %d, threads: %d, capacity: %d}\n",
			id, id+n-1, r.IntN(3)-1+boolInt(g == 0), r.IntN(4)-1, threads, 1+r.IntN(1024))
		id += n
	}
	var off []string
	for _, c := range ids[1:] {
		if r.IntN(5) == 0 {
			off = append(off, fmt.Sprint(c))
		}
	}
	if len(off) > 0 {
		fmt.Fprintf(&b, "set: [{cpus: \"%s\", online: false}]\n", strings.Join(off, ","))
	}
	return b.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }
