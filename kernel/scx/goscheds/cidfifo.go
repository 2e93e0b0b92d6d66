package goscheds

import (
	"github.com/scxsim/scxsim/bpf/arena"
	"github.com/scxsim/scxsim/bpf/maps"
	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/cmask"
	"github.com/scxsim/scxsim/kernel/scx"
)

// CidFIFO is a cid-form FIFO: it sees cids only, keeps its own idle cid
// set from ops.update_idle(), remembers each task's allowed cids from
// ops.set_cmask(), places waking tasks on an idle allowed cid and kicks it.
type CidFIFO struct {
	X     *scx.Ext
	Arena *arena.Arena
	Slice uint64

	idle    map[int32]bool
	allowed map[*scx.Task]cmask.Mask
	// SetCmasks records every cmask ops.set_cmask() received, for tests.
	SetCmasks []SetCmaskCall
}

// SetCmaskCall is one ops.set_cmask() invocation.
type SetCmaskCall struct {
	Task *scx.Task
	Cids []uint32
	Addr uint64
}

// NewArena creates the scheduler's arena (pages pages) in a fresh VM
// address space, mapped for user space like a libbpf skeleton does.
func NewArena(pages uint32) (*arena.Arena, error) {
	mem := vm.NewMemory()
	a, err := arena.New(mem, &maps.Spec{Name: "arena", Type: maps.TypeArena, MaxEntries: pages, Flags: arena.FlagMmapable}, arena.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := a.Mmap(0, uint64(pages)*arena.PageSize); err != nil {
		a.Put()
		return nil, err
	}
	return a, nil
}

// Ops returns the cid-form ops.
func (c *CidFIFO) Ops(name string) *scx.Ops {
	x := c.X
	slice := c.Slice
	if slice == 0 {
		slice = scx.SliceDfl
	}
	c.idle = map[int32]bool{}
	c.allowed = map[*scx.Task]cmask.Mask{}
	allowedCid := func(p *scx.Task, cid int32) bool {
		m, ok := c.allowed[p]
		return !ok || m.Test(uint32(cid))
	}
	return &scx.Ops{
		Form: scx.FormCid,
		Name: name,
		SelectCPU: func(p *scx.Task, prev int32, wf uint64) int32 {
			if c.idle[prev] && allowedCid(p, prev) {
				delete(c.idle, prev)
				return prev
			}
			n := int32(x.NrCids())
			for i := int32(0); i < n; i++ {
				if c.idle[i] && allowedCid(p, i) {
					delete(c.idle, i)
					return i
				}
			}
			return prev
		},
		Enqueue: func(p *scx.Task, enqFlags uint64) {
			x.DsqInsert(p, SharedDSQ, slice, enqFlags)
			n := int32(x.NrCids())
			for i := int32(0); i < n; i++ {
				if c.idle[i] && allowedCid(p, i) {
					x.KickCid(i, scx.KickIdle)
					return
				}
			}
		},
		Dispatch: func(cid int32, prev *scx.Task) { x.DsqMoveToLocal(SharedDSQ, 0) },
		UpdateIdle: func(cid int32, idle bool) {
			if idle {
				c.idle[cid] = true
			} else {
				delete(c.idle, cid)
			}
		},
		SetCmask: func(p *scx.Task, arg scx.CmaskArg) {
			cp := cmask.New(arg.Mask.Base(), arg.Mask.NrCids())
			cp.Copy(arg.Mask)
			c.allowed[p] = cp
			var cids []uint32
			for cid := range arg.Mask.Cids() {
				cids = append(cids, cid)
			}
			c.SetCmasks = append(c.SetCmasks, SetCmaskCall{Task: p, Cids: cids, Addr: arg.Addr})
		},
		ExitTask: func(p *scx.Task, args scx.ExitTaskArgs) { delete(c.allowed, p) },
		Init:     func() int32 { return x.CreateDSQ(SharedDSQ, -1) },
		Arenas:   []*arena.Arena{c.Arena},
	}
}
