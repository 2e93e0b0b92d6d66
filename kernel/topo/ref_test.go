package topo

import (
	"errors"
	"slices"
	"testing"

	"github.com/scxsim/scxsim/kernel/cmask"
)

// refTable is 1x2x8x2 x86 with shard size 6: per LLC (16 cpus, 8 cores)
// ceil(16/6)=3 shards of 3, 3 and 2 cores = cids [0,6) [6,12) [12,16)
// [16,22) [22,28) [28,32). Core g has cpus g and g+16, so cid 2k is cpu k
// and cid 2k+1 is cpu k+16.
func refTable(t *testing.T) *CidTable {
	m, err := Spec{1, 2, 8, 2}.Machine(X86)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := NewCidTable(m, 6)
	if err != nil {
		t.Fatal(err)
	}
	want := []Shard{{0, 6}, {6, 6}, {12, 4}, {16, 6}, {22, 6}, {28, 4}}
	for i, s := range want {
		if tbl.Shard(i) != s {
			t.Fatalf("shard %d = %+v, want %+v", i, tbl.Shard(i), s)
		}
	}
	return tbl
}

func TestRefInit(t *testing.T) {
	tbl := refTable(t)
	cases := []struct {
		name          string
		base, nr, cap uint32
		words         uint32 // alloc_words to write into the header, 0 = keep
		ok            bool
		first, end    int32
	}{
		{"whole", 0, 32, 32, 0, true, 0, 6},
		{"middle", 7, 10, 10, 0, true, 1, 4},
		{"empty", 12, 0, 0, 0, true, 2, 2},
		{"last cid", 31, 1, 1, 0, true, 5, 6},
		{"base beyond", 32, 0, 0, 0, false, 0, 0},
		{"range beyond", 30, 3, 3, 0, false, 0, 0},
		{"alloc_words short", 0, 32, 32, 1, false, 0, 0},
		{"alloc_words beyond storage", 0, 10, 10, 50, false, 0, 0},
	}
	for _, c := range cases {
		m := cmask.NewCap(c.base, c.nr, c.cap)
		if c.words != 0 {
			b := m.Bytes()
			b[cmask.OffAllocWords] = byte(c.words)
		}
		ref, err := tbl.RefInit(m)
		if !c.ok {
			if !errors.Is(err, ErrInvalidCmask) {
				t.Errorf("%s: error %v, want EINVAL", c.name, err)
			}
			continue
		}
		if err != nil || ref.Base != c.base || ref.NrCids != c.nr || ref.ShardFirst != c.first || ref.ShardEnd != c.end {
			t.Errorf("%s: ref %+v err %v", c.name, ref, err)
		}
	}
}

