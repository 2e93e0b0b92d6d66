package e2e

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/scxsim/scxsim/bpf/arena"
	"github.com/scxsim/scxsim/kernel/cmask"
)

// Operation codes of cmask_ops.bpf.c (enum op_code), in order.
const (
	opInit = iota
	opReframe
	opZero
	opSet
	opClear
	opSetNA
	opClearNA
	opTestAndSet
	opTestAndClear
	opTestAndSetNA
	opTestAndClearNA
	opTest
	opWeight
	opFirst
	opNext
	opNextWrap
	opAnd
	opOr
	opCopy
	opAndNot
	opEqual
	opSubset
	opIntersects
	opNextAnd
	opNextAndWrap
	nrOps
)

var opNames = [nrOps]string{
	"init", "reframe", "zero", "set", "clear", "__set", "__clear",
	"test_and_set", "test_and_clear", "__test_and_set", "__test_and_clear",
	"test", "weight", "first_set", "next_set", "next_set_wrap",
	"and", "or", "copy", "andnot", "equal", "subset", "intersects",
	"next_and_set", "next_and_set_wrap",
}

const (
	nrSlots  = 4    // NR_SLOTS
	slotCids = 8192 // SLOT_CIDS
	maxOps   = 256  // MAX_OPS
	opSize   = 24   // sizeof(struct op)
)

// slotBytes is the room each slot has: a cmask of SLOT_CIDS cids.
var slotBytes = cmask.Size(slotCids)

type cmOp struct{ code, a, b, x, y, z uint32 }

func (o cmOp) String() string {
	return fmt.Sprintf("%s(a=%d b=%d x=%d y=%d z=%d)", opNames[o.code], o.a, o.b, o.x, o.y, o.z)
}

func b2u(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}

// apply runs o on the Go-side masks with kernel/cmask and returns what the
// BPF helper is expected to return.
func apply(t *testing.T, m []cmask.Mask, o cmOp) uint64 {
	a, b := m[o.a], m[o.b]
	switch o.code {
	case opInit:
		if err := a.InitCap(o.x, o.y, o.z); err != nil {
			t.Fatalf("%v: %v", o, err)
		}
	case opReframe:
		if err := a.Reframe(o.x, o.y); err != nil {
			t.Fatalf("%v: %v", o, err)
		}
	case opZero:
		a.Zero()
	case opSet, opSetNA:
		a.Set(o.x)
	case opClear, opClearNA:
		a.Clear(o.x)
	case opTestAndSet, opTestAndSetNA:
		return b2u(a.TestAndSet(o.x))
	case opTestAndClear, opTestAndClearNA:
		return b2u(a.TestAndClear(o.x))
	case opTest:
		return b2u(a.Test(o.x))
	case opWeight:
		return uint64(a.Weight())
	case opFirst:
		return uint64(a.FirstSet())
	case opNext:
		return uint64(a.NextSet(o.x))
	case opNextWrap:
		return uint64(a.NextSetWrap(o.x))
	case opAnd:
		a.And(b)
	case opOr:
		a.Or(b)
	case opCopy:
		a.Copy(b)
	case opAndNot:
		a.AndNot(b)
	case opEqual:
		return b2u(a.Equal(b))
	case opSubset:
		// The SDK helper is also false when a's window is not inside b's;
		// kernel/cmask's SubsetOf only compares bits.
		inside := a.Base() >= b.Base() && uint64(a.Base())+uint64(a.NrCids()) <= uint64(b.Base())+uint64(b.NrCids())
		return b2u(inside && a.SubsetOf(b))
	case opIntersects:
		return b2u(a.Intersects(b))
	case opNextAnd:
		return uint64(cmask.NextAndSet(a, b, o.x))
	case opNextAndWrap:
		return uint64(cmask.NextAndSetWrap(a, b, o.x))
	default:
		t.Fatalf("bad op %v", o)
	}
	return 0
}

