package servertest

import "syscall"

// procAttr has the kernel kill a server when the thread that started it
// exits: a backstop for a test process that dies before its Cleanup runs.
// Go threads outlive the goroutines that use them unless one exits while
// locked to its thread, which servertest never does.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