func TestRefShardAndWrite(t *testing.T) {
	tbl := refTable(t)
	// Source cmask over [3, 29) with every third cid set.
	src := cmask.New(3, 26)
	var set []uint32
	for c := uint32(3); c < 29; c += 3 {
		src.Set(c)
		set = append(set, c)
	}
	ref, err := tbl.RefInit(src)
	if err != nil {
		t.Fatal(err)
	}
	// Shard by shard: the range clipped to the shard, bits copied.
	want := []struct {
		base, nr uint32
		cids     []uint32
	}{
		{3, 3, []uint32{3}}, {6, 6, []uint32{6, 9}}, {12, 4, []uint32{12, 15}},
		{16, 6, []uint32{18, 21}}, {22, 6, []uint32{24, 27}}, {28, 1, nil},
	}
	out := cmask.NewCap(0, 0, ShardMaxCPUs)
	for idx := ref.ShardFirst; idx < ref.ShardEnd; idx++ {
		if err := ref.Shard(idx, out); err != nil {
			t.Fatal(err)
		}
		w := want[idx]
		if out.Base() != w.base || out.NrCids() != w.nr || !slices.Equal(slices.Collect(out.Cids()), w.cids) {
			t.Errorf("shard %d: (%d,%d) %v, want (%d,%d) %v", idx, out.Base(), out.NrCids(),
				slices.Collect(out.Cids()), w.base, w.nr, w.cids)
		}
	}
	// Too little room: the kernel's error, out left empty at the shard base.
	small := cmask.NewCap(0, 0, 0) // alloc_words 1
	var se *Error
	if err := ref.Shard(1, small); err != nil || small.Base() != 6 || small.NrCids() != 6 {
		t.Fatalf("shard 1 into 1 word: %v (%d,%d)", err, small.Base(), small.NrCids())
	}
	// A cmask over [60, 70) straddles a word boundary: 2 words needed.
	straddle := cmask.New(60, 10)
	straddle.Fill()
	m2, _ := Spec{1, 1, 40, 2}.Machine(Linear) // one LLC of 80 cpus
	t2, _ := NewCidTable(m2, 80)
	sref, err := t2.RefInit(straddle)
	if err != nil {
		t.Fatal(err)
	}
	err = sref.Shard(0, small)
	if !errors.As(err, &se) || se.Msg != "scx_cmask_ref_shard: out alloc_words=1 < 2 for shard 0" {
		t.Fatalf("overflow error %v", err)
	}
	if small.Base() != 0 || small.NrCids() != 0 {
		t.Fatalf("out after overflow (%d,%d)", small.Base(), small.NrCids())
	}

	// Or and Copy write only the snapshotted range.
	dst := cmask.New(0, 32)
	dref, _ := tbl.RefInit(dst)
	dref.NrCids = 10 // a snapshot narrower than the live header
	dst.Set(20)
	dref.Or(src)
	if got := slices.Collect(dst.Cids()); !slices.Equal(got, []uint32{3, 6, 9, 20}) {
		t.Errorf("ref Or: %v", got)
	}
	empty := cmask.New(0, 32)
	dref.Copy(empty)
	if got := slices.Collect(dst.Cids()); !slices.Equal(got, []uint32{20}) {
		t.Errorf("ref Copy: %v", got)
	}
}

func TestCpumaskConversion(t *testing.T) {
	tbl := refTable(t)
	cpus := NewCPUMask(tbl.NrCPUIDs())
	for _, c := range []int{0, 1, 16, 17, 31} {
		cpus.Set(c)
	}
	// cid 2k is cpu k, cid 2k+1 is cpu k+16: cpus 0,1,16,17,31 are cids
	// 0,2,1,3,31.
	dst := cmask.New(1, 30) // [1,31): cids 0 and 31 fall outside
	dst.Fill()
	tbl.CpumaskToCmask(cpus, dst)
	if got := slices.Collect(dst.Cids()); !slices.Equal(got, []uint32{1, 2, 3}) {
		t.Fatalf("CpumaskToCmask: %v", got)
	}
	back := NewCPUMask(tbl.NrCPUIDs())
	back.Set(5)
	tbl.CmaskToCpumask(dst, back)
	if got := back.List(); !slices.Equal(got, []int{1, 16, 17}) {
		t.Fatalf("CmaskToCpumask: %v", got)
	}

	// The ref form rewrites the header from trusted geometry and fills the
	// range; garbage in the storage is overwritten.
	m, _ := cmask.View(make([]byte, cmask.Size(40)))
	for i := range uint32(6) {
		m.SetWord(i, ^uint64(0))
	}
	ref, err := tbl.RefInitKern(m, 1, 31)
	if err != nil {
		t.Fatal(err)
	}
	if m.Base() != 1 || m.NrCids() != 31 || m.AllocWords() != cmask.NrWords(31) {
		t.Fatalf("header (%d,%d,%d)", m.Base(), m.NrCids(), m.AllocWords())
	}
	ref.FromCpumask(cpus)
	if got := slices.Collect(m.Cids()); !slices.Equal(got, []uint32{1, 2, 3, 31}) {
		t.Fatalf("FromCpumask: %v", got)
	}
	if m.Word(0)&1 != 0 {
		t.Fatal("FromCpumask left head padding set")
	}
	if _, err := tbl.RefInitKern(m, 30, 5); err == nil {
		t.Fatal("RefInitKern beyond cid space accepted")
	}
}