// cmaskCase shapes one random test: where windows sit and how large they
// get, so heads, tails and word offsets between masks vary.
type cmaskCase struct {
	name    string
	seed    uint64
	center  uint32 // windows start within spread of center
	spread  int
	maxCids int // largest alloc_cids
	ops     int // script length per round
	rounds  int
}

type gen struct {
	r *rand.Rand
	c cmaskCase
}

func (g *gen) base() uint32 {
	return uint32(max(0, int(g.c.center)+g.r.IntN(2*g.c.spread+1)-g.c.spread))
}

// window picks alloc_cids and nr_cids <= alloc_cids.
func (g *gen) window() (nr, alloc uint32) {
	alloc = uint32(g.r.IntN(g.c.maxCids + 1))
	if g.r.IntN(8) == 0 {
		return alloc, alloc
	}
	return uint32(g.r.IntN(int(alloc) + 1)), alloc
}

// cid picks a cid for an operation on m[a]: mostly inside its window (or
// another mask's), else at a window's edge, near the windows or an extreme
// value.
func (g *gen) cid(m []cmask.Mask, a uint32) uint32 {
	s := m[a]
	if g.r.IntN(4) == 0 {
		s = m[g.r.IntN(len(m))]
	}
	switch g.r.IntN(16) {
	case 0:
		return []uint32{0, 1, 63, 64, ^uint32(0), ^uint32(0) - 63}[g.r.IntN(6)]
	case 1, 2:
		return s.Base() + s.NrCids() - 1 + uint32(g.r.IntN(2)) - uint32(g.r.IntN(2))*s.NrCids()
	case 3, 4:
		lo, hi := ^uint32(0), uint32(0)
		for _, s := range m {
			lo, hi = min(lo, s.Base()), max(hi, s.Base()+s.NrCids())
		}
		lo = uint32(max(0, int64(lo)-70))
		return lo + uint32(g.r.IntN(int(hi-lo)+140))
	}
	if s.NrCids() == 0 {
		return s.Base()
	}
	return s.Base() + uint32(g.r.IntN(int(s.NrCids())))
}

// fill initialises a slot's bytes as Go would hand a cmask over: a window,
// random bits in it, and garbage in the storage past alloc_words, which no
// helper may touch.
func (g *gen) fill(b []byte) cmask.Mask {
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	m, err := cmask.View(b)
	if err != nil {
		panic(err)
	}
	nr, alloc := g.window()
	if err := m.InitCap(g.base(), nr, alloc); err != nil {
		panic(err)
	}
	g.scribble(m, true)
	return m
}

// scribble sets and clears random bits of m's window with kernel/cmask,
// at a random density; all sets gives a full window.
func (g *gen) scribble(m cmask.Mask, all bool) {
	nr := int(m.NrCids())
	if nr == 0 {
		return
	}
	p := []int{2, 4, 7}[g.r.IntN(3)] // in eighths
	n := min(nr, 2000)
	if all {
		n = nr
	}
	for i := range n {
		cid := m.Base() + uint32(i)
		if !all {
			cid = m.Base() + uint32(g.r.IntN(nr))
		}
		if g.r.IntN(8) < p {
			m.Set(cid)
		} else {
			m.Clear(cid)
		}
	}
}

