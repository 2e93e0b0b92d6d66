package e2e

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/scxsim/scxsim/bpf/arena"
)

// layout gives the byte offsets of a struct's members from BTF, so the test
// reads the nodes at the offsets clang chose.
type layout map[string]int

func structLayout(t *testing.T, typ btf.Type) (layout, *btf.Struct) {
	t.Helper()
	s, ok := btf.UnderlyingType(typ).(*btf.Struct)
	if !ok {
		t.Fatalf("%v is not a struct", typ)
	}
	l := layout{"sizeof": int(s.Size)}
	for _, m := range s.Members {
		l[m.Name] = int(m.Offset.Bytes())
	}
	return l, s
}

// memberTarget is the struct a pointer member of s points to.
func memberTarget(t *testing.T, s *btf.Struct, name string) btf.Type {
	t.Helper()
	for _, m := range s.Members {
		if m.Name != name {
			continue
		}
		typ := btf.UnderlyingType(m.Type)
		for {
			if tag, ok := typ.(*btf.TypeTag); ok {
				typ = btf.UnderlyingType(tag.Type)
				continue
			}
			break
		}
		p, ok := typ.(*btf.Pointer)
		if !ok {
			t.Fatalf("member %s is %v, not a pointer", name, m.Type)
		}
		return p.Target
	}
	t.Fatalf("struct %s has no member %s", s.Name, name)
	return nil
}

func (ev *env) globalType(name string) (uint32, btf.Type) {
	for _, g := range ev.obj.Globals {
		if g.Name == name {
			return g.Offset, g.Type
		}
	}
	ev.t.Fatalf("no global %s", name)
	return 0, nil
}

// node is one list/tree node as Go reads it from the arena's user view.
type node struct {
	addr                        uint64
	next, left, right, key, val uint64
	seq, depth                  uint32
}

type listView struct {
	ev        *env
	st, nd    layout
	stAddr    uint64 // user address of the __arena global st
	pageBytes int
}

func (lv *listView) stU64(field string) uint64 {
	return lv.ev.userU64(lv.stAddr + uint64(lv.st[field]))
}

func (lv *listView) stU32(field string) uint32 {
	return binary.LittleEndian.Uint32(lv.ev.user(lv.stAddr+uint64(lv.st[field]), 4))
}

// read follows a user-view pointer stored by BPF code; it must lie inside
// the arena's user range.
func (lv *listView) read(addr uint64) node {
	a := lv.ev.arena
	if addr < a.UserBase() || addr+uint64(lv.nd["sizeof"]) > a.UserEnd() {
		lv.ev.t.Fatalf("node pointer %#x outside the arena's user range [%#x, %#x)", addr, a.UserBase(), a.UserEnd())
	}
	b := lv.ev.user(addr, lv.nd["sizeof"])
	u64 := func(f string) uint64 { return binary.LittleEndian.Uint64(b[lv.nd[f]:]) }
	u32 := func(f string) uint32 { return binary.LittleEndian.Uint32(b[lv.nd[f]:]) }
	return node{addr: addr, next: u64("next"), left: u64("left"), right: u64("right"),
		key: u64("key"), val: u64("val"), seq: u32("seq"), depth: u32("depth")}
}

func newListView(t *testing.T, ev *env) *listView {
	off, typ := ev.globalType("st")
	st, s := structLayout(t, typ)
	nd, _ := structLayout(t, memberTarget(t, s, "head"))
	for _, f := range []string{"next", "left", "right", "key", "val", "seq", "depth"} {
		if _, ok := nd[f]; !ok {
			t.Fatalf("struct node has no %s", f)
		}
	}
	// libbpf places .addr_space.1 at the end of the arena: the globals
	// here fit one page, so st sits in the last page at its section offset.
	a := ev.arena
	want := a.UserEnd() - arena.PageSize + uint64(off)
	got := ev.u64("st_addr")
	if got != want {
		t.Fatalf("BPF sees &st = %#x, want %#x (last arena page + %d)", got, want, off)
	}
	return &listView{ev: ev, st: st, nd: nd, stAddr: got}
}

// model is what the Go side expects: nodes in insertion order with the
// depth a BST insertion (smaller keys left, equal or larger right) gives.
type model struct {
	keys, vals []uint64
	depth      []uint32
	left       []int // child seq or -1
	right      []int
}

