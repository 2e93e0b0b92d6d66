package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/scxsim/scxsim/sim/metrics"
	"github.com/scxsim/scxsim/sim/report"
)

func init() {
	rootCmd.AddCommand(newCompareCmd())
}

func newCompareCmd() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "compare [SCHED...]",
		Short: "Run several schedulers on the same machine, workload and seed side by side",
		Long: `Compare runs the same machine, workload and seed under each scheduler (fair,
builtin:NAME or PATH.bpf.o; default: fair builtin:fifo builtin:cidq) and prints
one side-by-side table. --html writes the table with overlaid latency CDFs and
each run's utilization map; --json writes an array of the runs' reports.
If a scheduler was ejected, compare exits with status 3 after writing them.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"fair", "builtin:fifo", "builtin:cidq"}
			}
			s, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var rs []*metrics.Results
			for _, sc := range args {
				prog, done := progressBar(os.Stderr, sc, f.noProgress)
				res, err := f.runOne(s, sc, nil, prog)
				done()
				if err != nil {
					return fmt.Errorf("%s: %w", sc, err)
				}
				rs = append(rs, res)
			}
			out := cmd.OutOrStdout()
			if f.jsonOut != "-" {
				if err := report.CompareText(out, rs); err != nil {
					return err
				}
			}
			if f.jsonOut != "" {
				if err := writeFile(f.jsonOut, out, func(w io.Writer) error {
					enc := json.NewEncoder(w)
					enc.SetIndent("", "  ")
					return enc.Encode(rs)
				}); err != nil {
					return fmt.Errorf("--json: %w", err)
				}
			}
			if f.htmlOut != "" {
				if err := writeFile(f.htmlOut, out, func(w io.Writer) error { return report.CompareHTML(w, rs) }); err != nil {
					return fmt.Errorf("--html: %w", err)
				}
			}
			// As run does: an ejected scheduler fails the command (status
			// 3) once every report is written.
			var ejected []string
			for _, r := range rs {
				if x := r.Scheduler.Exit; x != nil && x.Kind == "error" {
					ejected = append(ejected, fmt.Sprintf("%s was ejected: %s", r.Run.Scheduler, x.Msg))
				}
			}
			if len(ejected) > 0 {
				return &exitError{3, errors.New(strings.Join(ejected, "; "))}
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
