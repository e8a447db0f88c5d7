package servertest

import (
	"bufio"
	"net"
	"strconv"
	"testing"
	"time"
)

// DefaultTimeout bounds every read and write of a Conn unless its Timeout
// says otherwise, and every dial.
const DefaultTimeout = 5 * time.Second

// Conn is a raw RESP connection for tests. It sends commands as multibulk
// requests (or any bytes, with SendRaw) and reads one reply at a time.
// The methods without an error result fail the test on an I/O or protocol
// error, so call them from the test's goroutine; Send and Receive return
// errors instead. A Conn is not safe for concurrent use.
type Conn struct {
	// Timeout is the deadline of each read and each write from the moment
	// it starts; zero means DefaultTimeout.
	Timeout time.Duration

	t  testing.TB
	nc net.Conn
	r  *bufio.Reader
}

// Dial connects to addr and closes the connection in t's Cleanup.
func Dial(t testing.TB, addr string) *Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, DefaultTimeout)
	if err != nil {
		t.Fatalf("servertest: dial %s: %v", addr, err)
	}
	c := &Conn{t: t, nc: nc, r: bufio.NewReaderSize(nc, 64<<10)}
	t.Cleanup(func() { c.nc.Close() })
	return c
}

// EncodeCommand returns args as a RESP multibulk request, the form clients
// send commands in.
func EncodeCommand(args ...string) []byte {
	b := make([]byte, 0, 16+16*len(args))
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

func (c *Conn) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// Do sends one command and reads exactly one reply, failing the test on
// any I/O or protocol error. An error reply is a Reply, not a failure.
func (c *Conn) Do(args ...string) Reply {
	c.t.Helper()
	if err := c.Send(args...); err != nil {
		c.t.Fatalf("servertest: send %q: %v", args, err)
	}
	r, err := c.Receive()
	if err != nil {
		c.t.Fatalf("servertest: reply to %q: %v", args, err)
	}
	return r
}

// SendRaw writes b as it is (inline commands, pipelines, garbage),
// failing the test on error.
func (c *Conn) SendRaw(b []byte) {
	c.t.Helper()
	if err := c.Write(b); err != nil {
		c.t.Fatalf("servertest: write: %v", err)
	}
}

// ReadReply reads one reply, failing the test on error.
func (c *Conn) ReadReply() Reply {
	c.t.Helper()
	r, err := c.Receive()
	if err != nil {
		c.t.Fatalf("servertest: read reply: %v", err)
	}
	return r
}

// Send writes one command as a multibulk request.
func (c *Conn) Send(args ...string) error { return c.Write(EncodeCommand(args...)) }

// Write writes b as it is, within the Conn's timeout.
func (c *Conn) Write(b []byte) error {
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.timeout())); err != nil {
		return err
	}
	_, err := c.nc.Write(b)
	return err
}

// Receive reads one reply within the Conn's timeout; see ReadReply (the
// package function) for its errors.
func (c *Conn) Receive() (Reply, error) {
	if err := c.nc.SetReadDeadline(time.Now().Add(c.timeout())); err != nil {
		return Reply{}, err
	}
	return ReadReply(c.r)
}

// Close closes the connection now rather than at Cleanup.
func (c *Conn) Close() error { return c.nc.Close() }

// LocalAddr is the client side's address, as CLIENT LIST shows it in addr=.
func (c *Conn) LocalAddr() string { return c.nc.LocalAddr().String() }
