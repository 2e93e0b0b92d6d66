package arena

import (
	"math/rand/v2"
	"testing"
)

// model is the free-page bitmap the range tree must represent.
type model []bool

func (m model) runs() [][2]uint32 {
	var out [][2]uint32
	for i := 0; i < len(m); {
		if !m[i] {
			i++
			continue
		}
		j := i
		for j < len(m) && m[j] {
			j++
		}
		out = append(out, [2]uint32{uint32(i), uint32(j - 1)})
		i = j
	}
	return out
}

// Random clear/set/find sequences against a bitmap: the runs always equal
// the bitmap's maximal runs, isSet agrees, and find returns the start of a
// smallest run that fits.
func TestRangeTreeModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 200; iter++ {
		n := uint32(1 + rng.IntN(64))
		var rt rangeTree
		rt.set(0, n)
		m := make(model, n)
		for i := range m {
			m[i] = true
		}
		for step := 0; step < 200; step++ {
			start := uint32(rng.IntN(int(n)))
			cnt := uint32(1 + rng.IntN(int(n-start)))
			switch rng.IntN(4) {
			case 0:
				rt.clear(start, cnt)
				for i := start; i < start+cnt; i++ {
					m[i] = false
				}
			case 1:
				rt.set(start, cnt)
				for i := start; i < start+cnt; i++ {
					m[i] = true
				}
			case 2:
				want := true
				for i := start; i < start+cnt; i++ {
					want = want && m[i]
				}
				if (rt.isSet(start, cnt) == nil) != want {
					t.Fatalf("isSet(%d,%d) disagrees with the model", start, cnt)
				}
			case 3:
				got, ok := rt.find(cnt)
				best := uint32(0)
				for _, r := range m.runs() {
					if sz := r[1] - r[0] + 1; sz >= cnt && (best == 0 || sz < best) {
						best = sz
					}
				}
				if ok != (best != 0) {
					t.Fatalf("find(%d) ok=%v, model best %d", cnt, ok, best)
				}
				if ok {
					var size uint32
					for _, r := range m.runs() {
						if r[0] == got {
							size = r[1] - r[0] + 1
						}
					}
					if size != best {
						t.Fatalf("find(%d) = %d (run of %d), smallest fit is %d", cnt, got, size, best)
					}
				}
			}
			want := m.runs()
			if len(want) != len(rt.runs) {
				t.Fatalf("%d runs, model %d", len(rt.runs), len(want))
			}
			for i, r := range rt.runs {
				if r.start != want[i][0] || r.last != want[i][1] {
					t.Fatalf("run %d = [%d,%d], model [%d,%d]", i, r.start, r.last, want[i][0], want[i][1])
				}
			}
		}
	}
}
