package engine

import (
	"fmt"

	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/metrics"
)

// Effects are the machine effects that make scheduling choices matter.
// Every one is explicit and can be set to zero to switch it off.
//
//   - ContextSwitchNS: each time a task is switched in, it first spends
//     this long on the CPU doing no work of its own (the switch, cold TLB).
//   - IPILatencyNS: a reschedule request to another CPU (resched_curr() on
//     a remote rq, scx_bpf_kick_cpu()) takes this long to arrive. A request
//     to the CPU whose event is being handled is immediate.
//   - IdleExitNS: a request to an idle CPU takes this much longer (leaving
//     the idle state). A sleeper woken by its timer on an idle machine thus
//     waits IdleExitNS; one woken onto another idle CPU waits IPILatencyNS
//   - IdleExitNS.
//   - SMTFactor: a task runs at this fraction of its speed while an SMT
//     sibling of its CPU runs a task too (1 disables the effect).
//   - Warmup*NS: a task that runs on a different CPU than last time first
//     spends this long rebuilding cache state, by how far it moved: an SMT
//     sibling, another core of the same LLC, another LLC of the same node,
//     another node.
//
// Run speed also scales with the CPU's capacity and current performance
// level (topo.CPU.Capacity and Perf, out of 1024): a "run" of 1ms takes 2ms
// on a CPU of capacity 512. "runtime" ops (CPU time) do not scale.
type Effects struct {
	ContextSwitchNS uint64
	IPILatencyNS    uint64
	IdleExitNS      uint64
	SMTFactor       float64
	WarmupSMTNS     uint64
	WarmupLLCNS     uint64
	WarmupNodeNS    uint64
	WarmupXNodeNS   uint64
}

// DefaultEffects are figures of the order of a current x86 server.
func DefaultEffects() Effects {
	return Effects{
		ContextSwitchNS: 2_000,
		IPILatencyNS:    2_000,
		IdleExitNS:      5_000,
		SMTFactor:       0.6,
		WarmupSMTNS:     1_000,
		WarmupLLCNS:     10_000,
		WarmupNodeNS:    50_000,
		WarmupXNodeNS:   150_000,
	}
}

// Validate checks the effects are usable.
func (f Effects) Validate() error {
	if f.SMTFactor <= 0 || f.SMTFactor > 1 {
		return fmt.Errorf("smt factor %g: expected a number in (0, 1]", f.SMTFactor)
	}
	return nil
}

func (f Effects) metrics() metrics.Effects {
	return metrics.Effects{ContextSwitchNS: f.ContextSwitchNS, IPILatencyNS: f.IPILatencyNS,
		IdleExitNS: f.IdleExitNS, SMTFactor: f.SMTFactor, WarmupSMTNS: f.WarmupSMTNS,
		WarmupLLCNS: f.WarmupLLCNS, WarmupNodeNS: f.WarmupNodeNS, WarmupXNodeNS: f.WarmupXNodeNS}
}

func (f Effects) warmup(dist int) uint64 {
	switch dist {
	case metrics.MigSMT:
		return f.WarmupSMTNS
	case metrics.MigLLC:
		return f.WarmupLLCNS
	case metrics.MigNode:
		return f.WarmupNodeNS
	case metrics.MigXNode:
		return f.WarmupXNodeNS
	}
	return 0
}

// distance classifies a move from CPU a to CPU b (a != b).
func distance(m *topo.Machine, a, b int) int {
	ca, _ := m.CPU(a)
	cb, _ := m.CPU(b)
	switch {
	case ca.Node != cb.Node:
		return metrics.MigXNode
	case isSibling(m, a, b):
		return metrics.MigSMT
	case ca.LLC >= 0 && ca.LLC == cb.LLC:
		return metrics.MigLLC
	case ca.LLC < 0 && cb.LLC < 0:
		// No cacheinfo: the node's CPUs are the LLC.
		return metrics.MigLLC
	}
	return metrics.MigNode
}

func isSibling(m *topo.Machine, a, b int) bool {
	for _, s := range m.Siblings(a) {
		if s == b {
			return true
		}
	}
	return false
}
