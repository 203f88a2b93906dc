//go:build unix && !linux

package local

import (
	"os"
	"syscall"
)

// sysProcAttr puts the app in its own process group, so that a stop
// reaches the processes it spawned too. Only Linux can tie a child's life
// to its parent's (Pdeathsig); elsewhere a crashed server leaves its apps.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup signals the process group p leads.
func signalGroup(p *os.Process, sig syscall.Signal) error {
	return syscall.Kill(-p.Pid, sig)
}
