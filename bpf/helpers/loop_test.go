package helpers

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"testing"

	"github.com/scxsim/scxsim/bpf/vm"
)

func TestBpfLoop(t *testing.T) {
	v := newEnv(t, 1)
	ctx, cb := v.buf(16)
	// main(nr, stop, flags): bpf_loop(nr, cb, ctx, flags); cb adds i to
	// ctx[0], counts calls in ctx[8] and returns 1 when i == stop.
	p := v.load("loop", fmt.Sprintf(`
		mov %%r6, %%r2
		mov %%r4, %%r3
		lddw %%r2, CB(0)
		lddw %%r3, %#x
		stxdw [%%r3+8], %%r6
		call 181
		exit`, ctx), `
		ldxdw %r3, [%r2]
		add %r3, %r1
		stxdw [%r2], %r3
		ldxdw %r4, [%r2+8]
		mov %r0, 0
		jne %r1, %r4, +1
		mov %r0, 1
		exit`)
	cases := []struct {
		nr, stop, flags uint64
		want            uint64
		sum             uint64
	}{
		{10, 100, 0, 10, 45},
		{10, 3, 0, 4, 6},
		{0, 100, 0, 0, 0},
		{5, 100, 1, e(syscall.EINVAL), 0},
		{MaxLoops + 1, 100, 0, e(syscall.E2BIG), 0},
	}
	for _, c := range cases {
		clear(cb)
		if got := v.run(p, 0, c.nr, c.stop, c.flags); got != c.want || binary.LittleEndian.Uint64(cb) != c.sum {
			t.Fatalf("loop(%d, stop %d, flags %d) = %d sum %d, want %d sum %d",
				c.nr, c.stop, c.flags, int64(got), binary.LittleEndian.Uint64(cb), int64(c.want), c.sum)
		}
	}
	// A long loop runs past the base instruction budget: Exec.Call credits it.
	clear(cb)
	if got := v.run(p, 0, 300000, 1<<40, 0); got != 300000 {
		t.Fatalf("long loop %d", got)
	}
	if v.exec(0).Steps() <= vm.BaseBudget {
		t.Fatalf("long loop executed only %d steps", v.exec(0).Steps())
	}
}

func TestIterNum(t *testing.T) {
	v := newEnv(t, 1)
	// sum of i over bpf_for(i, start, end), or the error of iter_num_new.
	p := v.load("iter", fmt.Sprintf(`
		mov %%r7, 0
		mov %%r3, %%r2
		mov %%r2, %%r1
		mov %%r1, %%r10
		add %%r1, -8
		call runtime %d
		mov %%r8, %%r0
	next:
		mov %%r1, %%r10
		add %%r1, -8
		call runtime %d
		jeq %%r0, 0, done
		ldxw %%r1, [%%r0]
		lsh %%r1, 32
		arsh %%r1, 32
		add %%r7, %%r1
		ja next
	done:
		mov %%r1, %%r10
		add %%r1, -8
		call runtime %d
		mov %%r0, %%r7
		jeq %%r8, 0, +1
		mov %%r0, %%r8
		exit`, v.kfunc("bpf_iter_num_new"), v.kfunc("bpf_iter_num_next"), v.kfunc("bpf_iter_num_destroy")))
	cases := []struct {
		start, end int32
		want       int64
	}{
		{0, 5, 10}, {-3, 2, -5}, {4, 4, 0}, {5, 4, -int64(syscall.EINVAL)},
		{0, MaxLoops + 1, -int64(syscall.E2BIG)},
		{2147483646, 2147483647, 2147483646},
	}
	for _, c := range cases {
		if got := int64(v.run(p, 0, uint64(int64(c.start)), uint64(int64(c.end)))); got != c.want {
			t.Fatalf("iter(%d, %d) = %d, want %d", c.start, c.end, got, c.want)
		}
	}
	// 3M iterations need the credit of each successful next.
	n := int64(3_000_000)
	if got := int64(v.run(p, 0, 0, uint64(n))); got != n*(n-1)/2 {
		t.Fatalf("long iteration: %d", got)
	}
}
