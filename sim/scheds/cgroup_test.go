package scheds

import (
	"testing"

	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/goscheds"
	"github.com/scxsim/scxsim/kernel/topo"
	"github.com/scxsim/scxsim/sim/engine"
	"github.com/scxsim/scxsim/sim/workload"
)

// The workload's cgroups reach a sched_ext scheduler through the cgroup
// ops, counted in the results: cgroup_init for the root and each cgroup
// as it is created (default cpu.weight 100, cpu.max "max"), then
// cgroup_set_weight and cgroup_set_bandwidth for the values the workload
// writes, as mkdir then writing cpu.weight and cpu.max would; and
// cgroup_prep_move and cgroup_move for each task a cgroup op moves.
func TestCgroupOpsCounted(t *testing.T) {
	sp, _ := topo.ParseSpec("1x1x2x1")
	m, _ := sp.Machine(topo.Numbering("linear"))
	w, err := workload.ParseYAML("cg.yaml", []byte(`
cgroups:
  - {path: /a, weight: 50}
  - {path: /a/b, max: "20ms 100ms"}
  - {path: /c, weight: 300}
groups:
  - {name: mover, count: 2, cgroup: /a, loop: 1, program: [{run: 1ms}, {cgroup: /c}, {run: 1ms}, {cgroup: /a/b}, {run: 1ms}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	type initArgs struct {
		weight      uint32
		period, max uint64
	}
	inits := map[string]initArgs{}
	weights := map[string]uint32{}
	bw := map[string][2]uint64{}
	moves := 0
	s := NewGo("cg", func(x *scx.Ext) (*scx.Ops, error) {
		ops := (&goscheds.FIFO{X: x}).Ops("cg", 0)
		ops.CgroupInit = func(cg *scx.Cgroup, a scx.CgroupInitArgs) int32 {
			inits[cg.Path] = initArgs{a.Weight, a.BWPeriodUS, a.BWQuotaUS}
			return 0
		}
		ops.CgroupPrepMove = func(p *scx.Task, from, to *scx.Cgroup) int32 { return 0 }
		ops.CgroupMove = func(p *scx.Task, from, to *scx.Cgroup) { moves++ }
		ops.CgroupSetWeight = func(cg *scx.Cgroup, weight uint32) { weights[cg.Path] = weight }
		ops.CgroupSetBandwidth = func(cg *scx.Cgroup, p, q, b uint64) { bw[cg.Path] = [2]uint64{p, q} }
		return ops, nil
	})
	res, err := engine.Run(engine.Config{Machine: m, Workload: w, Scheduler: s, Duration: 100e6, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]uint64{}
	for _, o := range res.Scheduler.Ops {
		ops[o.Op] = o.Calls
	}
	if ops["cgroup_init"] != 4 || ops["cgroup_prep_move"] != 4 || ops["cgroup_move"] != 4 || moves != 4 {
		t.Errorf("ops %v (moves seen %d), want 4 cgroup_init (root and three) and 4 moves", ops, moves)
	}
	for path, got := range inits {
		if got.weight != 100 || got.max != ^uint64(0) {
			t.Errorf("%s init %+v, want the defaults", path, got)
		}
	}
	if len(weights) != 2 || weights["/a"] != 50 || weights["/c"] != 300 {
		t.Errorf("cgroup_set_weight %v, want /a 50 and /c 300", weights)
	}
	if len(bw) != 1 || bw["/a/b"] != [2]uint64{100000, 20000} {
		t.Errorf("cgroup_set_bandwidth %v, want /a/b 20ms per 100ms", bw)
	}
	if ops["cgroup_set_weight"] != 2 || ops["cgroup_set_bandwidth"] != 1 {
		t.Errorf("ops %v", ops)
	}
	// The report counts each task in the cgroup it ended in.
	if len(res.Cgroups) != 1 || res.Cgroups[0].Path != "/a/b" || res.Cgroups[0].Tasks != 2 || res.Cgroups[0].QuotaUS != 20000 ||
		res.Cgroups[0].RuntimeNS != res.Summary.RuntimeNS || res.Cgroups[0].Share != 1 {
		t.Errorf("cgroups %+v", res.Cgroups)
	}
}
