package topo

import (
	"encoding/binary"
	"fmt"
)

// Shard constants, enum scx_cid_consts.
const (
	ShardSizeDefault = 24  // SCX_CID_SHARD_SIZE_DFL: cids per shard when ops.cid_shard_size is 0
	ShardMaxCPUs     = 512 // SCX_CID_SHARD_MAX_CPUS: hard cap on a shard's cids
)

// Error is an error the kernel raises with scx_error(): the sched_ext core
// aborts the scheduler with Msg as the exit reason.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func scxError(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// CidTopo is struct scx_cid_topo: for one cid, the first cid and the global
// index of its core, LLC, node and shard. Indices are dense and assigned in
// cid order. No-topology cids have -1 in the core, LLC and node fields but a
// valid shard.
type CidTopo struct {
	CoreCid, CoreIdx   int32
	LLCCid, LLCIdx     int32
	NodeCid, NodeIdx   int32
	ShardCid, ShardIdx int32
}

// CidTopoSize is sizeof(struct scx_cid_topo).
const CidTopoSize = 32

// cidTopoNeg is SCX_CID_TOPO_NEG.
var cidTopoNeg = CidTopo{-1, -1, -1, -1, -1, -1, -1, -1}

// PutBytes writes t to b in the C struct's little-endian layout (what
// scx_bpf_cid_topo() copies out). b must hold CidTopoSize bytes.
func (t CidTopo) PutBytes(b []byte) {
	for i, v := range [8]int32{t.CoreCid, t.CoreIdx, t.LLCCid, t.LLCIdx, t.NodeCid, t.NodeIdx, t.ShardCid, t.ShardIdx} {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
}

// Shard is struct scx_cid_shard: a shard's contiguous cid range.
type Shard struct {
	BaseCid int32
	NrCids  int32
}

// ShardStructSize is sizeof(struct scx_cid_shard).
const ShardStructSize = 8

// CidTable holds the cid tables of struct scx_cid_tables: cpu<->cid maps,
// per-cid topology and the shard layout. Lookups are O(1).
type CidTable struct {
	nrCPUIDs    int
	cidToCPU    []int32 // [num_possible]
	cpuToCid    []int32 // [nr_cpu_ids], -1 for ids that are not possible
	cidToShard  []int32 // [num_possible]
	shardNode   []int32 // [nr_shards], NUMA_NO_NODE (-1) if none
	shardRanges []Shard // [nr_shards]
	topo        []CidTopo

	cpuNode   []int32 // cpu_to_node() per cpu id, for the override's shard_node
	nrNodeIDs int

	shardSize                uint32
	nrTopoCids               int
	nrNodes, nrLLCs, nrCores int
	warnings                 []string
}

// NewCidTable builds the cid tables for m's online CPUs with the scheduler's
// shard size (ops.cid_shard_size; 0 selects ShardSizeDefault, values above
// ShardMaxCPUs are capped). Mirrors scx_cid_init().
//
// Online CPUs are walked node by node, then LLC by LLC within the node,
// then core by core within the LLC, each level being the intersection of
// what remains of its parent with the level's mask, so an LLC spanning two
// nodes becomes two LLC units. Each LLC is cut into shards of whole cores,
// balanced by core count. Possible CPUs that were not walked (offline, or
// without a node) get the tail cids with no topology, packed into shards of
// at most min(shard size, ShardMaxCPUs).
func NewCidTable(m *Machine, shardSize uint32) (*CidTable, error) {
	if shardSize == 0 {
		shardSize = ShardSizeDefault
	}
	maxCids := min(shardSize, ShardMaxCPUs)
	np, nrIDs := m.NumPossible(), m.NrCPUIDs()
	t := &CidTable{
		nrCPUIDs:   nrIDs,
		cidToCPU:   make([]int32, np),
		cpuToCid:   make([]int32, nrIDs),
		cidToShard: make([]int32, np),
		shardNode:  make([]int32, np),
		topo:       make([]CidTopo, np),
		cpuNode:    make([]int32, nrIDs),
		nrNodeIDs:  m.NrNodeIDs(),
		shardSize:  shardSize,
	}
	for i := range t.shardNode {
		t.shardNode[i] = -1
	}
	for cpu := range t.cpuToCid {
		t.cpuToCid[cpu] = -1 // sentinel for holes in the possible ids
		t.cpuNode[cpu] = -1
	}
	for _, c := range m.cpus {
		t.cpuNode[c.ID] = int32(c.Node)
	}

	w := newWalkMasks(m)
	toWalk := m.OnlineMask()
	nodeScratch, llcScratch, coreScratch := NewCPUMask(nrIDs), NewCPUMask(nrIDs), NewCPUMask(nrIDs)
	llcFallback := NewCPUMask(nrIDs)
	var nextCid, nextNode, nextLLC, nextCore, nextShard int32

	for !toWalk.Empty() {
		nextCPU := toWalk.First()
		nid := m.cpus[m.idx[nextCPU]].Node
		nodeCid := nextCid
		// No NUMA info: leave it to the no-topology tail.
		if nid < 0 {
			toWalk.Clear(nextCPU)
			continue
		}
		nodeIdx := nextNode
		nextNode++
		copy(nodeScratch, toWalk)
		nodeScratch.And(w.node[nid])
		if !nodeScratch.Test(nextCPU) {
			return nil, fmt.Errorf("scx_cid: cpu %d missing from node %d's mask", nextCPU, nid)
		}
		for !nodeScratch.Empty() {
			ncpu := nodeScratch.First()
			llcCid, llcIdx := nextCid, nextLLC
			nextLLC++
			copy(llcScratch, nodeScratch)
			llcScratch.And(w.llcMask(ncpu, llcFallback))
			if !llcScratch.Test(ncpu) {
				return nil, fmt.Errorf("scx_cid: cpu %d missing from its LLC mask", ncpu)
			}
			coresPerShard, nrLarge := w.shardLayout(llcScratch, shardSize)
			var shardLocal, coresInShard, cidsInShard uint32
			shardCid, shardIdx := nextCid, nextShard
			nextShard++
			t.shardNode[shardIdx] = int32(nid)

			for !llcScratch.Empty() {
				lcpu := llcScratch.First()
				coreCid, coreIdx := nextCid, nextCore
				nextCore++
				copy(coreScratch, llcScratch)
				coreScratch.And(w.sibMask(lcpu))
				if !coreScratch.Test(lcpu) {
					return nil, fmt.Errorf("scx_cid: cpu %d missing from its sibling mask", lcpu)
				}
				// A new shard starts when the current one has its
				// cores or the core would push it past maxCids (uneven
				// SMT); never an empty one.
				cidsInCore := uint32(coreScratch.Weight())
				maxCores := coresPerShard
				if shardLocal < nrLarge {
					maxCores++
				}
				if coresInShard > 0 && (coresInShard >= maxCores || cidsInShard+cidsInCore > maxCids) {
					shardLocal++
					coresInShard, cidsInShard = 0, 0
					shardCid, shardIdx = nextCid, nextShard
					nextShard++
					t.shardNode[shardIdx] = int32(nid)
				}
				coresInShard++
				cidsInShard += cidsInCore

				for ccpu := range coreScratch.CPUs() {
					cid := nextCid
					nextCid++
					t.cidToCPU[cid] = int32(ccpu)
					t.cpuToCid[ccpu] = cid
					t.cidToShard[cid] = shardIdx
					t.topo[cid] = CidTopo{coreCid, coreIdx, llcCid, llcIdx, int32(nodeCid), nodeIdx, shardCid, shardIdx}
					llcScratch.Clear(ccpu)
					nodeScratch.Clear(ccpu)
					toWalk.Clear(ccpu)
				}
			}
		}
	}
	t.nrTopoCids = int(nextCid)
	t.nrNodes, t.nrLLCs, t.nrCores = int(nextNode), int(nextLLC), int(nextCore)

	// The no-topology tail: every possible cpu still without a cid.
	notopoMax := min(shardSize, ShardMaxCPUs)
	notopoIn := notopoMax
	var notopoShardCid, notopoShardIdx int32 = -1, -1
	var onlineNoTopo []int
	for _, c := range m.cpus {
		if t.cpuToCid[c.ID] != -1 {
			continue
		}
		if c.Online {
			onlineNoTopo = append(onlineNoTopo, c.ID)
		}
		cid := nextCid
		nextCid++
		t.cidToCPU[cid] = int32(c.ID)
		t.cpuToCid[c.ID] = cid
		if notopoIn >= notopoMax {
			notopoShardCid, notopoShardIdx = cid, nextShard
			nextShard++
			notopoIn = 0
		}
		notopoIn++
		t.cidToShard[cid] = notopoShardIdx
		t.topo[cid] = cidTopoNeg
		t.topo[cid].ShardCid, t.topo[cid].ShardIdx = notopoShardCid, notopoShardIdx
	}

	if !llcFallback.Empty() {
		t.warnings = append(t.warnings, "scx_cid: cpus without cacheinfo, using node mask as llc: "+llcFallback.String())
	}
	if len(onlineNoTopo) > 0 {
		t.warnings = append(t.warnings, "scx_cid: online cpus with no usable topology: "+FormatCPUList(onlineNoTopo))
	}

	// Shards are contiguous cid ranges by construction.
	t.shardRanges = make([]Shard, nextShard)
	for cid := range nextCid {
		s := &t.shardRanges[t.cidToShard[cid]]
		if s.NrCids == 0 {
			s.BaseCid = cid
		}
		s.NrCids++
	}
	t.shardNode = t.shardNode[:nextShard]
	return t, nil
}

// walkMasks holds the topology masks scx_cid_init() reads: node masks
// (cpumask_of_node()), LLC masks (the last cacheinfo leaf's
// shared_cpu_map) and sibling masks (topology_sibling_cpumask(), which like
// the kernel's holds online CPUs only).
type walkMasks struct {
	m    *Machine
	node map[int]CPUMask
	llc  map[int]CPUMask // by LLC id
	core map[int]CPUMask // by core id
	own  CPUMask         // scratch for a cpu that is its own core
}

func newWalkMasks(m *Machine) *walkMasks {
	w := &walkMasks{m: m, node: map[int]CPUMask{}, llc: map[int]CPUMask{}, core: map[int]CPUMask{}}
	for _, n := range m.Nodes() {
		w.node[n] = m.maskOf(m.NodeCPUs(n))
	}
	for i, c := range m.cpus {
		if c.LLC >= 0 && w.llc[c.LLC] == nil {
			w.llc[c.LLC] = m.maskOf(m.llc[i])
		}
		if c.Core >= 0 && w.core[c.Core] == nil {
			mask := NewCPUMask(m.NrCPUIDs())
			for _, s := range m.core[i] {
				if m.Online(s) {
					mask.Set(s)
				}
			}
			w.core[c.Core] = mask
		}
	}
	w.own = NewCPUMask(m.NrCPUIDs())
	return w
}

// llcMask mirrors cpu_llc_mask(): the cpu's LLC mask, or, without cacheinfo,
// its node's mask with the cpu recorded in fallbacks.
func (w *walkMasks) llcMask(cpu int, fallbacks CPUMask) CPUMask {
	c := w.m.cpus[w.m.idx[cpu]]
	if c.LLC < 0 {
		fallbacks.Set(cpu)
		return w.node[c.Node]
	}
	return w.llc[c.LLC]
}

// sibMask is topology_sibling_cpumask(cpu) for an online cpu.
func (w *walkMasks) sibMask(cpu int) CPUMask {
	c := w.m.cpus[w.m.idx[cpu]]
	if c.Core < 0 {
		clear(w.own)
		w.own.Set(cpu)
		return w.own
	}
	return w.core[c.Core]
}

// shardLayout mirrors calc_shard_layout(): split the LLC's cpus into
// max(1, ceil(cpus/shardSize), ceil(cpus/ShardMaxCPUs)) shards and spread
// its cores evenly, the first nrLarge shards taking one core more.
func (w *walkMasks) shardLayout(llcCPUs CPUMask, shardSize uint32) (coresPerShard, nrLarge uint32) {
	var nrCores, nrCPUs uint32
	for cpu := range llcCPUs.CPUs() {
		nrCPUs++
		if w.sibMask(cpu).First() == cpu {
			nrCores++
		}
	}
	nrShards := max(1, (nrCPUs+shardSize-1)/shardSize, (nrCPUs+ShardMaxCPUs-1)/ShardMaxCPUs)
	return nrCores / nrShards, nrCores % nrShards
}

// NrCids is the number of cids, num_possible_cpus().
func (t *CidTable) NrCids() int { return len(t.cidToCPU) }

// NrCPUIDs is nr_cpu_ids, the size of the cpu->cid table.
func (t *CidTable) NrCPUIDs() int { return t.nrCPUIDs }

// NrTopoCids is the number of topology-annotated cids, the cpus online at
// init; cids from it on form the no-topology tail.
func (t *CidTable) NrTopoCids() int { return t.nrTopoCids }

// NrNodes, NrLLCs and NrCores are the node, LLC and core units the walk
// made (the ranges of the *_idx fields).
func (t *CidTable) NrNodes() int { return t.nrNodes }

// NrLLCs is the number of LLC units (see NrNodes).
func (t *CidTable) NrLLCs() int { return t.nrLLCs }

// NrCores is the number of cores (see NrNodes).
func (t *CidTable) NrCores() int { return t.nrCores }

// ShardSize is the requested shard size the table was built with.
func (t *CidTable) ShardSize() uint32 { return t.shardSize }

// Warnings returns what scx_cid_init() would pr_warn().
func (t *CidTable) Warnings() []string { return t.warnings }

// CidValid checks a cid that came from a BPF scheduler. Mirrors
// cid_valid().
func (t *CidTable) CidValid(cid int) error {
	if cid >= 0 && cid < len(t.cidToCPU) {
		return nil
	}
	return scxError("invalid cid %d", cid)
}

// CPUValid checks a cpu number that came from a BPF scheduler. Mirrors
// scx_cpu_valid() without the @where suffix.
func (t *CidTable) CPUValid(cpu int) error {
	if cpu >= 0 && cpu < t.nrCPUIDs && t.cpuToCid[cpu] >= 0 {
		return nil
	}
	return scxError("invalid CPU %d", cpu)
}

// CidToCPU translates a cid, failing with the kernel's error for an invalid
// one. Mirrors scx_cid_to_cpu().
func (t *CidTable) CidToCPU(cid int) (int, error) {
	if err := t.CidValid(cid); err != nil {
		return 0, err
	}
	return int(t.cidToCPU[cid]), nil
}

// CPUToCid translates a cpu, failing with the kernel's error for an invalid
// one. Mirrors scx_cpu_to_cid().
func (t *CidTable) CPUToCid(cpu int) (int, error) {
	if err := t.CPUValid(cpu); err != nil {
		return 0, err
	}
	return int(t.cpuToCid[cpu]), nil
}

// CPU is the unchecked cid->cpu lookup for validated cids; -1 outside the
// table. Mirrors __scx_cid_to_cpu().
func (t *CidTable) CPU(cid int) int {
	if cid < 0 || cid >= len(t.cidToCPU) {
		return -1
	}
	return int(t.cidToCPU[cid])
}

// Cid is the unchecked cpu->cid lookup; -1 for cpu ids that are not
// possible. Mirrors __scx_cpu_to_cid().
func (t *CidTable) Cid(cpu int) int {
	if cpu < 0 || cpu >= len(t.cpuToCid) {
		return -1
	}
	return int(t.cpuToCid[cpu])
}

// Topo returns cid's topology, all -1 for an invalid cid (scx_bpf_cid_topo()
// also raises CidValid's error then).
func (t *CidTable) Topo(cid int) CidTopo {
	if cid < 0 || cid >= len(t.topo) {
		return cidTopoNeg
	}
	return t.topo[cid]
}

// NrShards is scx_nr_cid_shards.
func (t *CidTable) NrShards() int { return len(t.shardRanges) }

// Shard returns shard idx's cid range (scx_cid_shard_ranges[idx]); the zero
// Shard for an index out of range.
func (t *CidTable) Shard(idx int) Shard {
	if idx < 0 || idx >= len(t.shardRanges) {
		return Shard{}
	}
	return t.shardRanges[idx]
}

// ShardOf returns cid's shard index (scx_cid_to_shard[cid]), -1 outside the
// table.
func (t *CidTable) ShardOf(cid int) int {
	if cid < 0 || cid >= len(t.cidToShard) {
		return -1
	}
	return int(t.cidToShard[cid])
}

// ShardNode returns shard idx's NUMA node (scx_shard_node[idx]), -1
// (NUMA_NO_NODE) for a no-topology shard or an index out of range.
func (t *CidTable) ShardNode(idx int) int {
	if idx < 0 || idx >= len(t.shardNode) {
		return -1
	}
	return int(t.shardNode[idx])
}
