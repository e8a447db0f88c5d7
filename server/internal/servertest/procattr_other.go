//go:build !linux

package servertest

import "syscall"

func procAttr() *syscall.SysProcAttr { return nil }