func (g *gen) script(t *testing.T, m []cmask.Mask, n int) []cmOp {
	var s []cmOp
	for range n {
		o := cmOp{a: uint32(g.r.IntN(nrSlots)), b: uint32(g.r.IntN(nrSlots))}
		switch k := g.r.IntN(96); {
		case k == 0:
			nr, alloc := g.window()
			o.code, o.x, o.y, o.z = opInit, g.base(), nr, alloc
		case k == 1:
			// Reframe within the storage the header declares.
			aw := m[o.a].AllocWords()
			maxNr := (aw - 1) * 64
			o.code, o.x, o.y = opReframe, g.base(), uint32(g.r.IntN(int(maxNr)+1))
		case k == 2:
			o.code = opZero
		case k < 20:
			o.code = []uint32{opSet, opSetNA, opTestAndSet, opTestAndSetNA}[g.r.IntN(4)]
		case k < 32:
			o.code = []uint32{opClear, opClearNA, opTestAndClear, opTestAndClearNA}[g.r.IntN(4)]
		case k < 48:
			o.code = opTest
		case k < 60:
			o.code = []uint32{opWeight, opFirst, opNext, opNextWrap}[g.r.IntN(4)]
		case k < 72:
			o.code = []uint32{opAnd, opOr, opOr, opCopy, opCopy, opAndNot}[g.r.IntN(6)]
		case k < 84:
			o.code = []uint32{opEqual, opSubset, opIntersects}[g.r.IntN(3)]
		default:
			o.code = []uint32{opNextAnd, opNextAndWrap}[g.r.IntN(2)]
		}
		if o.code != opInit && o.code != opReframe {
			o.x = g.cid(m, o.a)
		}
		if o.code == opEqual && g.r.IntN(4) == 0 {
			// Equal windows happen rarely by chance: copy a's header and
			// bits to b first so equal() sees both outcomes.
			s = append(s, cmOp{code: opInit, a: o.b, x: m[o.a].Base(), y: m[o.a].NrCids(), z: m[o.a].NrCids()})
			apply(t, m, s[len(s)-1])
			s = append(s, cmOp{code: opCopy, a: o.b, b: o.a})
			apply(t, m, s[len(s)-1])
		}
		s = append(s, o)
		apply(t, m, o) // keep m current so later ops pick sensible args
		if o.code == opReframe {
			// Reframing leaves the storage past the window's words
			// as it was; the kernel's contract calls the bits garbage
			// and the BPF helpers that walk CMASK_NR_WORDS() words
			// (weight, equal, subset) would count them, where
			// kernel/cmask masks to the window. Users clear after
			// reframing, and so does the script.
			s = append(s, cmOp{code: opZero, a: o.a})
			apply(t, m, s[len(s)-1])
		}
	}
	return s
}

func encodeOps(ops []cmOp) []byte {
	b := make([]byte, maxOps*opSize)
	for i, o := range ops {
		for j, v := range []uint32{o.code, o.a, o.b, o.x, o.y, o.z} {
			binary.LittleEndian.PutUint32(b[i*opSize+4*j:], v)
		}
	}
	return b
}

// cmaskEnv is the loaded cmask_ops object with its slots located.
type cmaskEnv struct {
	*env
	slots [nrSlots]uint64 // user-view addresses
}

func loadCmask(t *testing.T) *cmaskEnv {
	ev := &cmaskEnv{env: load(t, "cmask_ops.bpf.o")}
	for _, g := range ev.obj.Globals {
		if g.Name == "ops" && g.Size != maxOps*opSize {
			t.Fatalf("ops is %d bytes, want %d", g.Size, maxOps*opSize)
		}
	}
	if ret := ev.run("setup"); ret != 0 {
		t.Fatalf("setup returned %d", int32(ret))
	}
	raw := ev.global("slot")
	a := ev.arena
	for i := range ev.slots {
		ev.slots[i] = binary.LittleEndian.Uint64(raw[8*i:])
		if ev.slots[i] < a.UserBase() || ev.slots[i]+uint64(slotBytes) > a.UserEnd() {
			t.Fatalf("slot %d at %#x outside the arena [%#x, %#x)", i, ev.slots[i], a.UserBase(), a.UserEnd())
		}
	}
	return ev
}

// write stores slot i's bytes: even slots through the user view (as user
// space does), odd ones through the kernel view (as the kernel does).
func (ev *cmaskEnv) write(i int, b []byte) {
	ev.t.Helper()
	var err error
	if i%2 == 0 {
		err = ev.arena.UserWrite(ev.slots[i], b)
	} else {
		err = ev.arena.KernelWrite(ev.arena.KernAddr(ev.slots[i]), b, arena.OnBehalf{})
	}
	if err != nil {
		ev.t.Fatalf("slot %d: %v", i, err)
	}
}

