package trace_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// The trace is checked against Perfetto's own .proto definitions (the
// subset vendored under testdata/perfetto, see its README), compiled at
// test time, and against the rules trace_processor (which the UI runs)
// applies when it imports ftrace and track events.

var (
	schemaOnce sync.Once
	traceDesc  protoreflect.MessageDescriptor
	schemaErr  error
)

// schema compiles the vendored protos and returns perfetto.protos.Trace.
func schema(t testing.TB) protoreflect.MessageDescriptor {
	t.Helper()
	schemaOnce.Do(func() {
		c := protocompile.Compiler{
			Resolver: &protocompile.SourceResolver{ImportPaths: []string{"testdata/perfetto"}},
		}
		files, err := c.Compile(context.Background(), "protos/perfetto/trace/trace.proto")
		if err != nil {
			schemaErr = err
			return
		}
		d, ok := files[0].FindDescriptorByName("perfetto.protos.Trace").(protoreflect.MessageDescriptor)
		if !ok {
			schemaErr = errors.New("perfetto.protos.Trace not found")
			return
		}
		traceDesc = d
	})
	if schemaErr != nil {
		t.Fatalf("compiling the Perfetto protos: %v", schemaErr)
	}
	return traceDesc
}

// decode unmarshals data into a dynamic perfetto.protos.Trace and checks
// the encoding is exact: no field outside the schema (protobuf-go keeps a
// field whose wire type does not match its declaration as unknown too),
// no singular field or oneof written twice (the decoder would silently
// keep the last), enum values declared, 32-bit and bool values in range.
func decode(md protoreflect.MessageDescriptor, data []byte) (protoreflect.Message, error) {
	m := dynamicpb.NewMessage(md)
	if err := (proto.UnmarshalOptions{}).Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("unmarshal into %s: %w", md.FullName(), err)
	}
	if err := noUnknown(m); err != nil {
		return nil, err
	}
	if err := strictWire(data, md); err != nil {
		return nil, err
	}
	return m, nil
}

// noUnknown walks m and every message below it for unknown fields.
func noUnknown(m protoreflect.Message) error {
	if u := m.GetUnknown(); len(u) > 0 {
		num, typ, _ := protowire.ConsumeTag(u)
		return fmt.Errorf("%s: unknown field %d (wire type %d)", m.Descriptor().FullName(), num, typ)
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() || fd.Message() == nil:
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				err = noUnknown(l.Get(i).Message())
			}
		default:
			err = noUnknown(v.Message())
		}
		if err != nil {
			err = fmt.Errorf("%s.%w", fd.Name(), err)
		}
		return err == nil
	})
	return err
}

func wireOf(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		return protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return protowire.Fixed64Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		return protowire.BytesType
	case protoreflect.GroupKind:
		return protowire.StartGroupType
	}
	return protowire.VarintType
}

// strictWire walks the raw encoding of a message of type md.
func strictWire(b []byte, md protoreflect.MessageDescriptor) error {
	var once map[protoreflect.FieldNumber]bool
	var oneof map[protoreflect.FullName]protoreflect.Name
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%s: %w", md.FullName(), protowire.ParseError(n))
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return fmt.Errorf("%s: field %d: %w", md.FullName(), num, protowire.ParseError(n))
		}
		val := b[:n]
		b = b[n:]
		fd := md.Fields().ByNumber(num)
		if fd == nil {
			return fmt.Errorf("%s: field %d is not in the schema", md.FullName(), num)
		}
		want := wireOf(fd.Kind())
		packed := fd.IsList() && typ == protowire.BytesType && want != protowire.BytesType
		if typ != want && !packed {
			return fmt.Errorf("%s.%s: wire type %d, schema says %v (wire type %d)", md.FullName(), fd.Name(), typ, fd.Kind(), want)
		}
		if !fd.IsList() {
			if once[num] {
				return fmt.Errorf("%s.%s: singular field written twice", md.FullName(), fd.Name())
			}
			if once == nil {
				once = map[protoreflect.FieldNumber]bool{}
			}
			once[num] = true
		}
		if od := fd.ContainingOneof(); od != nil {
			if prev, ok := oneof[od.FullName()]; ok && prev != fd.Name() {
				return fmt.Errorf("%s: oneof %s has both %s and %s", md.FullName(), od.Name(), prev, fd.Name())
			}
			if oneof == nil {
				oneof = map[protoreflect.FullName]protoreflect.Name{}
			}
			oneof[od.FullName()] = fd.Name()
		}
		if packed {
			continue
		}
		if err := checkScalar(fd, typ, val); err != nil {
			return fmt.Errorf("%s.%s: %w", md.FullName(), fd.Name(), err)
		}
		if fd.Kind() == protoreflect.MessageKind {
			inner, _ := protowire.ConsumeBytes(val)
			if err := strictWire(inner, fd.Message()); err != nil {
				return fmt.Errorf("%s.%w", fd.Name(), err)
			}
		}
	}
	return nil
}

