package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/scxsim/scxsim/kernel/ktypes"
)

func init() {
	var out string
	var header bool
	cmd := &cobra.Command{
		Use:   "btf [--out FILE] [--header]",
		Short: "Write the simulated kernel's BTF (or its vmlinux.h)",
		Long: `btf writes the raw BTF of scxsim's simulated kernel: the types BPF
schedulers see, every kfunc and the per-CPU kernel variables. With --header
it writes the matching vmlinux.h instead (the SDK's include/vmlinux.h).
Without --out the output goes to standard output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var data []byte
			if header {
				data = ktypes.VmlinuxH()
			} else {
				raw, err := ktypes.RawBTF()
				if err != nil {
					return err
				}
				data = raw
			}
			if out == "" || out == "-" {
				_, err := cmd.OutOrStdout().Write(data)
				return err
			}
			if err := os.WriteFile(out, data, 0o644); err != nil {
				return fmt.Errorf("btf: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "output file (default standard output)")
	cmd.Flags().BoolVar(&header, "header", false, "write vmlinux.h instead of raw BTF")
	rootCmd.AddCommand(cmd)
}
