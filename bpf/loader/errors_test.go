package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

func TestTwoArenasRejected(t *testing.T) {
	_, err := Load(readObj(t, "two_arenas.bpf.o"), (&testKernel{}).options())
	if err == nil || !strings.Contains(err.Error(), "Only one arena per program") || !strings.Contains(err.Error(), "prog both") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	basic := readObj(t, "basic.bpf.o")
	patch := func(f func(b []byte)) []byte {
		b := bytes.Clone(basic)
		f(b)
		return b
	}
	// Section header of the section named name (offset into the file).
	shdr := func(b []byte, name string) int {
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		shoff := int(binary.LittleEndian.Uint64(b[0x28:]))
		for i, s := range f.Sections {
			if s.Name == name {
				return shoff + i*64
			}
		}
		t.Fatalf("no section %s", name)
		return 0
	}
	noKfuncs := (&testKernel{}).options()
	noKfuncs.Kfuncs = nil
	noHelpers := (&testKernel{}).options()
	noHelpers.Helpers = nil
	noNRCPUS := (&testKernel{}).options()
	noNRCPUS.Kconfig = map[string]string{}
	badKconfig := (&testKernel{}).options()
	badKconfig.Kconfig = map[string]string{"CONFIG_NR_CPUS": "y"}
	tests := []struct {
		name string
		raw  []byte
		opts *Options
		want string
	}{
		{"empty", nil, nil, "not an ELF object"},
		{"truncated", basic[:100], nil, "malformed ELF"},
		{"half", basic[:len(basic)/2], nil, ""},
		{"wrong machine", patch(func(b []byte) { binary.LittleEndian.PutUint16(b[18:], uint16(elf.EM_X86_64)) }), nil, "not EM_BPF"},
		{"big endian", patch(func(b []byte) { b[5] = byte(elf.ELFDATA2MSB) }), nil, ""},
		{"32-bit", patch(func(b []byte) { b[4] = byte(elf.ELFCLASS32) }), nil, ""},
		{"no BTF", patch(func(b []byte) {
			off := shdr(b, ".BTF")
			binary.LittleEndian.PutUint32(b[off+4:], uint32(elf.SHT_NULL))
		}), nil, ""},
		{"section past EOF", patch(func(b []byte) {
			off := shdr(b, ".text")
			binary.LittleEndian.PutUint64(b[off+24:], 1<<40)
		}), nil, "outside"},
		{"huge bss", patch(func(b []byte) {
			off := shdr(b, ".bss")
			binary.LittleEndian.PutUint64(b[off+32:], 1<<40)
		}), nil, "more than the"},
		{"kfunc not allowed", basic, &noKfuncs, "prog b_enqueue: insn 18: calling kernel function scx_bpf_dsq_insert___v2 is not allowed"},
		{"helper unknown", basic, &noHelpers, "program of this type cannot use helper bpf_map_lookup_elem#1"},
		{"strong kconfig missing", basic, &noNRCPUS, "extern 'CONFIG_NR_CPUS' (strong): not resolved"},
		{"kconfig type mismatch", basic, &badKconfig, "implies tristate or char type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := (&testKernel{}).options()
			if tc.opts != nil {
				opts = *tc.opts
			}
			obj, err := Load(tc.raw, opts)
			if err == nil {
				obj.Close()
				t.Fatal("load succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestGlobalOverrideErrors(t *testing.T) {
	s, err := Open(readObj(t, "basic.bpf.o"), (&testKernel{}).options())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ assign, want string }{
		{"nr_cpus", "want NAME=VALUE"},
		{"nope=1", "not found"},
		{"nr_cpus=-1", "out of range"},
		{"nr_cpus=0x100000000", "out of range"},
		{"nr_cpus=abc", "invalid integer"},
		{"verbose=maybe", "invalid bool"},
		{"label=toolongforit", "does not fit"},
		{"mode=MODE_NONE", "has no value"},
		{"last_ret=-9223372036854775809", "invalid integer"},
	}
	for _, tc := range tests {
		if err := s.SetGlobalString(tc.assign); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.assign, err, tc.want)
		}
	}
	for _, ok := range []string{"last_ret=-9223372036854775808", "nr_cpus=0xffffffff", "mode=7", `label="a b"`, "verbose=0"} {
		if err := s.SetGlobalString(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func FuzzLoad(f *testing.F) {
	for _, name := range []string{"basic.bpf.o", "core.bpf.o", "two_arenas.bpf.o", "coresize.bpf.o", "coresize_narrow.bpf.o", "progarray.bpf.o", "opsdrop.bpf.o", "opsreuse.bpf.o"} {
		f.Add(readObj(f, name))
	}
	f.Add([]byte("\x7fELF"))
	opts := (&testKernel{}).options()
	opts.MaxMapMemory = 16 << 20
	f.Fuzz(func(t *testing.T, raw []byte) {
		obj, err := Load(raw, opts)
		if err == nil {
			obj.Close()
		}
	})
}

// TestProgArrayRejected loads an object with a prog-array map and a tail
// call: it opens (the map and its initial slot parse as libbpf parses
// them) but the load stops at the map, releasing the maps created before it.
func TestProgArrayRejected(t *testing.T) {
	raw := readObj(t, "progarray.bpf.o")
	s, err := Open(raw, (&testKernel{}).options())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Programs(), ","); got != "tail_target,tail_caller" {
		t.Errorf("programs = %s", got)
	}
	opts := (&testKernel{}).options()
	opts.Memory = vm.NewMemory()
	obj, err := Load(raw, opts)
	if err == nil {
		obj.Close()
		t.Fatal("load succeeded")
	}
	if !errors.Is(err, syscall.EINVAL) || err.Error() != "map 'jump_table': failed to create: BPF_MAP_TYPE_PROG_ARRAY is not supported: scxsim runs no tail calls (bpf_tail_call): invalid argument" {
		t.Errorf("err = %v", err)
	}
	if live := maps.RegistryOf(opts.Memory).Maps(); len(live) != 0 {
		t.Errorf("%d maps left alive after the failed load", len(live))
	}
}