// checkScalar rejects varints a 32-bit, bool or enum field cannot hold
// (decoders truncate them silently).
func checkScalar(fd protoreflect.FieldDescriptor, typ protowire.Type, val []byte) error {
	if typ != protowire.VarintType {
		return nil
	}
	v, _ := protowire.ConsumeVarint(val)
	switch fd.Kind() {
	case protoreflect.Int32Kind:
		if int64(v) < math.MinInt32 || int64(v) > math.MaxInt32 {
			return fmt.Errorf("int32 value %d out of range", int64(v))
		}
	case protoreflect.Uint32Kind:
		if v > math.MaxUint32 {
			return fmt.Errorf("uint32 value %#x out of range", v)
		}
	case protoreflect.BoolKind:
		if v > 1 {
			return fmt.Errorf("bool value %d", v)
		}
	case protoreflect.EnumKind:
		if fd.Enum().Values().ByNumber(protoreflect.EnumNumber(int32(v))) == nil {
			return fmt.Errorf("value %d not in enum %s", int64(v), fd.Enum().FullName())
		}
	}
	return nil
}

// Field access by name on dynamic messages.

func fieldOf(m protoreflect.Message, name string) protoreflect.FieldDescriptor {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		panic(fmt.Sprintf("%s has no field %s", m.Descriptor().FullName(), name))
	}
	return fd
}

func has(m protoreflect.Message, name string) bool { return m.Has(fieldOf(m, name)) }
func get(m protoreflect.Message, name string) protoreflect.Value {
	return m.Get(fieldOf(m, name))
}
func msg(m protoreflect.Message, name string) protoreflect.Message { return get(m, name).Message() }
func i64(m protoreflect.Message, name string) int64                { return get(m, name).Int() }
func u64(m protoreflect.Message, name string) uint64               { return get(m, name).Uint() }
func str(m protoreflect.Message, name string) string               { return get(m, name).String() }
func list(m protoreflect.Message, name string) protoreflect.List   { return get(m, name).List() }
func enum(m protoreflect.Message, name string) int64               { return int64(get(m, name).Enum()) }

// which is the name of the set member of oneof name, or "".
func which(m protoreflect.Message, name string) string {
	od := m.Descriptor().Oneofs().ByName(protoreflect.Name(name))
	if od == nil {
		panic(fmt.Sprintf("%s has no oneof %s", m.Descriptor().FullName(), name))
	}
	if fd := m.WhichOneof(od); fd != nil {
		return string(fd.Name())
	}
	return ""
}

const (
	seqIncrementalStateCleared = 1 // TracePacket.SEQ_INCREMENTAL_STATE_CLEARED
	typeCounter                = 4 // TrackEvent.TYPE_COUNTER
)

