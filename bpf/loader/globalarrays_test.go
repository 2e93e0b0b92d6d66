package loader

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// TestSetGlobalStringArrays fills integer, bool and enum arrays with
// NAME=v1,v2,... (the rest zeroed) and single elements with NAME[i]=v,
// as scx front ends fill rodata arrays before load; char arrays keep
// taking text. Each case applies its overrides in order to a fresh spec.
func TestSetGlobalStringArrays(t *testing.T) {
	u32s := func(vs ...uint32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
		return b
	}
	s16s := func(vs ...int16) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		}
		return b
	}
	tests := []struct {
		name   string
		sets   []string
		global string
		want   []byte
		err    string // substring of the last override's error
	}{
		{"list", []string{"cpu_order=3,2,1"}, "cpu_order", u32s(3, 2, 1, 0, 0, 0, 0, 0), ""},
		{"full, spaces, bases", []string{"cpu_order=0x10, 7 ,0b11,0o10,1,2,3,4"}, "cpu_order", u32s(16, 7, 3, 8, 1, 2, 3, 4), ""},
		{"list then element", []string{"cpu_order=3,2,1", "cpu_order[7]=9", "cpu_order[0]=0"}, "cpu_order", u32s(0, 2, 1, 0, 0, 0, 0, 9), ""},
		{"list replaces", []string{"cpu_order=1,1,1,1,1,1,1,1", "cpu_order=5"}, "cpu_order", u32s(5, 0, 0, 0, 0, 0, 0, 0), ""},
		{"empty list", []string{"cpu_order=4,4", "cpu_order="}, "cpu_order", u32s(0, 0, 0, 0, 0, 0, 0, 0), ""},
		{"signed", []string{"deltas=-1,2,-32768"}, "deltas", s16s(-1, 2, -32768, 0), ""},
		{"bools", []string{"enabled=true,0,1"}, "enabled", []byte{1, 0, 1}, ""},
		{"enums", []string{"modes=MODE_B,0"}, "modes", u32s(5, 0), ""},
		{"enum element", []string{"modes[1]=MODE_B"}, "modes", u32s(0, 5), ""},
		{"char text", []string{"label=hi"}, "label", []byte("hi\x00\x00\x00\x00\x00\x00"), ""},
		{"char element", []string{"label=hi", "label[1]=0x41"}, "label", []byte("hA\x00\x00\x00\x00\x00\x00"), ""},
		{"byte element", []string{"bytes[2]=200"}, "bytes", []byte{0, 0, 200, 0}, ""},
		{"too many", []string{"cpu_order=1,2,3,4,5,6,7,8,9"}, "", nil, "9 values for 8 elements"},
		{"bad element", []string{"cpu_order=1,x"}, "", nil, "element 1"},
		{"out of range value", []string{"deltas=40000"}, "", nil, "out of range"},
		{"negative unsigned", []string{"cpu_order=-1"}, "", nil, "out of range"},
		{"index past the end", []string{"cpu_order[8]=1"}, "", nil, "index 8 out of range"},
		{"bad index", []string{"cpu_order[x]=1"}, "", nil, "want NAME[INDEX]"},
		{"no name", []string{"[1]=2"}, "", nil, "want NAME[INDEX]"},
		{"unknown", []string{"nosuch[1]=2"}, "", nil, "not found"},
		{"element of a scalar", []string{"nr_slots[0]=2"}, "", nil, "not an array of integers"},
		{"two dimensions", []string{"matrix=1,2"}, "", nil, "cannot parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openResize(t)
			var err error
			for _, a := range tc.sets {
				if err = s.SetGlobalString(a); err != nil {
					break
				}
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			obj := loadSpec(t, s)
			got, err := obj.ReadGlobal(tc.global)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s = %v, want %v", tc.global, got, tc.want)
			}
		})
	}
}

// TestSetGlobalStringResizedArray: a RESIZABLE_ARRAY resized before the
// override takes as many values as its new length.
func TestSetGlobalStringResizedArray(t *testing.T) {
	s := openResize(t)
	if err := s.SetGlobalString("cpu_map=1,2"); err == nil {
		t.Fatal("two values fit a one-element array")
	}
	if err := s.SetMapValueSize(".rodata.cpu_map", 16); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGlobalString("cpu_map=5,6,7"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGlobalString("cpu_map[3]=8"); err != nil {
		t.Fatal(err)
	}
	obj := loadSpec(t, s)
	got, _ := obj.ReadGlobal("cpu_map")
	want := []byte{5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0}
	if !slices.Equal(got, want) {
		t.Errorf("cpu_map = %v, want %v", got, want)
	}
}

// FuzzSetGlobalString feeds arbitrary overrides to SetGlobalString (and a
// value size for the resizable arrays first): no panic, and the object
// still loads with a consistent view of every global.
func FuzzSetGlobalString(f *testing.F) {
	raw := readObj(f, "resize.bpf.o")
	for _, seed := range []string{"cpu_order=1,2,3", "cpu_order[7]=9", "deltas=-1,2", "label=hi", "label[9]=1", "modes=MODE_B", "cpu_map[0]=1", "matrix[1]=2", "[=]", "enabled=true,false,x"} {
		f.Add(seed, uint32(0))
		f.Add(seed, uint32(20))
	}
	opts := (&testKernel{}).options()
	f.Fuzz(func(t *testing.T, assign string, size uint32) {
		s, err := Open(raw, opts)
		if err != nil {
			t.Fatal(err)
		}
		if size != 0 {
			_ = s.SetMapValueSize(".rodata.cpu_map", size%4096)
			_ = s.SetMapValueSize(".data.mixed", size%4096)
		}
		_ = s.SetGlobalString(assign)
		if size%4096 == 0 && size != 0 {
			return // zero-sized values are refused at creation
		}
		obj, err := s.Load()
		if err != nil {
			t.Fatalf("load after %q: %v", assign, err)
		}
		defer obj.Close()
		for _, g := range s.Globals() {
			if b, err := obj.ReadGlobal(g.Name); err == nil && len(b) != int(g.Size) {
				t.Fatalf("%s: %d bytes read, size %d", g.Name, len(b), g.Size)
			}
		}
	})
}
