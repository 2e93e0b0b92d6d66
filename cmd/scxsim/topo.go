package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/scxsim/scxsim/kernel/topo"
)

func init() {
	rootCmd.AddCommand(newTopoCmd())
}

// topoCPU is one possible CPU in `scxsim topo --json`.
type topoCPU struct {
	CPU      int    `json:"cpu"`
	Cid      int    `json:"cid"`
	Online   bool   `json:"online"`
	Node     int    `json:"node"`
	LLC      int    `json:"llc"`
	Core     int    `json:"core"`
	Capacity uint32 `json:"capacity"`
	Perf     uint32 `json:"perf"`
	Type     string `json:"type,omitempty"`
	CoreCid  int32  `json:"core_cid"`
	CoreIdx  int32  `json:"core_idx"`
	LLCCid   int32  `json:"llc_cid"`
	LLCIdx   int32  `json:"llc_idx"`
	NodeCid  int32  `json:"node_cid"`
	NodeIdx  int32  `json:"node_idx"`
	ShardCid int32  `json:"shard_cid"`
	ShardIdx int32  `json:"shard_idx"`
}

// newTopoCmd builds `scxsim topo` and `scxsim topo capture` (a constructor,
// so tests get fresh flag state).
func newTopoCmd() *cobra.Command {
	var numbering string
	var shardSize uint32
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "topo SPEC|FILE|SNAPSHOT",
		Short: "Show a simulated machine and its cid table",
		Long: `Topo builds a machine and prints its CPUs in cid order with the cid table
sched_ext's scx_cid_init() would build: each cpu's cid and the first cid and
index of its core, LLC, node and shard, then the shards.

The machine is one of:
  NODESxLLCSxCORESxTHREADS   a regular machine, e.g. 2x2x8x2, numbered by
                             --numbering: x86 (default, as run uses: the
                             sibling of cpu i is i + the number of cores)
                             or linear (a core's threads are consecutive)
  FILE.yaml / FILE.json      an irregular machine (see kernel/topo.File)
  DIR, FILE.tar.gz           a snapshot of /sys topology files, as written by
                             'scxsim topo capture'; /sys itself works too

With --json it prints a JSON array with one object per possible CPU, in cid
order.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			num, err := topo.ParseNumbering(numbering)
			if err != nil {
				return &exitError{2, err}
			}
			if _, err := topo.ParseSpec(args[0]); err != nil && cmd.Flags().Changed("numbering") {
				return &exitError{2, fmt.Errorf("--numbering applies to a NODESxLLCSxCORESxTHREADS spec only")}
			}
			m, err := topo.Load(args[0], num)
			if err != nil {
				return err
			}
			tbl, err := topo.NewCidTable(m, shardSize)
			if err != nil {
				return err
			}
			for _, w := range tbl.Warnings() {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			if asJSON {
				return writeTopoJSON(cmd.OutOrStdout(), m, tbl)
			}
			return writeTopoTable(cmd.OutOrStdout(), m, tbl)
		},
	}
	cmd.Flags().StringVar(&numbering, "numbering", "x86", "cpu numbering of a spec: x86 (sibling of cpu i is i+cores) or linear")
	cmd.Flags().Uint32Var(&shardSize, "shard-size", 0, "ops.cid_shard_size: target cids per shard (0: the default 24)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array, one object per possible CPU")
	cmd.AddCommand(newTopoCaptureCmd())
	return cmd
}

func newTopoCaptureCmd() *cobra.Command {
	var root string
	cmd := &cobra.Command{
		Use:   "capture [OUT]",
		Short: "Write a snapshot of this machine's /sys topology files",
		Long: `Capture copies the CPU and NUMA topology files of /sys/devices/system/cpu
and /sys/devices/system/node into OUT, for 'scxsim topo OUT' and every other
command that takes a machine. OUT ending in .tar.gz or .tgz (the default is
sysfs-topo.tar.gz) gets a gzip-compressed tarball, "-" writes that tarball
to standard output, and any other OUT is a directory.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := "sysfs-topo.tar.gz"
			if len(args) == 1 {
				out = args[0]
			}
			switch {
			case out == "-":
				return topo.CaptureTar(root, cmd.OutOrStdout())
			case strings.HasSuffix(out, ".tar.gz") || strings.HasSuffix(out, ".tgz"):
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				if err := topo.CaptureTar(root, f); err != nil {
					f.Close()
					return err
				}
				return f.Close()
			default:
				return topo.CaptureDir(root, out)
			}
		},
	}
	cmd.Flags().StringVar(&root, "root", "/sys", "sysfs root to read")
	_ = cmd.Flags().MarkHidden("root")
	return cmd
}

