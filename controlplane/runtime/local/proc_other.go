//go:build !unix

package local

import (
	"os"
	"syscall"
)

// sysProcAttr has nothing to set where there are no process groups.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup can only kill the process itself here: there is no SIGTERM
// to send, so a stop is immediate.
func signalGroup(p *os.Process, _ syscall.Signal) error { return p.Kill() }
