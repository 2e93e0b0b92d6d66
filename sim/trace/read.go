package trace

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Event is one decoded trace entry.
type Event struct {
	// Kind is "sched_switch", "sched_waking", "sched_wakeup_new",
	// "sched_process_exit", "sched_process_free", "counter", "process" or
	// "track".
	Kind string
	TS   uint64
	CPU  int
	// Common is an ftrace event's common pid: the task running on CPU
	// when it fired (for a wakeup, the waker).
	Common int32
	// Prev and Next for sched_switch; Next alone for the other task
	// events (the woken, new, exiting or freed task).
	Prev, Next Task
	PrevState  int64
	TargetCPU  int
	// Track id and Value for counters; Name for tracks and processes
	// (and PPID for processes).
	Track uint64
	Value float64
	Name  string
	PPID  int32
}

// Read decodes a trace written by Writer.
func Read(data []byte) ([]Event, error) {
	var out []Event
	err := fields(data, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != fTracePacket || typ != protowire.BytesType {
			return fmt.Errorf("trace: unexpected field %d", num)
		}
		evs, err := readPacket(v)
		out = append(out, evs...)
		return err
	})
	return out, err
}

// fields walks the fields of a message: bytes fields get their content in
// v, varint and fixed fields their value in n.
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		var v []byte
		var n uint64
		switch typ {
		case protowire.VarintType:
			n, l = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, l = protowire.ConsumeBytes(b)
		case protowire.Fixed64Type:
			n, l = protowire.ConsumeFixed64(b)
		case protowire.Fixed32Type:
			var x uint32
			x, l = protowire.ConsumeFixed32(b)
			n = uint64(x)
		default:
			return fmt.Errorf("trace: unsupported wire type %d", typ)
		}
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		if err := fn(num, typ, v, n); err != nil {
			return err
		}
	}
	return nil
}

func readPacket(p []byte) ([]Event, error) {
	var out []Event
	var ts uint64
	var te, td []byte
	err := fields(p, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch num {
		case fPktTimestamp:
			ts = n
		case fPktFtraceEvents:
			evs, err := readBundle(v)
			out = append(out, evs...)
			return err
		case fPktProcessTree:
			return fields(v, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) error {
				if num != fPTProcesses {
					return nil
				}
				e := Event{Kind: "process"}
				err := fields(v, func(num protowire.Number, _ protowire.Type, v []byte, n uint64) error {
					switch num {
					case fProcPID:
						e.Next.PID = int32(n)
					case fProcPPID:
						e.PPID = int32(n)
					case fProcCmdline:
						e.Name = string(v)
					}
					return nil
				})
				out = append(out, e)
				return err
			})
		case fPktTrackEvent:
			te = v
		case fPktTrackDesc:
			td = v
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	if td != nil {
		e := Event{Kind: "track"}
		err = fields(td, func(num protowire.Number, _ protowire.Type, v []byte, n uint64) error {
			switch num {
			case fTDUUID:
				e.Track = n
			case fTDName:
				e.Name = string(v)
			}
			return nil
		})
		out = append(out, e)
	}
	if te != nil {
		e := Event{Kind: "counter", TS: ts}
		err = fields(te, func(num protowire.Number, _ protowire.Type, v []byte, n uint64) error {
			switch num {
			case fTETrackUUID:
				e.Track = n
			case fTEDoubleValue:
				e.Value = math.Float64frombits(n)
			}
			return nil
		})
		out = append(out, e)
	}
	return out, err
}

func readBundle(b []byte) ([]Event, error) {
	var out []Event
	cpu := -1
	err := fields(b, func(num protowire.Number, _ protowire.Type, v []byte, n uint64) error {
		switch num {
		case fBundleCPU:
			cpu = int(n)
		case fBundleEvent:
			e := Event{CPU: cpu}
			err := fields(v, func(num protowire.Number, _ protowire.Type, v []byte, n uint64) error {
				switch num {
				case fEvTimestamp:
					e.TS = n
				case fEvPID:
					e.Common = int32(n)
				case fEvSwitch:
					e.Kind = "sched_switch"
					return fields(v, func(num protowire.Number, _ protowire.Type, v []byte, n uint64) error {
						switch num {
						case fSwPrevComm:
							e.Prev.Comm = string(v)
						case fSwPrevPID:
							e.Prev.PID = int32(n)
						case fSwPrevPrio:
							e.Prev.Prio = int32(n)
						case fSwPrevState:
							e.PrevState = int64(n)
						case fSwNextComm:
							e.Next.Comm = string(v)
						case fSwNextPID:
							e.Next.PID = int32(n)
						case fSwNextPrio:
							e.Next.Prio = int32(n)
						}
						return nil
					})
				case fEvWaking, fEvWakeupNew:
					e.Kind = "sched_waking"
					if num == fEvWakeupNew {
						e.Kind = "sched_wakeup_new"
					}
					return fields(v, func(num protowire.Number, _ protowire.Type, v []byte, n uint64) error {
						switch num {
						case fWkComm:
							e.Next.Comm = string(v)
						case fWkPID:
							e.Next.PID = int32(n)
						case fWkPrio:
							e.Next.Prio = int32(n)
						case fWkTargetCPU:
							e.TargetCPU = int(n)
						}
						return nil
					})
				case fEvProcessExt, fEvProcessFre:
					// The two share comm (1) and pid (2); prio is 4 in exit, 3 in free.
					e.Kind = "sched_process_exit"
					prio := protowire.Number(fExPrio)
					if num == fEvProcessFre {
						e.Kind, prio = "sched_process_free", fFrPrio
					}
					return fields(v, func(num protowire.Number, _ protowire.Type, v []byte, n uint64) error {
						switch num {
						case fExComm:
							e.Next.Comm = string(v)
						case fExPID:
							e.Next.PID = int32(n)
						case prio:
							e.Next.Prio = int32(n)
						}
						return nil
					})
				}
				return nil
			})
			out = append(out, e)
			return err
		}
		return nil
	})
	return out, err
}
