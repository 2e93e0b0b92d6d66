package topo

import (
	"encoding/binary"
)

// OverrideBytes is scx_bpf_cid_override() with its arguments as the BPF
// program passes them: cpuToCid holds nr_cpu_ids little-endian s32 cids (one
// per cpu id) and shardStart the s32 first cid of each shard. See Override.
func (t *CidTable) OverrideBytes(cpuToCid, shardStart []byte) error {
	if len(cpuToCid) != t.nrCPUIDs*4 {
		return scxError("scx_bpf_cid_override: cpu_to_cid expected %d bytes, got %d", t.nrCPUIDs*4, len(cpuToCid))
	}
	if len(shardStart) == 0 || len(shardStart)%4 != 0 {
		return scxError("scx_bpf_cid_override: invalid shard_start size %d", len(shardStart))
	}
	return t.override(decodeS32(cpuToCid), decodeS32(shardStart))
}

func decodeS32(b []byte) []int32 {
	v := make([]int32, len(b)/4)
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// Override replaces the probed mapping with a scheduler-chosen one, as
// ops.init_cids() does through scx_bpf_cid_override(): cpuToCid[cpu] is the
// cid of each cpu id (nr_cpu_ids entries; entries of ids that are not
// possible are ignored) and shardStart the first cid of each shard, starting
// at 0 and strictly increasing, the last shard running to the end of cid
// space, no shard spanning more than ShardMaxCPUs cids. Every possible cpu
// needs a distinct cid in [0, NrCids). Core, LLC and node topology is
// cleared (-1); shard fields follow shardStart and each shard's node is the
// node holding most of its cpus.
//
// Invalid input leaves the table untouched and returns an *Error carrying
// the kernel's message, on which the sched_ext core aborts the scheduler.
// Mirrors scx_bpf_cid_override().
func (t *CidTable) Override(cpuToCid, shardStart []int32) error {
	if len(cpuToCid) != t.nrCPUIDs {
		return scxError("scx_bpf_cid_override: cpu_to_cid expected %d bytes, got %d", t.nrCPUIDs*4, len(cpuToCid)*4)
	}
	if len(shardStart) == 0 {
		return scxError("scx_bpf_cid_override: invalid shard_start size %d", 0)
	}
	return t.override(cpuToCid, shardStart)
}

func (t *CidTable) override(cpuToCid, shardStart []int32) error {
	np := int32(len(t.cidToCPU))
	nrShards := len(shardStart)

	if shardStart[0] != 0 {
		return scxError("scx_bpf_cid_override: shard_start[0] must be 0, got %d", shardStart[0])
	}
	for si := 1; si < nrShards; si++ {
		if shardStart[si] <= shardStart[si-1] {
			return scxError("scx_bpf_cid_override: shard_start not increasing at [%d]", si)
		}
		if shardStart[si] >= np {
			return scxError("scx_bpf_cid_override: shard_start[%d]=%d >= %d", si, shardStart[si], np)
		}
		if span := shardStart[si] - shardStart[si-1]; span > ShardMaxCPUs {
			return scxError("scx_bpf_cid_override: shard[%d] span %d exceeds max %d", si-1, span, ShardMaxCPUs)
		}
	}
	if span := np - shardStart[nrShards-1]; span > ShardMaxCPUs {
		return scxError("scx_bpf_cid_override: shard[%d] span %d exceeds max %d", nrShards-1, span, ShardMaxCPUs)
	}

	// Validate every possible cpu's cid before touching the tables.
	seen := make([]bool, np)
	for cpu, old := range t.cpuToCid {
		if old < 0 { // not a possible cpu
			continue
		}
		c := cpuToCid[cpu]
		if c < 0 || c >= np {
			return scxError("invalid cid %d", c)
		}
		if seen[c] {
			return scxError("cid %d assigned to multiple cpus", c)
		}
		seen[c] = true
	}

	for cpu, old := range t.cpuToCid {
		if old < 0 {
			continue
		}
		c := cpuToCid[cpu]
		t.cpuToCid[cpu] = c
		t.cidToCPU[c] = int32(cpu)
	}

	// Each shard's node is the one owning most of its cpus (ties to the
	// lowest node); an overridden shard may span nodes.
	end := func(si int) int32 {
		if si+1 < nrShards {
			return shardStart[si+1]
		}
		return np
	}
	t.shardNode = make([]int32, nrShards)
	counts := make([]uint32, t.nrNodeIDs)
	for si := range nrShards {
		clear(counts)
		for cid := shardStart[si]; cid < end(si); cid++ {
			if n := t.cpuNode[t.cidToCPU[cid]]; n >= 0 && int(n) < len(counts) {
				counts[n]++
			}
		}
		t.shardNode[si] = pickMaxNode(counts)
	}

	si := 0
	for cid := range np {
		if si+1 < nrShards && cid >= shardStart[si+1] {
			si++
		}
		t.cidToShard[cid] = int32(si)
		t.topo[cid] = cidTopoNeg
		t.topo[cid].ShardCid, t.topo[cid].ShardIdx = shardStart[si], int32(si)
	}

	t.shardRanges = make([]Shard, nrShards)
	for si := range nrShards {
		t.shardRanges[si] = Shard{BaseCid: shardStart[si], NrCids: end(si) - shardStart[si]}
	}
	// The override carries no topology.
	t.nrTopoCids, t.nrNodes, t.nrLLCs, t.nrCores = 0, 0, 0, 0
	return nil
}

// pickMaxNode returns the index of the largest count, the lowest on ties,
// or -1 (NUMA_NO_NODE) if all are zero. Mirrors pick_max_node().
func pickMaxNode(counts []uint32) int32 {
	best, bestCount := int32(-1), uint32(0)
	for i, c := range counts {
		if c > bestCount {
			best, bestCount = int32(i), c
		}
	}
	return best
}
