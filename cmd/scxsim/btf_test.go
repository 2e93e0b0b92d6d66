package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/kernel/ktypes"
)

func TestBTFCommand(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "vmlinux.btf")
	hdr := filepath.Join(dir, "vmlinux.h")
	for _, args := range [][]string{
		{"btf", "--out", raw},
		{"btf", "--header", "-o", hdr},
	} {
		rootCmd.SetArgs(args)
		if err := rootCmd.Execute(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	f, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	spec, err := btf.LoadSpecFromReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var ts *btf.Struct
	if err := spec.TypeByName("task_struct", &ts); err != nil {
		t.Fatal(err)
	}
	h, err := os.ReadFile(hdr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h, ktypes.VmlinuxH()) {
		t.Error("--header output differs from ktypes.VmlinuxH()")
	}

	var stdout bytes.Buffer
	rootCmd.SetOut(&stdout)
	rootCmd.SetArgs([]string{"btf", "--header=false", "--out", "-"}) // cobra keeps flag values between runs
	if err := rootCmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want, _ := ktypes.RawBTF()
	if !bytes.Equal(stdout.Bytes(), want) {
		t.Error("stdout output differs from ktypes.RawBTF()")
	}
	rootCmd.SetArgs([]string{"btf", "extra"})
	if err := rootCmd.Execute(); err == nil {
		t.Error("btf accepted an argument")
	}
}
