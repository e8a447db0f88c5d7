//go:build !linux

package server

import (
	"errors"
	"net"
)

// Event loops need epoll: elsewhere every client has a goroutine of its
// own, whatever event-loops says. These definitions keep the portable
// code compiling; with no loop, none of them is reached.

const eventLoopsSupported = false

type loop struct{}

type loopState struct {
	lp *loop
	fd int
}

type loopMsgKind uint8

const (
	msgAdd loopMsgKind = iota
	msgKill
	msgShutdown
	msgForce
)

func newLoop(*Server) (*loop, error) { return nil, errors.New("event loops need Linux") }

func detach(net.Conn) (int, bool) { return -1, false }

func (l *loop) post(loopMsgKind, *client) {}

func (c *client) loopRead([]byte) (int, error) { return 0, errLeaving }

func (c *client) loopWrite(p []byte) (int, error) { return len(p), nil }
