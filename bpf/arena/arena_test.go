package arena

import (
	"errors"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
)

const mmapable = FlagMmapable

// Spec is the map definition, without its Type: create sets it.
type Spec = maps.Spec

func create(spec Spec, opts Options) (*Arena, error) {
	spec.Type = maps.TypeArena
	return New(vm.NewMemory(), &spec, opts)
}

func mustNew(t testing.TB, spec Spec) *Arena {
	t.Helper()
	a, err := create(spec, Options{})
	if err != nil {
		t.Fatalf("New(%+v): %v", spec, err)
	}
	if spec.MapExtra == 0 {
		if _, err := a.Mmap(0, uint64(spec.MaxEntries)*PageSize); err != nil {
			t.Fatalf("Mmap: %v", err)
		}
	}
	t.Cleanup(func() {
		for a.Refs() > 0 {
			a.Put()
		}
	})
	return a
}

// Every attribute error arena_map_alloc() returns, and the accepted edges.
func TestNewValidation(t *testing.T) {
	cases := []struct {
		name string
		spec Spec
		want error
	}{
		{"minimal", Spec{MaxEntries: 1, Flags: mmapable}, nil},
		{"key size", Spec{KeySize: 4, MaxEntries: 1, Flags: mmapable}, syscall.EINVAL},
		{"value size", Spec{ValueSize: 8, MaxEntries: 1, Flags: mmapable}, syscall.EINVAL},
		{"zero max_entries", Spec{MaxEntries: 0, Flags: mmapable}, syscall.EINVAL},
		{"no BPF_F_MMAPABLE", Spec{MaxEntries: 1}, syscall.EINVAL},
		{"only SEGV_ON_FAULT", Spec{MaxEntries: 1, Flags: FlagSegvOnFault}, syscall.EINVAL},
		{"BPF_F_NO_PREALLOC", Spec{MaxEntries: 1, Flags: mmapable | 1}, syscall.EINVAL},
		{"BPF_F_RDONLY_PROG", Spec{MaxEntries: 1, Flags: mmapable | 1<<7}, syscall.EINVAL},
		{"BPF_F_INNER_MAP", Spec{MaxEntries: 1, Flags: mmapable | 1<<12}, syscall.EINVAL},
		{"BPF_F_TOKEN_FD", Spec{MaxEntries: 1, Flags: mmapable | 1<<16}, syscall.EINVAL},
		{"all accepted flags", Spec{MaxEntries: 1, Flags: mmapable | FlagSegvOnFault | FlagNoUserConv}, nil},
		{"map_extra unaligned", Spec{MaxEntries: 1, Flags: mmapable, MapExtra: 1<<44 + 8}, syscall.EINVAL},
		{"map_extra aligned", Spec{MaxEntries: 1, Flags: mmapable, MapExtra: 1 << 44}, nil},
		{"4 GiB", Spec{MaxEntries: 1 << 20, Flags: mmapable}, nil},
		{"over 4 GiB", Spec{MaxEntries: 1<<20 + 1, Flags: mmapable}, syscall.E2BIG},
		{"max u32 pages", Spec{MaxEntries: ^uint32(0), Flags: mmapable}, syscall.E2BIG},
		{"4 GiB at aligned map_extra", Spec{MaxEntries: 1 << 20, Flags: mmapable, MapExtra: 1 << 44}, nil},
		{"4 GiB at unaligned-to-4G map_extra", Spec{MaxEntries: 1 << 20, Flags: mmapable, MapExtra: 1<<44 + PageSize}, syscall.ERANGE},
		{"crosses 4 GiB", Spec{MaxEntries: 2, Flags: mmapable, MapExtra: 1<<32 - PageSize}, syscall.ERANGE},
		{"ends at 4 GiB", Spec{MaxEntries: 1, Flags: mmapable, MapExtra: 1<<32 - PageSize}, nil},
		{"key size checked before map_extra", Spec{KeySize: 1, MaxEntries: 1, Flags: mmapable, MapExtra: 3}, syscall.EINVAL},
		{"map_extra checked before size", Spec{MaxEntries: 1<<20 + 1, Flags: mmapable, MapExtra: 3}, syscall.EINVAL},
		{"size checked before range", Spec{MaxEntries: 1<<20 + 1, Flags: mmapable, MapExtra: 1<<32 - PageSize}, syscall.E2BIG},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := create(c.spec, Options{})
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("New = %v, want %v", err, c.want)
			}
			if err == nil {
				if a.Refs() != 1 || a.UserBase() != c.spec.MapExtra {
					t.Fatalf("refs %d base %#x", a.Refs(), a.UserBase())
				}
				a.Put()
			}
		})
	}
}

