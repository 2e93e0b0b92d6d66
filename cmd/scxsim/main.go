// Command scxsim runs sched_ext BPF schedulers on a simulated machine.
//
// Each subcommand lives in its own file of this package and registers itself
// on rootCmd from an init function.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:   "scxsim",
	Short: "Run sched_ext BPF schedulers on a simulated machine",
	Long: `scxsim loads real sched_ext BPF scheduler objects (.bpf.o, cpu-form and
cid-form) and runs them on a simulated machine, deterministically, without
root and without a sched_ext kernel.`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

// exitError carries a specific process exit code out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	if err := rootCmd.Execute(); err != nil {
		code := 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if err.Error() != "" {
			fmt.Fprintln(os.Stderr, "scxsim:", err)
		}
		os.Exit(code)
	}
}