func topoRows(m *topo.Machine, tbl *topo.CidTable) []topoCPU {
	rows := make([]topoCPU, 0, tbl.NrCids())
	for cid := range tbl.NrCids() {
		c, _ := m.CPU(tbl.CPU(cid))
		t := tbl.Topo(cid)
		rows = append(rows, topoCPU{
			CPU: c.ID, Cid: cid, Online: c.Online, Node: c.Node, LLC: c.LLC, Core: c.Core,
			Capacity: c.Capacity, Perf: c.Perf, Type: c.Type,
			CoreCid: t.CoreCid, CoreIdx: t.CoreIdx, LLCCid: t.LLCCid, LLCIdx: t.LLCIdx,
			NodeCid: t.NodeCid, NodeIdx: t.NodeIdx, ShardCid: t.ShardCid, ShardIdx: t.ShardIdx,
		})
	}
	return rows
}

func writeTopoJSON(w io.Writer, m *topo.Machine, tbl *topo.CidTable) error {
	b, err := json.MarshalIndent(topoRows(m, tbl), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func writeTopoTable(w io.Writer, m *topo.Machine, tbl *topo.CidTable) error {
	online := m.OnlineMask().Weight()
	fmt.Fprintf(w, "machine: possible %d (nr_cpu_ids %d), online %d; walked: nodes %d, LLCs %d, cores %d\n",
		m.NumPossible(), m.NrCPUIDs(), online, tbl.NrNodes(), tbl.NrLLCs(), tbl.NrCores())
	fmt.Fprintf(w, "cids: with topology %d, no-topology tail %d; shard size %d, shards %d\n\n",
		tbl.NrTopoCids(), tbl.NrCids()-tbl.NrTopoCids(), tbl.ShardSize(), tbl.NrShards())
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "cid\tcpu\tonline\tnode\tllc\tcore\tcap\tperf\ttype\t core_cid\tcore_idx\tllc_cid\tllc_idx\tnode_cid\tnode_idx\tshard_cid\tshard_idx\t")
	for _, r := range topoRows(m, tbl) {
		on := "no"
		if r.Online {
			on = "yes"
		}
		typ := r.Type
		if typ == "" {
			typ = "-"
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t %d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n",
			r.Cid, r.CPU, on, r.Node, r.LLC, r.Core, r.Capacity, r.Perf, typ,
			r.CoreCid, r.CoreIdx, r.LLCCid, r.LLCIdx, r.NodeCid, r.NodeIdx, r.ShardCid, r.ShardIdx)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "shard\tbase_cid\tnr_cids\tnode\tcpus\t")
	for i := range tbl.NrShards() {
		s := tbl.Shard(i)
		cpus := make([]int, 0, s.NrCids)
		for cid := s.BaseCid; cid < s.BaseCid+s.NrCids; cid++ {
			cpus = append(cpus, tbl.CPU(int(cid)))
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%s\t\n", i, s.BaseCid, s.NrCids, tbl.ShardNode(i), formatCPUSet(cpus))
	}
	return tw.Flush()
}

// formatCPUSet formats cpus in cid order as a sorted cpu list.
func formatCPUSet(cpus []int) string {
	mask := topo.NewCPUMask(0)
	for _, c := range cpus {
		for c/64 >= len(mask) {
			mask = append(mask, 0)
		}
		mask.Set(c)
	}
	return mask.String()
}