func TestMmap(t *testing.T) {
	cases := []struct {
		name      string
		spec      Spec
		addr, len uint64
		want      uint64
		err       error
	}{
		{"kernel picks", Spec{MaxEntries: 16}, 0, 16 * PageSize, DefaultUserBase, nil},
		{"kernel picks, rounded to 4G", Spec{MaxEntries: 1 << 20}, 0, 1 << 32, (DefaultUserBase + 1<<32 - 1) &^ (1<<32 - 1), nil},
		{"fixed by caller", Spec{MaxEntries: 4}, 1 << 40, 4 * PageSize, 1 << 40, nil},
		{"caller address crossing 4G", Spec{MaxEntries: 4}, 1<<40 - PageSize, 4 * PageSize, 0, syscall.EINVAL},
		{"wrong length", Spec{MaxEntries: 4}, 0, 2 * PageSize, 0, syscall.EINVAL},
		{"over 4G", Spec{MaxEntries: 4}, 0, 1<<32 + PageSize, 0, syscall.E2BIG},
		{"map_extra, same address", Spec{MaxEntries: 4, MapExtra: 1 << 44}, 1 << 44, 4 * PageSize, 1 << 44, nil},
		{"map_extra, NULL address", Spec{MaxEntries: 4, MapExtra: 1 << 44}, 0, 4 * PageSize, 0, syscall.EINVAL},
		{"map_extra, other address", Spec{MaxEntries: 4, MapExtra: 1 << 44}, 1 << 45, 4 * PageSize, 0, syscall.EINVAL},
		{"map_extra, longer", Spec{MaxEntries: 4, MapExtra: 1 << 44}, 1 << 44, 8 * PageSize, 0, syscall.E2BIG},
		{"map_extra, shorter", Spec{MaxEntries: 4, MapExtra: 1 << 44}, 1 << 44, 2 * PageSize, 0, syscall.EINVAL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.spec.Flags = mmapable
			a, err := create(c.spec, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Put()
			got, err := a.Mmap(c.addr, c.len)
			if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("Mmap = %#x, %v; want %#x, %v", got, err, c.want, c.err)
			}
			if err == nil {
				if a.UserBase() != c.want || a.UserEnd() != c.want+c.len || a.VM().UserBase != c.want {
					t.Fatalf("user range [%#x,%#x) view %#x", a.UserBase(), a.UserEnd(), a.VM().UserBase)
				}
				// A second mapping must name the same range.
				if again, err := a.Mmap(c.want, c.len); err != nil || again != c.want {
					t.Fatalf("second Mmap = %#x, %v", again, err)
				}
			}
		})
	}
}

// addr_space_cast both ways, as the x86-64 JIT emits it.
func TestCasts(t *testing.T) {
	cases := []struct {
		name              string
		userStart, in     uint64
		kern, user, round uint64
	}{
		{"aligned base, page 1", 1 << 44, 1<<44 + PageSize, PageSize, 1<<44 + PageSize, 1<<44 + PageSize},
		{"aligned base, offset 0 is NULL", 1 << 44, 1 << 44, 0, 0, 0},
		{"unaligned base", 0x7f7d_2620_0000, 0x7f7d_2620_0010, 0x2620_0010, 0x7f7d_2620_0010, 0x7f7d_2620_0010},
		{"NULL stays NULL", 0x7f7d_2620_0000, 0, 0, 0, 0},
		{"kernel form in", 0x7f7d_2620_0000, 0x2620_1000, 0x2620_1000, 0x7f7d_2620_1000, 0x7f7d_2620_1000},
		{"upper bits of a foreign pointer dropped", 0x7f7d_2620_0000, 0xdead_0000_0042, 0x42, 0x7f7d_0000_0042, 0x7f7d_0000_0042},
		{"base below 4G", 0x1000_0000, 0x1000_2000, 0x1000_2000, 0x1000_2000, 0x1000_2000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := CastKern(c.in)
			u := CastUser(c.userStart, c.in)
			r := CastUser(c.userStart, CastKern(c.in))
			if k != c.kern || u != c.user || r != c.round {
				t.Fatalf("kern %#x user %#x round %#x; want %#x %#x %#x", k, u, r, c.kern, c.user, c.round)
			}
		})
	}
}

