package helpers

import (
	"fmt"

	"github.com/scxsim/scxsim/bpf/vm"
)

// TaskCgrouper is implemented by a Kernel that knows which cgroup each task
// is in. bpf_task_under_cgroup() needs it and CgroupWalker's parent links.
type TaskCgrouper interface {
	// TaskCgroup is task's cgroup on the default hierarchy (its css_set's
	// dfl_cgrp), 0 if task is not a task.
	TaskCgroup(task uint64) uint64
}

// Mirrors bpf_task_under_cgroup(task, ancestor): 1 if task's cgroup is
// ancestor or one of its descendants (task_under_cgroup_hierarchy(),
// cgroup_is_descendant()), else 0.
func taskUnderCgroup(e *vm.Exec, r1, r2, _, _, _ uint64) (uint64, error) {
	const name = "bpf_task_under_cgroup"
	k, _, err := kernelOf(e)
	if err != nil {
		return 0, err
	}
	tc, ok := k.(TaskCgrouper)
	if !ok {
		return 0, fmt.Errorf("%s: the simulated kernel (%T) does not know the tasks' cgroups", name, k)
	}
	w, err := cgroupWalker(e, name)
	if err != nil {
		return 0, err
	}
	if r1 == 0 || r2 == 0 {
		return 0, fmt.Errorf("%s: NULL argument (the verifier requires trusted pointers)", name)
	}
	if _, ok := k.Task(r1); !ok {
		return 0, fmt.Errorf("%s: %#x is not a task_struct", name, r1)
	}
	// A cgroup hierarchy is finite; the bound only keeps a broken parent
	// chain from looping.
	for cg, n := tc.TaskCgroup(r1), 0; cg != 0 && n < 1<<16; cg, n = w.CgroupParent(cg), n+1 {
		if cg == r2 {
			return 1, nil
		}
	}
	return 0, nil
}
