package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/scxsim/scxsim/bpf/asm"
	"github.com/scxsim/scxsim/bpf/conformance"
	"github.com/scxsim/scxsim/bpf/vm"
)

func init() {
	rootCmd.AddCommand(newBPFCmd())
}

// newBPFCmd builds `scxsim bpf` and its subcommands (a constructor, so tests
// get fresh flag state).
func newBPFCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bpf",
		Short: "Run raw eBPF programs on the VM (conformance vectors, plugin protocol)",
	}
	cmd.AddCommand(newBPFRunCmd(), newBPFPluginCmd())
	return cmd
}

func newBPFRunCmd() *cobra.Command {
	var raw, disasm, check bool
	var budget uint64
	cmd := &cobra.Command{
		Use:   "run FILE.data",
		Short: "Run a bpf_conformance .data file and print r0",
		Long: `Run assembles the -- asm section of a bpf_conformance .data file (or, with
--raw, decodes its -- raw section), runs it with r1 = the -- mem bytes and
r2 = their length, and prints r0 as 0x%x. With --check it fails unless r0
equals the -- result section.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			f, err := asm.ParseDataFile(args[0], data)
			if err != nil {
				return err
			}
			var prog []vm.Insn
			if raw {
				if !f.HasRaw || len(f.Raw) == 0 {
					return fmt.Errorf("%s: no -- raw section", args[0])
				}
				prog = f.Raw
			} else if prog, err = f.Assembled(); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if disasm {
				for pc := 0; pc < len(prog); {
					text, n := asm.DisassembleAt(prog, pc)
					fmt.Fprintf(out, "%4d: %s\n", pc, text)
					pc += n
				}
			}
			r0, err := conformance.Run(prog, f.Mem, budget)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "0x%x\n", r0)
			if check && f.Error != "" {
				return fmt.Errorf("r0 = %#x, want error %q", r0, f.Error)
			}
			if check && r0 != f.Result {
				return fmt.Errorf("r0 = %#x, want %#x", r0, f.Result)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&raw, "raw", false, "run the -- raw section instead of assembling -- asm")
	cmd.Flags().BoolVar(&disasm, "disasm", false, "print the program's disassembly first")
	cmd.Flags().BoolVar(&check, "check", false, "fail unless r0 equals the -- result section")
	cmd.Flags().Uint64Var(&budget, "budget", 0, "maximum instructions executed (0: the VM default)")
	return cmd
}

func newBPFPluginCmd() *cobra.Command {
	var program string
	cmd := &cobra.Command{
		Use:   "conformance-plugin [MEMORY_HEX]",
		Short: "A bpf_conformance plugin: run program bytes from stdin, print r0",
		Long: `conformance-plugin speaks the plugin protocol of the bpf_conformance runner
(Alan-Jowett/bpf_conformance): the program arrives as space-separated hex
bytes on the first line of standard input (or in --program), the input
memory as space-separated hex bytes in the first argument. The program runs
with r1 = the memory and r2 = its length; r0 is printed in hex without a
prefix and the exit status is 0. A program that fails to load prints
"Failed to load code: ERROR"; any failure exits with status 1.

The runner puts the memory before its plugin options, so point its
--plugin_path at a wrapper script: exec scxsim bpf conformance-plugin "$@".`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The runner may pass empty option strings; ignore those.
			var mem string
			var rest []string
			for _, a := range args {
				if a != "" {
					rest = append(rest, a)
				}
			}
			if len(rest) > 0 {
				mem, rest = rest[0], rest[1:]
			}
			if len(rest) > 0 {
				return &exitError{1, fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))}
			}
			if !cmd.Flags().Changed("program") {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return &exitError{1, err}
				}
				program = line
			}
			insns, err := vm.DecodeBytes(conformance.DecodeHex(program))
			if err == nil && len(insns) == 0 {
				err = errors.New("no program")
			}
			out := cmd.OutOrStdout()
			var p *vm.Program
			if err == nil {
				p, err = conformance.Load(insns)
			}
			if err != nil {
				fmt.Fprintf(out, "Failed to load code: %v\n", err)
				return &exitError{1, err}
			}
			r0, err := conformance.Exec(p, conformance.DecodeHex(mem), 0)
			if err != nil {
				return &exitError{1, err}
			}
			fmt.Fprintf(out, "%x\n", r0)
			return nil
		},
	}
	cmd.Flags().StringVar(&program, "program", "", "program bytes as space-separated hex (default: first line of stdin)")
	return cmd
}