func (m *model) insert(key, val uint64) {
	n := len(m.keys)
	m.keys, m.vals = append(m.keys, key), append(m.vals, val)
	m.left, m.right = append(m.left, -1), append(m.right, -1)
	m.depth = append(m.depth, 0)
	if n == 0 {
		return
	}
	cur, d := 0, uint32(0)
	for {
		d++
		link := &m.right[cur]
		if key < m.keys[cur] {
			link = &m.left[cur]
		}
		if *link < 0 {
			*link = n
			m.depth[n] = d
			return
		}
		cur = *link
	}
}

// inorder is the seqs sorted by key, equal keys in insertion order.
func (m *model) inorder() []uint32 {
	out := make([]uint32, len(m.keys))
	for i := range out {
		out[i] = uint32(i)
	}
	slices.SortStableFunc(out, func(a, b uint32) int { return cmp.Compare(m.keys[a], m.keys[b]) })
	return out
}

const maxKeys = 512 // MAX_KEYS of arena_list.bpf.c

// check walks the list and the tree from st through the user view.
func (lv *listView) check(t *testing.T, m *model) []node {
	t.Helper()
	n := len(m.keys)
	if got := lv.stU64("nr_nodes"); got != uint64(n) {
		t.Fatalf("st.nr_nodes = %d, want %d", got, n)
	}
	perPage := arena.PageSize / lv.nd["sizeof"]
	if got, want := lv.stU64("nr_pages"), uint64((n+perPage-1)/perPage); got != want {
		t.Errorf("st.nr_pages = %d, want %d (%d nodes of %d bytes)", got, want, n, lv.nd["sizeof"])
	}
	// List: insertion order, every field as written.
	var nodes []node
	byAddr := map[uint64]int{}
	addr := lv.stU64("head")
	for i := 0; addr != 0; i++ {
		if i >= n {
			t.Fatalf("list longer than %d nodes", n)
		}
		nd := lv.read(addr)
		if nd.seq != uint32(i) || nd.key != m.keys[i] || nd.val != m.vals[i] {
			t.Fatalf("node %d at %#x: seq %d key %d val %d, want seq %d key %d val %d",
				i, addr, nd.seq, nd.key, nd.val, i, m.keys[i], m.vals[i])
		}
		if nd.depth != m.depth[i] {
			t.Errorf("node %d: depth %d, want %d", i, nd.depth, m.depth[i])
		}
		if i%perPage == 0 && addr%arena.PageSize != 0 {
			t.Errorf("node %d at %#x: the first node of a page is not page-aligned", i, addr)
		}
		if _, dup := byAddr[addr]; dup {
			t.Fatalf("node %d at %#x: address already used", i, addr)
		}
		byAddr[addr] = i
		nodes = append(nodes, nd)
		addr = nd.next
	}
	if len(nodes) != n {
		t.Fatalf("list has %d nodes, want %d", len(nodes), n)
	}
	if n > 0 && lv.stU64("tail") != nodes[n-1].addr {
		t.Errorf("st.tail = %#x, want the last node %#x", lv.stU64("tail"), nodes[n-1].addr)
	}
	// Tree: children are the nodes the model links, in-order is sorted.
	root := lv.stU64("root")
	if n == 0 {
		if root != 0 {
			t.Errorf("empty tree has root %#x", root)
		}
		return nodes
	}
	if root != nodes[0].addr {
		t.Fatalf("root %#x, want the first node %#x", root, nodes[0].addr)
	}
	child := func(p uint64, want int) {
		if want < 0 && p != 0 || want >= 0 && p != nodes[want].addr {
			t.Fatalf("tree link %#x, want node %d", p, want)
		}
	}
	var order []uint32
	var maxDepth uint32
	stack := []uint64{}
	cur := root
	for steps := 0; cur != 0 || len(stack) > 0; steps++ {
		if steps > 2*n+2 {
			t.Fatal("tree walk does not end")
		}
		for cur != 0 {
			stack = append(stack, cur)
			cur = nodes[byAddr[cur]].left
		}
		cur, stack = stack[len(stack)-1], stack[:len(stack)-1]
		i := byAddr[cur]
		child(nodes[i].left, m.left[i])
		child(nodes[i].right, m.right[i])
		order = append(order, nodes[i].seq)
		maxDepth = max(maxDepth, nodes[i].depth)
		cur = nodes[i].right
	}
	if !slices.Equal(order, m.inorder()) {
		t.Errorf("in-order walk %v, want %v", order, m.inorder())
	}
	if got := lv.stU32("max_depth"); got != maxDepth {
		t.Errorf("st.max_depth = %d, want %d", got, maxDepth)
	}
	return nodes
}

