package bpfsched

import (
	"fmt"
	"syscall"

	"github.com/scxsim/scxsim/bpf/vm"
	"github.com/scxsim/scxsim/kernel/cmask"
	"github.com/scxsim/scxsim/kernel/scx"
)

// capAll is __SCX_CAP_ALL: every SCX_CAP_* bit.
const capAll = 1<<4 - 1

// subKfuncs returns the scx_bpf_sub_* kfuncs (kernel/sched/ext/sub.c) as a
// kernel with no sub-scheduler attached runs them: sub-schedulers are
// looked up by cgroup id in scx_sched_hash, which holds none, so every
// cgroup id names no sub-scheduler. The root's own caps (the whole cid
// space, scx_init_root_caps()) are what scx_bpf_sub_caps() reads for self.
func subKfuncs() map[string]vm.Helper {
	t := map[string]vm.Helper{}
	add := func(name string, fn kfn) { t[name] = kf(name, fn) }

	// Mirrors scx_bpf_sub_dispatch(): false, there is no child to run.
	add("scx_bpf_sub_dispatch", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return 0, nil
	})
	// Mirrors scx_bpf_sub_grant() through sub_cap_preamble().
	add("scx_bpf_sub_grant", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		return sx(c.subPreamble()), nil
	})
	// Mirrors scx_bpf_sub_revoke(): nothing to revoke from.
	add("scx_bpf_sub_revoke", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		c.subPreamble()
		return 0, nil
	})
	add("scx_bpf_sub_caps", func(c kcall, r1, r2, r3, _, _ uint64) (uint64, error) {
		ret, err := c.subCaps(r1, r2, r3)
		return sx(ret), err
	})
	// Mirrors scx_bpf_sub_kill_bstr(): -ENODEV, no sub-scheduler to kill
	// (the format is not looked at).
	add("scx_bpf_sub_kill_bstr", func(c kcall, _, _, _, _, _ uint64) (uint64, error) {
		sch := c.progSched()
		if sch == nil {
			return sx(-int32(syscall.ENODEV)), nil
		}
		if !c.cidForm(sch) {
			return sx(-int32(syscall.EOPNOTSUPP)), nil
		}
		return sx(-int32(syscall.ENODEV)), nil
	})
	return t
}

// progSched mirrors scx_prog_sched(): the scheduler the calling program
// belongs to, nil unless this object's scheduler is the one loaded.
func (c kcall) progSched() *scx.Sched {
	s := c.k.sch
	root := c.x.Root()
	if s == nil || root == nil || (s.sch != nil && s.sch != root) {
		return nil
	}
	return root
}

// cidForm is scx_is_cid_type(); a cpu-form scheduler calling a sub-cap
// kfunc is disabled, as scx_error() does.
func (c kcall) cidForm(sch *scx.Sched) bool {
	if sch.Ops().Form == scx.FormCid {
		return true
	}
	c.k.eject("sub-cap kfuncs require a cid-form scheduler")
	return false
}

// subPreamble mirrors sub_cap_preamble() with no sub-scheduler: -ENODEV
// once the caller is known to be a cid-form scheduler.
func (c kcall) subPreamble() int32 {
	sch := c.progSched()
	if sch == nil {
		return -int32(syscall.ENODEV)
	}
	if !c.cidForm(sch) {
		return -int32(syscall.EOPNOTSUPP)
	}
	return -int32(syscall.ENODEV)
}

// subCaps mirrors scx_bpf_sub_caps(cgroup_id, caps, out__ign): a direct
// child's caps cannot be read (-ENODEV); the root's own read sets every
// cid of out's range when caps has a bit, clears them when it has none.
func (c kcall) subCaps(cgroupID, caps, out uint64) (int32, error) {
	const name = "scx_bpf_sub_caps"
	sch := c.progSched()
	if sch == nil {
		return -int32(syscall.ENODEV), nil
	}
	if !c.cidForm(sch) {
		return -int32(syscall.EOPNOTSUPP), nil
	}
	if caps&^capAll != 0 {
		c.k.eject(fmt.Sprintf("invalid caps 0x%x", caps))
		return -int32(syscall.EINVAL), nil
	}
	if cgroupID != 0 {
		return -int32(syscall.ENODEV), nil
	}
	if sch.Pool() == nil {
		c.k.eject("scx_bpf_sub_caps() called before caps storage is initialized")
		return -int32(syscall.ENODEV), nil
	}
	// scx_cmask_ref_init(): the header as the program left it.
	hdr, err := c.mem(out, cmask.HeaderSize, false, name)
	if err != nil {
		return 0, err
	}
	base, nr := le.Uint32(hdr[cmask.OffBase:]), le.Uint32(hdr[cmask.OffNrCids:])
	allocWords := le.Uint32(hdr[cmask.OffAllocWords:])
	npossible := c.x.NrCids()
	if base >= npossible || nr > npossible-base || cmask.NrWords(nr) > allocWords {
		c.k.eject(fmt.Sprintf("invalid out (%d)", -int(syscall.EINVAL)))
		return -int32(syscall.EINVAL), nil
	}
	if nr == 0 {
		return 0, nil
	}
	used := ((base&63)+nr-1)/64 + 1
	b, err := c.mem(out, cmask.HeaderSize+8*int(used), true, name)
	if err != nil {
		return 0, err
	}
	m, err := cmask.View(b)
	if err != nil {
		return 0, err
	}
	for cid := base; cid < base+nr; cid++ {
		if caps != 0 {
			m.Set(cid)
		} else {
			m.Clear(cid)
		}
	}
	return 0, nil
}
