package scx

import "strings"

// Report is what user_exit_info.h's UEI_REPORT() prints: the debug dump,
// if any, then "EXIT: reason (msg)".
func (ei ExitInfo) Report() string {
	var b strings.Builder
	if ei.Dump != "" {
		b.WriteString("\nDEBUG DUMP\n")
		b.WriteString("================================================================================\n\n")
		b.WriteString(ei.Dump)
		b.WriteString("\n================================================================================\n\n")
	}
	b.WriteString("EXIT: ")
	b.WriteString(ei.Reason)
	if ei.Msg != "" {
		b.WriteString(" (")
		b.WriteString(ei.Msg)
		b.WriteString(")")
	}
	b.WriteString("\n")
	return b.String()
}

// RestartRequested is UEI_ECODE_RESTART(): the exit code asks user space
// to load the scheduler again (SCX_ECODE_ACT_RESTART).
func (ei ExitInfo) RestartRequested() bool {
	return uint64(ei.ExitCode)&ECodeActRestart != 0
}

// Exited is UEI_EXITED(): the scheduler has exited (a kind is set).
func (ei ExitInfo) Exited() bool { return ei.Kind != ExitNone }