func TestValueAddr(t *testing.T) {
	a := mustNew(t, Spec{MaxEntries: 2, Flags: mmapable, MapExtra: 1 << 44})
	cases := []struct {
		off  uint32
		want uint64
		err  error
	}{
		{0, 1 << 44, nil},
		{2*PageSize - 8, 1<<44 + 2*PageSize - 8, nil},
		{2 * PageSize, 0, syscall.ERANGE},
	}
	for _, c := range cases {
		got, err := a.ValueAddr(c.off)
		if got != c.want || err != c.err {
			t.Errorf("ValueAddr(%#x) = %#x, %v; want %#x, %v", c.off, got, err, c.want, c.err)
		}
	}
}

// maps.New builds arenas too, and the map layer sees them as maps.
func TestMapsNew(t *testing.T) {
	mem := vm.NewMemory()
	if _, err := maps.New(mem, &maps.Spec{Name: "bad", Type: maps.TypeArena, MaxEntries: 1}, 4); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("maps.New without BPF_F_MMAPABLE = %v", err)
	}
	m, err := maps.New(mem, &maps.Spec{Name: "arena", Type: maps.TypeArena, MaxEntries: 4, Flags: mmapable}, 4)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := m.(*Arena)
	if !ok {
		t.Fatalf("maps.New returned %T", m)
	}
	if got, ok := maps.RegistryOf(mem).Lookup(a.Addr()); !ok || got != m || a.Addr() == 0 {
		t.Fatal("arena not in the map registry")
	}
	ops := []struct {
		name string
		err  error
		want error
	}{
		{"lookup", a.Lookup(nil, nil, 0), syscall.EINVAL},
		{"update", a.Update(nil, nil, 0), syscall.EOPNOTSUPP},
		{"delete", a.Delete(nil), syscall.EOPNOTSUPP},
		{"next key", a.NextKey(nil, nil), syscall.EOPNOTSUPP},
		{"lookup and delete", a.LookupAndDelete(nil, nil, 0), maps.ENOTSUPP},
	}
	for _, o := range ops {
		if o.err != o.want {
			t.Errorf("%s = %v, want %v", o.name, o.err, o.want)
		}
	}
	if a.LookupElem(0, nil) != 0 {
		t.Error("program lookup returned a value")
	}
	if _, err := a.Mmap(0, 4*PageSize); err != nil {
		t.Fatal(err)
	}
	if err := a.Freeze(); err != syscall.EBUSY {
		t.Fatalf("freeze of a mapped arena = %v, want EBUSY", err)
	}
	a.Put()
	if _, ok := maps.RegistryOf(mem).Lookup(a.Addr()); ok {
		t.Fatal("released arena still registered")
	}
}

func TestGlobalsOffset(t *testing.T) {
	a := mustNew(t, Spec{MaxEntries: 4, Flags: mmapable, MapExtra: base})
	cases := []struct {
		size, want uint64
		err        error
	}{
		{1, 3 * PageSize, nil},
		{PageSize, 3 * PageSize, nil},
		{PageSize + 1, 2 * PageSize, nil},
		{4 * PageSize, 0, nil},
		{4*PageSize + 1, 0, syscall.E2BIG},
	}
	for _, c := range cases {
		got, err := a.GlobalsOffset(c.size)
		if got != c.want || err != c.err {
			t.Errorf("GlobalsOffset(%d) = %d, %v; want %d, %v", c.size, got, err, c.want, c.err)
		}
	}
}
