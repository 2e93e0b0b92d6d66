package bpfsched_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/scxsim/scxsim/kernel/sched"
	"github.com/scxsim/scxsim/kernel/sched/schedtest"
	"github.com/scxsim/scxsim/kernel/scx"
	"github.com/scxsim/scxsim/kernel/scx/bpfsched"
	"github.com/scxsim/scxsim/kernel/topo"
)

// repoPath is a path relative to the repository root.
func repoPath(rel string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", rel)
}

func readObj(t testing.TB, rel string) []byte {
	t.Helper()
	raw, err := os.ReadFile(repoPath(rel))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// machine builds a one-node machine of n CPUs (LLCs of up to 16 CPUs,
// SMT pairs when n is even and above 1).
func machine(t testing.TB, n int) *topo.Machine {
	t.Helper()
	threads := 1
	if n > 1 && n%2 == 0 {
		threads = 2
	}
	cores := n / threads
	llcs := max(1, cores/8)
	for cores%llcs != 0 {
		llcs--
	}
	m, err := topo.Spec{Nodes: 1, LLCs: llcs, Cores: cores / llcs, Threads: threads}.Machine(topo.Linear)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// world is a simulated machine with the sched_ext class and a BPF object.
type world struct {
	t   testing.TB
	d   *schedtest.Driver
	x   *scx.Ext
	obj *bpfsched.Object
	m   *topo.Machine
}

func newWorld(t testing.TB, nCPU int, rel string, globals ...string) *world {
	t.Helper()
	return newWorldOn(t, machine(t, nCPU), rel, globals...)
}

func newWorldOn(t testing.TB, m *topo.Machine, rel string, globals ...string) *world {
	t.Helper()
	d := schedtest.New(m, sched.Options{})
	x := scx.New(d.Core)
	obj, err := bpfsched.Load(readObj(t, rel), bpfsched.Config{Machine: m, Globals: globals})
	if err != nil {
		t.Fatalf("load %s: %v", rel, err)
	}
	t.Cleanup(obj.Close)
	return &world{t: t, d: d, x: x, obj: obj, m: m}
}

func (w *world) attach() *bpfsched.Scheduler {
	w.t.Helper()
	s, err := w.obj.Attach(w.x)
	if err != nil {
		w.t.Fatalf("attach: %v", err)
	}
	w.d.Drain()
	return s
}

// spawn starts n tasks alternating run and sleep bursts.
func (w *world) spawn(n int, b schedtest.Behavior) []*sched.Task {
	w.t.Helper()
	var out []*sched.Task
	for i := 0; i < n; i++ {
		p, err := w.d.Spawn(sched.TaskSpec{Comm: "w" + itoa(i), CPU: i % w.m.NrCPUIDs()}, b)
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func (w *world) logHas(sub string) bool {
	for _, l := range w.x.Log() {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func (w *world) global(name string) []byte {
	w.t.Helper()
	b, err := w.obj.Obj.ReadGlobal(name)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}