// BPF builds a list and a tree in arena pages; Go walks both through the
// user view, edits values and links, and BPF sees the edits.
func TestArenaLinkedStructures(t *testing.T) {
	cases := []struct {
		name     string
		seed     uint64
		batches  []int
		keyRange uint64 // small ranges give duplicate keys
	}{
		{"one node", 1, []int{1}, 1 << 40},
		{"page boundary", 2, []int{85, 1}, 1 << 40},
		{"duplicates", 3, []int{60, 60}, 8},
		{"several pages", 4, []int{200, 7, 512, 300}, 1 << 62},
		{"sorted input", 5, []int{0, 100}, 0}, // keyRange 0: ascending keys
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := load(t, "arena_list.bpf.o")
			r := rand.New(rand.NewPCG(c.seed, 99))
			m := &model{}
			var lv *listView
			for bi, nb := range c.batches {
				keys, vals := make([]uint64, maxKeys), make([]uint64, maxKeys)
				for i := range nb {
					if c.keyRange == 0 {
						keys[i] = uint64(len(m.keys) + i)
					} else {
						keys[i] = r.Uint64N(c.keyRange)
					}
					vals[i] = r.Uint64()
				}
				ev.set("keys", u64s(keys))
				ev.set("vals", u64s(vals))
				ev.set("nr_keys", uint32(nb))
				for i := range nb {
					m.insert(keys[i], vals[i])
				}
				if got := ev.run("build"); int32(got) != int32(len(m.keys)) {
					t.Fatalf("batch %d: build returned %d, want %d nodes", bi, int32(got), len(m.keys))
				}
				if lv == nil {
					lv = newListView(t, ev)
				}
				lv.check(t, m)
			}
			if got, want := ev.u64("magic_seen"), ev.u64("magic"); got != want || want != 0x5ca1ab1e0ddba11 {
				t.Errorf("BPF read the initialised __arena global as %#x; Go reads %#x", got, want)
			}
			perPage := arena.PageSize / lv.nd["sizeof"]
			if got, want := ev.arena.Populated(), 1+(len(m.keys)+perPage-1)/perPage; got != want {
				t.Errorf("%d arena pages populated, want %d (globals + node pages)", got, want)
			}

			// Go -> BPF: new values and a shortened list written through
			// the user view are what BPF's walk sees.
			nodes := lv.check(t, m)
			var sum uint64
			for i := range nodes {
				v := r.Uint64()
				m.vals[i] = v
				sum += v
				if err := ev.arena.UserWrite(nodes[i].addr+uint64(lv.nd["val"]), u64s([]uint64{v})); err != nil {
					t.Fatal(err)
				}
			}
			ev.run("sum")
			if got := ev.u64("nr_seen"); got != uint64(len(nodes)) {
				t.Errorf("BPF walked %d nodes, want %d", got, len(nodes))
			}
			if got := ev.u64("sum_vals"); got != sum {
				t.Errorf("BPF sum of values %#x, want %#x", got, sum)
			}
			factor := r.Uint64() | 1
			ev.set("factor", factor)
			ev.run("scale")
			for i, nd := range nodes {
				if got, want := ev.userU64(nd.addr+uint64(lv.nd["val"])), m.vals[i]*factor; got != want {
					t.Fatalf("node %d: scaled value %#x, want %#x", i, got, want)
				}
			}
			if len(nodes) > 2 {
				// Unlink the second node: head->next = third.
				cut := nodes[2].addr
				if err := ev.arena.UserWrite(nodes[0].addr+uint64(lv.nd["next"]), u64s([]uint64{cut})); err != nil {
					t.Fatal(err)
				}
				ev.run("sum")
				if got := ev.u64("nr_seen"); got != uint64(len(nodes)-1) {
					t.Errorf("after unlinking one node BPF walked %d nodes, want %d", got, len(nodes)-1)
				}
				var want uint64
				for i := range nodes {
					if i != 1 {
						want += m.vals[i] * factor
					}
				}
				if got := ev.u64("sum_vals"); got != want {
					t.Errorf("after unlinking, BPF sum %#x, want %#x", got, want)
				}
			}
		})
	}
}

