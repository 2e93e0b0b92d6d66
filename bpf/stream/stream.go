// Package stream implements BPF streams (kernel/bpf/stream.c): every loaded
// program has a stdout and a stderr stream, fed by the bpf_stream_vprintk
// kfunc and by the kernel's own violation reports (arena faults, stack
// dumps), and read from user space (bpftool prog tracelog; here Go and the
// scxsim CLI).
//
// A Set holds the streams of the programs of one simulation, keyed by
// program name. Set.Sink has the signature of vm.Exec.Stream, so the VM and
// the arena report through it; Set.Kfuncs gives the stream kfuncs for the
// loader's kfunc table.
package stream

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"syscall"
)

// Stream ids, as enum bpf_stream_id.
const (
	Stdout = 1 // BPF_STDOUT
	Stderr = 2 // BPF_STDERR
)

// MaxCapacity is BPF_STREAM_MAX_CAPACITY: bytes a stream holds unread
// before writers get ENOSPC.
const MaxCapacity = 100000

// Stream is one output stream of a program: a FIFO of messages whose unread
// bytes are bounded by MaxCapacity. Safe for concurrent use.
type Stream struct {
	mu       sync.Mutex
	elems    []string // unread messages, oldest first
	consumed int      // bytes of elems[0] already read
	capacity int      // bytes charged: unread messages in full
	readable int      // bytes not yet read
	dropped  int      // messages refused (ENOSPC/ENOMEM)
}

// charge reserves n bytes of capacity. Mirrors bpf_stream_consume_capacity().
func (s *Stream) charge(n int) error {
	if s.capacity >= MaxCapacity || s.capacity+n >= MaxCapacity {
		s.dropped++
		return syscall.ENOSPC
	}
	s.capacity += n
	return nil
}

// Push appends one message. An empty message is accepted and stores nothing;
// a message of MaxBprintfBuf bytes or more is refused with ENOMEM, and one
// that does not fit the capacity with ENOSPC.
// Mirrors bpf_stream_push_str().
func (s *Stream) Push(msg string) error {
	if msg == "" {
		return nil
	}
	if len(msg) >= MaxBprintfBuf {
		return syscall.ENOMEM
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.charge(len(msg)); err != nil {
		return err
	}
	s.elems = append(s.elems, msg)
	s.readable += len(msg)
	return nil
}

// commit appends the messages of a stage at once, charging their total.
// Mirrors bpf_stream_stage_commit().
func (s *Stream) commit(parts []string, total int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.charge(total); err != nil {
		return err
	}
	s.elems = append(s.elems, parts...)
	s.readable += total
	return nil
}

// Read consumes up to len(p) unread bytes, oldest first. It returns io.EOF
// when nothing is left. Mirrors bpf_stream_read().
func (s *Stream) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readable == 0 {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && len(s.elems) > 0 {
		head := s.elems[0]
		c := copy(p[n:], head[s.consumed:])
		n += c
		s.consumed += c
		if s.consumed == len(head) {
			s.capacity -= len(head)
			s.elems[0] = ""
			s.elems = s.elems[1:]
			s.consumed = 0
		}
	}
	s.readable -= n
	if len(s.elems) == 0 {
		s.elems = nil
	}
	return n, nil
}

// ReadAll consumes and returns everything unread.
func (s *Stream) ReadAll() string {
	s.mu.Lock()
	n := s.readable
	s.mu.Unlock()
	buf := make([]byte, n)
	m, _ := s.Read(buf)
	return string(buf[:m])
}

// Peek returns the unread text without consuming it.
func (s *Stream) Peek() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.elems) == 0 {
		return ""
	}
	out := make([]byte, 0, s.readable)
	out = append(out, s.elems[0][s.consumed:]...)
	for _, e := range s.elems[1:] {
		out = append(out, e...)
	}
	return string(out)
}

// Len is the number of unread bytes.
func (s *Stream) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readable
}

// Dropped counts messages refused because the stream was full.
func (s *Stream) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Prog is the pair of streams of one program (prog->aux->stream[]).
type Prog struct {
	Name   string
	Stdout Stream
	Stderr Stream
}

// Stream returns the stream with id Stdout or Stderr, or nil for any other
// id. Mirrors bpf_stream_get().
func (p *Prog) Stream(id int) *Stream {
	switch id {
	case Stdout:
		return &p.Stdout
	case Stderr:
		return &p.Stderr
	}
	return nil
}

// Set holds the streams of a group of programs by name, created on first
// use. Safe for concurrent use.
type Set struct {
	mu    sync.Mutex
	progs map[string]*Prog
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{progs: map[string]*Prog{}} }

// Prog returns the streams of the named program, creating them if needed.
func (s *Set) Prog(name string) *Prog {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.progs[name]
	if p == nil {
		p = &Prog{Name: name}
		s.progs[name] = p
	}
	return p
}

// Lookup returns the streams of the named program, or nil.
func (s *Set) Lookup(name string) *Prog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.progs[name]
}

// Remove drops a program's streams (bpf_prog_stream_free), discarding
// unread output.
func (s *Set) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.progs, name)
}

// Names lists the programs with streams, sorted.
func (s *Set) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.progs))
	for n := range s.progs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Sink writes msg to stream fd of program prog. Its signature is that of
// vm.Exec.Stream, the VM's seam for violation reports. Messages longer than
// a stream element are split; a full stream drops the message (counted in
// Dropped), as the kernel does.
func (s *Set) Sink(prog string, fd int, msg string) {
	st := s.Prog(prog).Stream(fd)
	if st == nil {
		return
	}
	var st2 Stage
	st2.Print(msg)
	_ = st2.Commit(st)
}

// Dump consumes and prints every program's unread output to w, programs in
// name order, stdout before stderr, each line prefixed with the program
// name and stream. The CLI prints streams with it after a run.
func (s *Set) Dump(w io.Writer) error {
	for _, name := range s.Names() {
		p := s.Lookup(name)
		if p == nil {
			continue
		}
		for _, id := range []int{Stdout, Stderr} {
			text := p.Stream(id).ReadAll()
			if text == "" {
				continue
			}
			label := "stdout"
			if id == Stderr {
				label = "stderr"
			}
			if err := writePrefixed(w, fmt.Sprintf("%s %s: ", name, label), text); err != nil {
				return err
			}
		}
	}
	return nil
}

func writePrefixed(w io.Writer, prefix, text string) error {
	start := 0
	for i := 0; i <= len(text); i++ {
		if i == len(text) || text[i] == '\n' {
			if i == len(text) && start == i {
				break
			}
			if _, err := fmt.Fprintf(w, "%s%s\n", prefix, text[start:i]); err != nil {
				return err
			}
			start = i + 1
		}
	}
	return nil
}
