package conformance

import (
	"bytes"
	"testing"
)

func TestDecodeHex(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"", nil},
		{"00 01 ff", []byte{0, 1, 0xff}},
		// The runner separates bytes with two spaces and ends with one.
		{"aa  bb  ", []byte{0xaa, 0xbb}},
		{"0x12 0X34", []byte{0x12, 0x34}},
		// Invalid tokens are skipped, as the upstream plugins do.
		{"zz 01 -- 02", []byte{1, 2}},
		// Only the low byte of a wider number is kept.
		{"1ff", []byte{0xff}},
		{"\t01\n02 ", []byte{1, 2}},
	}
	for _, tt := range tests {
		if got := DecodeHex(tt.in); !bytes.Equal(got, tt.want) {
			t.Errorf("DecodeHex(%q) = %x, want %x", tt.in, got, tt.want)
		}
	}
}

func TestEncodeHex(t *testing.T) {
	in := []byte{0, 0x0f, 0xa0, 0xff}
	got := EncodeHex(in)
	if got != "00 0f a0 ff" {
		t.Errorf("EncodeHex = %q", got)
	}
	if back := DecodeHex(got); !bytes.Equal(back, in) {
		t.Errorf("DecodeHex(EncodeHex(%x)) = %x", in, back)
	}
}