// Nodes beyond the arena: build stops with -ENOMEM once
// bpf_arena_alloc_pages fails, and what was built stays consistent.
func TestArenaExhausted(t *testing.T) {
	ev := load(t, "arena_list.bpf.o")
	keys := make([]uint64, maxKeys)
	vals := make([]uint64, maxKeys)
	for i := range keys {
		keys[i], vals[i] = uint64(i*7919%maxKeys), uint64(i)
	}
	ev.set("keys", u64s(keys))
	ev.set("vals", u64s(vals))
	ev.set("nr_keys", uint32(maxKeys))
	pages := int(ev.arena.Spec().MaxEntries) - 1 // one page holds the globals
	var lv *listView
	var ret int32
	batches := 0
	for ; batches < 40; batches++ {
		ret = int32(ev.run("build"))
		if lv == nil {
			lv = newListView(t, ev)
		}
		if ret < 0 {
			break
		}
	}
	if ret != -12 {
		t.Fatalf("build returned %d after %d batches, want -ENOMEM", ret, batches)
	}
	perPage := arena.PageSize / lv.nd["sizeof"]
	if got := lv.stU64("nr_pages"); got != uint64(pages) {
		t.Errorf("st.nr_pages = %d, want all %d free pages", got, pages)
	}
	n := pages * perPage
	m := &model{}
	for i := range n {
		m.insert(keys[i%maxKeys], vals[i%maxKeys])
	}
	lv.check(t, m)
	if ev.arena.Populated() != pages+1 {
		t.Errorf("%d pages populated, want %d", ev.arena.Populated(), pages+1)
	}
	if v := ev.arena.Violations(); v != 0 {
		t.Errorf("%d arena violations", v)
	}
}

// A BPF load from an unpopulated arena page yields 0 and a store to one is
// dropped, each reported once on the program's stderr stream with the
// user-view address; once user space touches the page, both work.
func TestArenaFaultFromBPF(t *testing.T) {
	for _, pageIdx := range []uint64{0, 17, 62} {
		t.Run(fmt.Sprint("page ", pageIdx), func(t *testing.T) {
			ev := load(t, "arena_list.bpf.o")
			a := ev.arena
			addr := a.UserBase() + pageIdx*arena.PageSize + 8*pageIdx + 8
			populated := a.Populated()
			ev.set("fault_addr", addr)

			ev.set("fault_val", uint64(0x1111))
			ev.run("fault_load")
			if got := ev.u64("fault_val"); got != 0 {
				t.Errorf("load from an unpopulated page gave %#x, want 0", got)
			}
			wantReport := func(prog, kind string) {
				t.Helper()
				out := ev.stderr(prog)
				head := fmt.Sprintf("ERROR: Arena %s access at unmapped address 0x%x\n", kind, addr)
				if strings.Count(out, "ERROR: Arena") != 1 || !strings.HasPrefix(out, head) {
					t.Errorf("%s stderr:\n%s\nwant one report starting %q", prog, out, head)
				}
				if !strings.Contains(out, prog) {
					t.Errorf("%s stderr does not name the program:\n%s", prog, out)
				}
			}
			wantReport("fault_load", "READ")
			if a.Violations() != 1 {
				t.Errorf("%d violations after one faulting load", a.Violations())
			}

			ev.set("fault_val", uint64(0xdead))
			ev.run("fault_store")
			wantReport("fault_store", "WRITE")
			if a.Violations() != 2 {
				t.Errorf("%d violations after a faulting store", a.Violations())
			}
			if a.Populated() != populated {
				t.Errorf("BPF faults populated pages: %d -> %d", populated, a.Populated())
			}
			// The store was dropped: user space faults a fresh zero page in.
			if got := ev.userU64(addr); got != 0 {
				t.Errorf("user read after the dropped store: %#x, want 0", got)
			}
			if a.Populated() != populated+1 {
				t.Errorf("user touch left %d pages populated, want %d", a.Populated(), populated+1)
			}
			if err := a.UserWrite(addr, u64s([]uint64{0x600d})); err != nil {
				t.Fatal(err)
			}
			ev.run("fault_load")
			if got := ev.u64("fault_val"); got != 0x600d {
				t.Errorf("BPF load after the user write: %#x, want 0x600d", got)
			}
			ev.set("fault_val", uint64(0xbeef))
			ev.run("fault_store")
			if got := ev.userU64(addr); got != 0xbeef {
				t.Errorf("user read after the BPF store: %#x, want 0xbeef", got)
			}
			for _, p := range []string{"fault_load", "fault_store"} {
				if out := ev.stderr(p); out != "" {
					t.Errorf("%s reported on a populated page:\n%s", p, out)
				}
			}
			if a.Violations() != 2 {
				t.Errorf("%d violations, want still 2", a.Violations())
			}
		})
	}
}

// An addr_space_cast in a program with no instruction naming the arena map
// fails the load in the verifier's words, instead of faulting at run time.
func TestArenaCastNeedsAssociatedArena(t *testing.T) {
	_, err := tryLoad(t, "arena_unassociated.bpf.o")
	const want = "prog load_through_int: insn 3: addr_space_cast insn can only be used in a program that has an associated arena"
	if err == nil || err.Error() != want {
		t.Fatalf("load: %v, want %q", err, want)
	}
}
