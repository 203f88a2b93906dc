package local

import (
	"os"
	"syscall"
)

// sysProcAttr puts the app in its own process group, so that a stop
// reaches the processes it spawned too, and asks the kernel to SIGKILL it
// when the supervising thread dies: an app never outlives a crashed server.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup signals the process group p leads.
func signalGroup(p *os.Process, sig syscall.Signal) error {
	return syscall.Kill(-p.Pid, sig)
}
