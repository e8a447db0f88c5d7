package servertest

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestStartRedis(t *testing.T) {
	s := StartRedis(t, "--databases", "1")
	c := Dial(t, s.Addr())
	if r := c.Do("PING"); string(r.Raw) != "+PONG\r\n" {
		t.Fatalf("PING = %q", r.Raw)
	}
	if r := c.Do("CONFIG", "GET", "databases"); r.String() != `["databases", "1"]` {
		t.Errorf("CONFIG GET databases = %s: the extra arguments were not passed", r)
	}
	if r := c.Do("CONFIG", "GET", "dir"); len(r.Elems) != 2 || r.Elems[1].Str != s.Dir() {
		t.Errorf("CONFIG GET dir = %s, want %s", r, s.Dir())
	}
	// Pipelined raw bytes: an inline command and a multibulk one.
	c.SendRaw([]byte("ECHO hi\r\n*2\r\n$4\r\nECHO\r\n$2\r\nho\r\n"))
	if a, b := c.ReadReply(), c.ReadReply(); a.Str != "hi" || b.Str != "ho" {
		t.Errorf("pipelined ECHO replies = %s, %s", a, b)
	}
	if r := c.Do("HELLO", "3"); r.Kind != KindMap {
		t.Errorf("HELLO 3 = %s, want a map", r)
	}
	if r := c.Do("CONFIG", "GET", "port"); r.Kind != KindMap {
		t.Errorf("CONFIG GET in RESP3 = %s, want a map", r)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := s.Signal(syscall.SIGTERM); err != os.ErrProcessDone {
		t.Errorf("Signal after Stop = %v, want os.ErrProcessDone", err)
	}
}

func TestKillAndWait(t *testing.T) {
	s := StartRedis(t)
	s.Kill()
	if err := s.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Wait after Kill = %v, want a killed process", err)
	}
	if err := ping(s.Addr()); err == nil {
		t.Error("a killed server still answers PING")
	}
}

func TestStartRedisTwice(t *testing.T) {
	a, b := StartRedis(t), StartRedis(t)
	if a.Port() == b.Port() {
		t.Fatalf("two servers on port %d", a.Port())
	}
	if err := a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := a.Wait(); err != nil {
		t.Errorf("redis-server's exit on SIGTERM: %v", err)
	}
}