// read loads slot i's bytes, through the view write uses for it.
func (ev *cmaskEnv) read(i int) []byte {
	ev.t.Helper()
	if i%2 == 0 {
		return ev.user(ev.slots[i], slotBytes)
	}
	b := make([]byte, slotBytes)
	if err := ev.arena.KernelRead(ev.arena.KernAddr(ev.slots[i]), b, arena.OnBehalf{}); err != nil {
		ev.t.Fatalf("slot %d: %v", i, err)
	}
	return b
}

// diffMask describes where two cmask images differ.
func diffMask(got, want []byte) string {
	g, _ := cmask.View(got)
	w, _ := cmask.View(want)
	if !bytes.Equal(got[:cmask.HeaderSize], want[:cmask.HeaderSize]) {
		return fmt.Sprintf("header base/nr/alloc %d/%d/%d, want %d/%d/%d",
			g.Base(), g.NrCids(), g.AllocWords(), w.Base(), w.NrCids(), w.AllocWords())
	}
	for i := range w.StorageWords() {
		if g.Word(i) != w.Word(i) {
			return fmt.Sprintf("bits[%d] = %#016x, want %#016x (window [%d, %d), alloc_words %d)",
				i, g.Word(i), w.Word(i), w.Base(), w.Base()+w.NrCids(), w.AllocWords())
		}
	}
	return "same"
}

// The SDK's cmask helpers, compiled by clang-19 and run in the VM on cmasks
// in an arena, agree with kernel/cmask on the same bytes: Go initialises
// and edits the masks, BPF runs a random script and reports every result,
// and the arena's bytes afterwards are kernel/cmask's.
func TestCmaskRoundTrip(t *testing.T) {
	cases := []cmaskCase{
		{"small windows near 0", 1, 0, 100, 300, 100, 6},
		{"word-straddling windows", 2, 1000, 90, 200, 100, 6},
		{"large windows", 3, 5000, 2000, slotCids, 60, 5},
		{"high bases", 4, 3_000_000_000, 300, 700, 100, 6},
		{"tiny and empty", 5, 64, 3, 3, 100, 4},
		{"mixed", 6, 20000, 6000, 4000, 200, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := loadCmask(t)
			g := &gen{r: rand.New(rand.NewPCG(c.seed, 0xc5a5)), c: c}
			// Go's model: its own copy of each slot's bytes.
			model := make([]cmask.Mask, nrSlots)
			for i := range model {
				model[i] = g.fill(make([]byte, slotBytes))
				ev.write(i, model[i].Bytes())
			}
			for round := range c.rounds {
				if round > 0 {
					// Go edits the masks BPF left, on the arena's bytes.
					for i := range model {
						b := ev.read(i)
						m, _ := cmask.View(b)
						g.scribble(m, g.r.IntN(3) > 0)
						if g.r.IntN(3) == 0 {
							m.Or(model[g.r.IntN(nrSlots)])
						}
						ev.write(i, b)
						copy(model[i].Bytes(), b)
					}
				}
				// The script is generated on scratch copies so the model
				// starts from the state BPF starts from.
				scratch := make([]cmask.Mask, nrSlots)
				for i := range scratch {
					scratch[i], _ = cmask.View(bytes.Clone(model[i].Bytes()))
				}
				ops := g.script(t, scratch, c.ops)
				if len(ops) > maxOps {
					ops = ops[:maxOps]
				}
				ev.set("ops", encodeOps(ops))
				ev.set("nr_ops", uint32(len(ops)))
				if got := ev.run("run_ops"); int(got) != len(ops) {
					t.Fatalf("round %d: run_ops did %d ops, want %d", round, got, len(ops))
				}
				results := ev.global("results")
				for i, o := range ops {
					want := apply(t, model, o)
					if got := binary.LittleEndian.Uint64(results[8*i:]); got != want {
						t.Fatalf("round %d op %d %v: BPF returned %d, kernel/cmask %d", round, i, o, got, want)
					}
				}
				for i := range model {
					if got := ev.read(i); !bytes.Equal(got, model[i].Bytes()) {
						t.Fatalf("round %d: slot %d after the script: %s", round, i, diffMask(got, model[i].Bytes()))
					}
				}
			}
		})
	}
}
