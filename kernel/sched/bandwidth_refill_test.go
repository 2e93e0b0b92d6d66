package sched

import "testing"

// refill adds a quota capped at quota+burst and counts a burst when the
// period's net use (snapshot minus pool) exceeded the quota, by the excess.
func TestBandwidthRefill(t *testing.T) {
	const ms = 1_000_000
	cases := []struct {
		name                       string
		quota, burst, snap, pool   uint64
		wantPool                   uint64
		wantNrBurst, wantBurstTime uint64
	}{
		{"unused period, no burst", 20 * ms, 0, 20 * ms, 20 * ms, 20 * ms, 0, 0},
		{"half used, banks up to burst", 20 * ms, 20 * ms, 20 * ms, 10 * ms, 30 * ms, 0, 0},
		{"bank capped at quota+burst", 20 * ms, 20 * ms, 40 * ms, 40 * ms, 40 * ms, 0, 0},
		{"used exactly the quota", 20 * ms, 20 * ms, 40 * ms, 20 * ms, 40 * ms, 0, 0},
		{"used quota+12ms from the bank", 20 * ms, 20 * ms, 40 * ms, 8 * ms, 28 * ms, 1, 12 * ms},
		{"drained a full bank", 20 * ms, 20 * ms, 40 * ms, 0, 20 * ms, 1, 20 * ms},
		{"pool grew (returned runtime)", 20 * ms, 0, 5 * ms, 15 * ms, 20 * ms, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bandwidth{quota: c.quota, burst: c.burst, period: 100 * ms, runtimeSnap: c.snap, runtime: c.pool}
			b.refill()
			if b.runtime != c.wantPool || b.runtimeSnap != c.wantPool {
				t.Errorf("pool %d snap %d, want %d", b.runtime, b.runtimeSnap, c.wantPool)
			}
			if b.nrBurst != c.wantNrBurst || b.burstTime != c.wantBurstTime {
				t.Errorf("nr_bursts %d burst %d ns, want %d %d", b.nrBurst, b.burstTime, c.wantNrBurst, c.wantBurstTime)
			}
		})
	}
	// Without a limit refill does nothing.
	b := bandwidth{quota: runtimeInf, runtimeSnap: 5, runtime: 1}
	b.refill()
	if b.runtime != 1 || b.nrBurst != 0 {
		t.Errorf("unlimited refill changed the pool to %d, nr_bursts %d", b.runtime, b.nrBurst)
	}
}