// kernelVersion parses Utsname the way trace_processor does
// (SystemInfoTracker): "Linux" and a "major.minor..." release.
func kernelVersion(uts protoreflect.Message) (major, minor int, ok bool) {
	if str(uts, "sysname") != "Linux" {
		return 0, 0, false
	}
	parts := strings.SplitN(str(uts, "release"), ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	maj, err1 := strconv.Atoi(parts[0])
	mnr, err2 := strconv.Atoi(strings.SplitN(parts[1], "-", 2)[0])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return maj, mnr, true
}

// validPrevState reports whether s is a sched_switch prev_state the
// kernel can report and trace_processor decodes. From 4.14 the kernel
// reports one TASK_REPORT bit (S D T t X Z P), TASK_REPORT_IDLE (0x80) or
// TASK_REPORT_MAX (0x100, preempted); without a kernel version
// trace_processor assumes the 4.4 layout, where only the bits up to
// EXIT_ZOMBIE (0x20) mean the same.
func validPrevState(s int64, modern bool) bool {
	if s == 0 {
		return true
	}
	top := int64(0x20)
	if modern {
		top = 0x100
	}
	return s > 0 && s <= top && s&(s-1) == 0
}

// facts is what a trace says about its run.
type facts struct {
	packets       int
	switchIns     int64 // sched_switch to a task (not to idle)
	preempted     int64 // sched_switch with prev_state R+
	runnableOut   int64 // a task switched out still runnable (R or R+)
	wakings, news int64
	exits, frees  int64
	served        int64 // wakings and wakeup_news followed by a switch-in
	pending       int   // still waiting to run at the end
	counterTracks int
	counters      int64
	names         map[int32]string // process tree: pid -> cmdline[0]
}

// check decodes data as a perfetto.protos.Trace and checks what
// trace_processor relies on; nCPU bounds the CPU numbers. It returns
// every problem found (up to a limit).
func check(md protoreflect.MessageDescriptor, data []byte, nCPU int) (*facts, []error) {
	tr, err := decode(md, data)
	if err != nil {
		return nil, []error{err}
	}
	f := &facts{names: map[int32]string{}}
	var errs []error
	bad := func(format string, args ...any) {
		if len(errs) < 20 {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	var (
		seqs     = map[uint64]bool{}
		tracks   = map[uint64]bool{}   // uuid -> has a counter descriptor
		parents  = map[uint64]uint64{} // uuid -> parent uuid
		declared = map[int32]uint64{}  // pid/tid -> timestamp of its process tree entry
		tgid     = map[int32]int32{}
		curr     = map[uint32]int32{}  // cpu -> pid running
		on       = map[int32]uint32{}  // pid -> cpu it runs on
		lastTS   = map[uint32]uint64{} // cpu -> last ftrace timestamp
		waiting  = map[int32]bool{}
		freed    = map[int32]bool{} // sched_process_free seen: the thread ended
		version  = false            // a system_info declared kernel >= 4.14
		sawInfo  = false
	)
	known := func(pid int32, ts uint64, what string) {
		if pid == 0 {
			return
		}
		if freed[pid] {
			bad("%s: pid %d after its sched_process_free", what, pid)
		}
		at, ok := declared[pid]
		if !ok {
			bad("%s: pid %d is not in the process tree", what, pid)
		} else if at > ts {
			bad("%s at %d: pid %d is declared only at %d", what, ts, pid, at)
		}
	}
	pkts := list(tr, "packet")
	f.packets = pkts.Len()
	for i := 0; i < pkts.Len(); i++ {
		p := pkts.Get(i).Message()
		where := fmt.Sprintf("packet %d", i)
		if !has(p, "trusted_packet_sequence_id") || u64(p, "trusted_packet_sequence_id") == 0 {
			bad("%s: no trusted_packet_sequence_id", where)
		} else if seq := u64(p, "trusted_packet_sequence_id"); !seqs[seq] {
			seqs[seq] = true
			if u64(p, "sequence_flags")&seqIncrementalStateCleared == 0 {
				bad("%s: first packet of sequence %d does not set SEQ_INCREMENTAL_STATE_CLEARED", where, seq)
			}
		}
		ts := u64(p, "timestamp")
		switch which(p, "data") {
		case "":
			bad("%s: no data", where)
		case "system_info":
			if f.switchIns > 0 || len(lastTS) > 0 {
				bad("%s: system_info after ftrace data", where)
			}
			sawInfo = true
			if maj, mnr, ok := kernelVersion(msg(msg(p, "system_info"), "utsname")); ok {
				version = maj > 4 || maj == 4 && mnr >= 14
			} else {
				bad("%s: utsname does not give a Linux kernel version", where)
			}
		case "process_tree":
			if !has(p, "timestamp") {
				bad("%s: process tree without timestamp", where)
			}
			pt := msg(p, "process_tree")
			procs := list(pt, "processes")
			for j := 0; j < procs.Len(); j++ {
				pr := procs.Get(j).Message()
				pid := int32(i64(pr, "pid"))
				cl := list(pr, "cmdline")
				if pid <= 0 || cl.Len() == 0 {
					bad("%s: process %d without pid or cmdline", where, pid)
					continue
				}
				if old, ok := f.names[pid]; ok && old != cl.Get(0).String() {
					bad("%s: pid %d renamed %q -> %q", where, pid, old, cl.Get(0).String())
				}
				f.names[pid] = cl.Get(0).String()
				if ppid := int32(i64(pr, "ppid")); ppid != 0 {
					if _, ok := f.names[ppid]; !ok {
						bad("%s: pid %d has undeclared parent %d", where, pid, ppid)
					}
				}
				if _, ok := declared[pid]; !ok {
					declared[pid] = ts
				}
			}
			thrs := list(pt, "threads")
			for j := 0; j < thrs.Len(); j++ {
				th := thrs.Get(j).Message()
				tid, g := int32(i64(th, "tid")), int32(i64(th, "tgid"))
				if _, ok := f.names[g]; !ok {
					bad("%s: thread %d in undeclared process %d", where, tid, g)
				}
				tgid[tid] = g
				if _, ok := declared[tid]; !ok {
					declared[tid] = ts
				}
			}
		case "track_descriptor":
			td := msg(p, "track_descriptor")
			uuid := u64(td, "uuid")
			if uuid == 0 {
				bad("%s: track uuid 0", where)
			}
			if _, dup := tracks[uuid]; dup {
				bad("%s: track uuid %#x declared twice", where, uuid)
			}
			tracks[uuid] = has(td, "counter")
			if tracks[uuid] {
				f.counterTracks++
			}
			if has(td, "parent_uuid") {
				parents[uuid] = u64(td, "parent_uuid")
			}
		case "track_event":
			te := msg(p, "track_event")
			uuid := u64(te, "track_uuid")
			counter, ok := tracks[uuid]
			switch {
			case !has(p, "timestamp"):
				bad("%s: track event without timestamp", where)
			case !ok:
				bad("%s: track event on undeclared track %#x", where, uuid)
			case enum(te, "type") == typeCounter && !counter:
				bad("%s: counter event on track %#x without a counter descriptor", where, uuid)
			case enum(te, "type") != typeCounter && counter:
				bad("%s: %v event on counter track %#x", where, get(te, "type"), uuid)
			case counter && which(te, "counter_value_field") == "":
				bad("%s: counter event without a value", where)
			}
			f.counters++
		case "ftrace_events":
			b := msg(p, "ftrace_events")
			if !has(b, "cpu") {
				bad("%s: ftrace bundle without cpu", where)
				continue
			}
			cpu := uint32(u64(b, "cpu"))
			if int(cpu) >= nCPU {
				bad("%s: ftrace bundle for cpu %d of %d", where, cpu, nCPU)
			}
			evs := list(b, "event")
			if evs.Len() == 0 {
				bad("%s: empty ftrace bundle", where)
			}
			for j := 0; j < evs.Len(); j++ {
				ev := evs.Get(j).Message()
				at := fmt.Sprintf("%s event %d (cpu %d)", where, j, cpu)
				if !has(ev, "timestamp") || !has(ev, "pid") {
					bad("%s: no timestamp or pid", at)
				}
				ets := u64(ev, "timestamp")
				if ets < lastTS[cpu] {
					bad("%s: timestamp %d before %d", at, ets, lastTS[cpu])
				}
				lastTS[cpu] = ets
				common := int32(u64(ev, "pid"))
				known(common, ets, at)
				kind := which(ev, "event")
				switch kind {
				case "sched_switch":
					s := msg(ev, "sched_switch")
					prev, next := int32(i64(s, "prev_pid")), int32(i64(s, "next_pid"))
					state := i64(s, "prev_state")
					if common != prev {
						bad("%s: sched_switch from pid %d emitted by pid %d", at, prev, common)
					}
					if prev != curr[cpu] {
						bad("%s: sched_switch from pid %d, but pid %d was switched in", at, prev, curr[cpu])
					}
					if !validPrevState(state, version) {
						bad("%s: prev_state %#x is not a kernel task state (modern layout: %v)", at, state, version)
					}
					if prev == 0 && state != 0 {
						bad("%s: idle leaves in state %#x", at, state)
					}
					if state == 0x100 {
						f.preempted++
					}
					if prev != 0 && (state == 0 || state == 0x100) {
						f.runnableOut++
					}
					if str(s, "prev_comm") == "" || str(s, "next_comm") == "" {
						bad("%s: empty comm", at)
					}
					for _, e := range []struct {
						pid  int32
						comm string
					}{{prev, str(s, "prev_comm")}, {next, str(s, "next_comm")}} {
						if e.pid == 0 && e.comm != fmt.Sprintf("swapper/%d", cpu) {
							bad("%s: idle of cpu %d named %q", at, cpu, e.comm)
						}
						if e.pid != 0 && f.names[e.pid] != "" && f.names[e.pid] != e.comm {
							bad("%s: pid %d named %q, process tree says %q", at, e.pid, e.comm, f.names[e.pid])
						}
					}
					known(prev, ets, at)
					known(next, ets, at)
					if prev != 0 {
						delete(on, prev)
					}
					if next != 0 {
						if c, ok := on[next]; ok {
							bad("%s: pid %d switched in while running on cpu %d", at, next, c)
						}
						on[next] = cpu
						f.switchIns++
						if waiting[next] {
							f.served++
							delete(waiting, next)
						}
					}
					curr[cpu] = next
				case "sched_waking", "sched_wakeup_new":
					w := msg(ev, kind)
					pid := int32(i64(w, "pid"))
					if common != curr[cpu] {
						bad("%s: %s emitted by pid %d, but pid %d runs there", at, kind, common, curr[cpu])
					}
					if pid == 0 || i64(w, "success") != 1 {
						bad("%s: %s of pid %d, success %d", at, kind, pid, i64(w, "success"))
					}
					if tc := i64(w, "target_cpu"); tc < 0 || int(tc) >= nCPU {
						bad("%s: target_cpu %d", at, tc)
					}
					known(pid, ets, at)
					if _, running := on[pid]; running {
						bad("%s: %s of pid %d running on cpu %d", at, kind, pid, on[pid])
					}
					waiting[pid] = true
					if kind == "sched_waking" {
						f.wakings++
					} else {
						f.news++
					}
				case "sched_process_exit":
					x := msg(ev, kind)
					pid := int32(i64(x, "pid"))
					if common != pid || int32(i64(x, "tgid")) != tgid[pid] {
						bad("%s: exit of pid %d (tgid %d) emitted by pid %d", at, pid, i64(x, "tgid"), common)
					}
					known(pid, ets, at)
					f.exits++
				case "sched_process_free":
					x := msg(ev, kind)
					pid := int32(i64(x, "pid"))
					known(pid, ets, at)
					if c, running := on[pid]; running || pid == 0 {
						bad("%s: sched_process_free of pid %d still running on cpu %d", at, pid, c)
					}
					if common != curr[cpu] {
						bad("%s: %s emitted by pid %d, but pid %d runs there", at, kind, common, curr[cpu])
					}
					freed[pid] = true
					f.frees++
				case "":
					bad("%s: ftrace event without an event", at)
				default:
					bad("%s: unexpected event %s", at, kind)
				}
			}
		}
	}
	for uuid, parent := range parents {
		if _, ok := tracks[parent]; !ok {
			bad("track %#x: parent %#x not declared", uuid, parent)
		}
	}
	if f.switchIns > 0 && !sawInfo {
		bad("no system_info: trace_processor decodes prev_state with the 4.4 layout")
	}
	f.pending = len(waiting)
	return f, errs
}
