package e2e

// TestCompat: Redis 7.0's behaviour is shardcached's specification, so the
// scripts in testdata/compat go to a real redis-server and to shardcached
// over the same sequence of connections, in RESP2 and in RESP3, and every
// pair of raw replies must be equal byte for byte.
//
// The allow-list. Replies may differ only for the commands below, and only
// in the ways listed: allowList in this file is the whole of it, and the
// script directives that relax a comparison (@ignore, @shape, @approx) are
// refused for any command it does not name. Each use in a script carries a
// comment saying why.
//
//   - HELLO: the values of server, version and id (which implementation,
//     which release, which connection); the rest of the map must agree.
//   - CLIENT LIST, CLIENT INFO: the values of id, addr, laddr, fd, age,
//     idle and the buffer and memory figures (qbuf, qbuf-free, argv-mem,
//     multi-mem, rbs, rbp, obl, oll, omem, tot-mem); the field names, their
//     order and the other values (name, flags, db, multi, cmd, resp...)
//     must agree.
//   - CLIENT ID (@ignore): connection ids count every connection a server
//     has accepted.
//   - INFO (@ignore): figures about the process, its memory and its clock.
//   - TIME, LASTSAVE (@ignore): the clock, and the server's start time.
//   - MEMORY USAGE (@ignore): the allocator's figures.
//   - COMMAND and its subcommands (@ignore, @shape): the command table;
//     shardcached has only the string commands, so counts and lists
//     differ, while an entry's layout (COMMAND INFO GET) must not.
//   - TTL, PTTL, EXPIRETIME, PEXPIRETIME, OBJECT IDLETIME (@approx): the
//     clock is read at slightly different moments on the two servers.
//
// Not in the allow-list because they are not differences: @sorted (KEYS and
// the like promise no order) and @scan (cursors are the server's own).
//
// Commands of the types shardcached does not have (LPUSH, HSET, SADD,
// ZADD, XADD) go to shardcached alone under @expect, which must answer
// Redis's exact unknown-command error. With -compat.self the second server
// is a redis-server started with those commands renamed away, so that real
// Redis checks each @expect literal too.
//
// Run against shardcached (built from cmd/shardcached, or $TEST_SHARDCACHED_BIN):
//
//	go test ./e2e -run TestCompat
//
// Validate the scripts against a second redis-server, with every reply of
// the reference logged:
//
//	go test ./e2e -run TestCompat -compat.self -compat.v
//
// Without redis-server, or (outside -compat.self) without cmd/shardcached,
// the test skips; with CI=true it fails instead.

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shardcache/shardcache/server/internal/servertest"
)

var (
	compatSelf    = flag.Bool("compat.self", os.Getenv("COMPAT_SELF") == "1", "compare redis-server with a second redis-server instead of shardcached, to validate the scripts (also COMPAT_SELF=1)")
	compatVerbose = flag.Bool("compat.v", false, "log every command with the reference's reply")
)

// allowance says how replies to one command may differ; see the list at
// the top of this file.
type allowance struct {
	why        string
	directives string                                  // the relaxing directives scripts may use
	normalize  func(servertest.Reply) servertest.Reply // rewrites both replies before the byte comparison
}

var allowList = map[string]allowance{
	"HELLO":           {why: "server, version and id name the implementation and the connection", normalize: maskPairs("server", "version", "id")},
	"CLIENT LIST":     {why: "ids, addresses, ages and buffer figures of connections", normalize: maskClientFields},
	"CLIENT INFO":     {why: "ids, addresses, ages and buffer figures of connections", normalize: maskClientFields},
	"CLIENT ID":       {why: "ids count every connection accepted", directives: "@ignore"},
	"INFO":            {why: "figures about the process, its memory and its clock", directives: "@ignore"},
	"TIME":            {why: "the clock", directives: "@ignore"},
	"LASTSAVE":        {why: "the server's start time", directives: "@ignore"},
	"MEMORY USAGE":    {why: "allocator figures", directives: "@ignore"},
	"COMMAND":         {why: "shardcached's command table has only the string commands", directives: "@ignore @shape"},
	"TTL":             {why: "the clock, read at slightly different moments", directives: "@approx"},
	"PTTL":            {why: "the clock, read at slightly different moments", directives: "@approx"},
	"EXPIRETIME":      {why: "the clock, read at slightly different moments", directives: "@approx"},
	"PEXPIRETIME":     {why: "the clock, read at slightly different moments", directives: "@approx"},
	"OBJECT IDLETIME": {why: "the clock, read at slightly different moments", directives: "@approx"},
}

// lookupAllowance finds the entry for a command, "CMD SUB" before "CMD".
func lookupAllowance(args []string) (allowance, bool) {
	name := strings.ToUpper(args[0])
	if len(args) > 1 {
		if a, ok := allowList[name+" "+strings.ToUpper(args[1])]; ok {
			return a, true
		}
	}
	a, ok := allowList[name]
	return a, ok
}

const masked = "<allow-listed>"

// maskPairs replaces the values of the named keys of a map reply (or of
// RESP2's flat array of keys and values).
func maskPairs(keys ...string) func(servertest.Reply) servertest.Reply {
	return func(r servertest.Reply) servertest.Reply {
		if !r.IsAggregate() || len(r.Elems)%2 != 0 {
			return r
		}
		r.Elems = slices.Clone(r.Elems)
		for i := 0; i < len(r.Elems); i += 2 {
			if slices.Contains(keys, r.Elems[i].Str) {
				r.Elems[i+1] = servertest.Reply{Kind: servertest.KindBulk, Str: masked}
			}
		}
		r.Raw = r.Encode()
		return r
	}
}

var volatileClientFields = []string{"id", "addr", "laddr", "fd", "age", "idle", "qbuf", "qbuf-free",
	"argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem"}

// maskClientFields replaces the volatile values of CLIENT LIST and CLIENT
// INFO's "name=value name=value..." lines.
func maskClientFields(r servertest.Reply) servertest.Reply {
	if r.Kind != servertest.KindBulk && r.Kind != servertest.KindVerbatim || r.Nil {
		return r
	}
	// A RESP3 verbatim string starts with its format, "txt:".
	prefix, body := "", r.Str
	if r.Kind == servertest.KindVerbatim && len(body) >= 4 && body[3] == ':' {
		prefix, body = body[:4], body[4:]
	}
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		fields := strings.Split(l, " ")
		for j, f := range fields {
			if k, _, ok := strings.Cut(f, "="); ok && slices.Contains(volatileClientFields, k) {
				fields[j] = k + "=" + masked
			}
		}
		lines[i] = strings.Join(fields, " ")
	}
	r.Str = prefix + strings.Join(lines, "\n")
	r.Raw = r.Encode()
	return r
}

func TestMain(m *testing.M) { os.Exit(servertest.Main(m)) }

func TestCompat(t *testing.T) {
	scripts, err := loadScripts("testdata/compat")
	if err != nil {
		t.Fatal(err)
	}
	candName := "shardcached"
	selfArgs := []string{"--databases", "1"}
	if *compatSelf {
		candName = "redis(self)"
		renamed := map[string]bool{}
		for _, s := range scripts {
			for _, st := range s.steps {
				if name := strings.ToUpper(st.args0()); st.mode == cmpExpect && !renamed[name] {
					renamed[name] = true
					selfArgs = append(selfArgs, "--rename-command", name, "")
				}
			}
		}
	} else {
		servertest.BuildShardcached(t) // skips or fails here, once, if there is nothing to test
	}
	for _, s := range scripts {
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/resp%d", strings.TrimSuffix(s.name, ".txt"), proto), func(t *testing.T) {
				ref := servertest.StartRedis(t, "--databases", "1")
				var cand *servertest.Server
				if *compatSelf {
					cand = servertest.StartRedis(t, selfArgs...)
				} else {
					// Configured as the reference is where it matters
					// to a reply (CONFIG GET save); StartRedis adds it.
					cand = servertest.StartShardcached(t, "--save", "")
				}
				newRunner(t, s, proto, ref, cand, candName).run()
			})
		}
	}
}

func newRunner(t *testing.T, s script, proto int, ref, cand *servertest.Server, candName string) *runner {
	return &runner{t: t, script: s, proto: proto, names: [2]string{"redis", candName},
		addrs: [2]string{ref.Addr(), cand.Addr()}, conns: map[int]*[2]*peer{}, cur: 1}
}

func (st step) args0() string {
	if len(st.args) == 0 {
		return ""
	}
	return st.args[0]
}

const maxDiffs = 40 // per script and protocol; past it the run stops

// runner plays one script against the reference (index 0) and the
// candidate (index 1), keeping their connections in step.
type runner struct {
	t      *testing.T
	script script
	proto  int
	names  [2]string
	addrs  [2]string
	conns  map[int]*[2]*peer // connection number → one peer per server
	cur    int
	diffs  int
	step   step                 // being run, for messages
	errorf func(string, ...any) // t.Errorf unless a test of the runner collects
}

// peer is one connection to one server; closed once it has failed.
type peer struct {
	c      *servertest.Conn
	closed bool
}

func (r *runner) run() {
	if r.errorf == nil {
		r.errorf = r.t.Errorf
	}
	for _, st := range r.script.steps {
		if r.diffs >= maxDiffs {
			r.errorf("%d differences in %s: stopped at line %d", r.diffs, r.script.name, st.line)
			return
		}
		r.step = st
		switch st.kind {
		case stepSleep:
			time.Sleep(st.sleep)
		case stepNewConn:
			if p, ok := r.conns[r.cur]; ok {
				p[0].c.Close()
				p[1].c.Close()
				delete(r.conns, r.cur)
			}
			r.peers()
		case stepConn:
			r.cur = st.conn
		case stepCommand:
			r.command(st)
		}
	}
}

// peers returns the current connection to both servers, opening it (and
// saying HELLO 3 in a RESP3 run) on first use.
func (r *runner) peers() *[2]*peer {
	if p, ok := r.conns[r.cur]; ok {
		return p
	}
	p := &[2]*peer{}
	for i := range p {
		p[i] = &peer{c: servertest.Dial(r.t, r.addrs[i])}
	}
	r.conns[r.cur] = p
	if r.proto == 3 {
		args := []string{"HELLO", "3"}
		r.compare("(new connection) HELLO 3", args, cmpExact, 0, r.do(p[0], args), r.do(p[1], args))
	}
	return p
}

// do sends args and reads the reply; a connection that fails becomes a
// pseudo-reply (<closed>, <timeout>...) that compares like any other, so
// that a server closing a connection where the other does is checked too.
func (r *runner) do(p *peer, args []string) servertest.Reply {
	if p.closed {
		return pseudo("<closed>")
	}
	err := p.c.Send(args...)
	var rep servertest.Reply
	if err == nil {
		rep, err = p.c.Receive()
	}
	if err == nil {
		return rep
	}
	p.closed = true
	var ne net.Error
	switch {
	case errors.Is(err, servertest.ErrProtocol):
		return pseudo("<" + err.Error() + ">")
	case errors.As(err, &ne) && ne.Timeout():
		return pseudo("<timeout>")
	default:
		return pseudo("<closed>")
	}
}

func pseudo(s string) servertest.Reply { return servertest.Reply{Str: s, Raw: []byte(s)} }

func (r *runner) command(st step) {
	p := r.peers()
	switch st.mode {
	case cmpExpect:
		got := r.do(p[1], st.args)
		if r.logf("%s -> (expected) %q", st.text, st.expect); string(got.Raw) != st.expect {
			r.report(st.text, "expected", []byte(st.expect), got.Raw)
		}
	case cmpScan:
		r.compare(st.text, st.args, st.mode, 0, r.scan(p[0], st.args), r.scan(p[1], st.args))
	default:
		r.compare(st.text, st.args, st.mode, st.approx, r.do(p[0], st.args), r.do(p[1], st.args))
	}
}

func (r *runner) logf(format string, args ...any) {
	if *compatVerbose {
		r.t.Logf("%s:%d: "+format, append([]any{r.script.name, r.step.line}, args...)...)
	}
}

// compare reports a and b unless they agree under mode.
func (r *runner) compare(text string, args []string, mode compareMode, tolerance int64, a, b servertest.Reply) {
	r.logf("%s -> %q", text, a.Raw)
	if al, ok := lookupAllowance(args); ok && al.normalize != nil {
		a, b = al.normalize(a), al.normalize(b)
	}
	var same bool
	switch mode {
	case cmpIgnore:
		same = a.Kind == b.Kind && a.Nil == b.Nil && (a.Kind != 0 || a.Str == b.Str)
	case cmpShape:
		same = sameShape(a, b)
	case cmpApprox:
		same = approxEqual(a, b, tolerance)
	case cmpSorted:
		same = bytes.Equal(sortedRaw(a), sortedRaw(b))
	default:
		same = bytes.Equal(a.Raw, b.Raw)
	}
	if !same {
		r.report(text, r.names[0], a.Raw, b.Raw)
	}
}

func (r *runner) report(text, refName string, a, b []byte) {
	r.t.Helper()
	r.errorf("%s:%d [resp%d]: %s: %s=%s %s=%s", r.script.name, r.step.line, r.proto, text,
		refName, clip(a), r.names[1], clip(b))
	r.diffs++
}

func clip(b []byte) string {
	const max = 600
	if len(b) > max {
		return fmt.Sprintf("%q...(%d bytes)", b[:max], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func sameShape(a, b servertest.Reply) bool {
	if a.Kind != b.Kind || a.Nil != b.Nil || len(a.Elems) != len(b.Elems) {
		return false
	}
	if a.Kind == 0 && a.Str != b.Str { // both pseudo-replies
		return false
	}
	for i := range a.Elems {
		if !sameShape(a.Elems[i], b.Elems[i]) {
			return false
		}
	}
	return true
}

func approxEqual(a, b servertest.Reply, tolerance int64) bool {
	x, errA := a.Int()
	y, errB := b.Int()
	if errA != nil || errB != nil {
		return bytes.Equal(a.Raw, b.Raw)
	}
	if x < 0 || y < 0 { // -1 and -2 say "no TTL" and "no key": exact
		return x == y
	}
	return x-y <= tolerance && y-x <= tolerance
}

// sortedRaw is an aggregate's type line and its elements' bytes in sorted
// order, or the reply's bytes for anything else.
func sortedRaw(r servertest.Reply) []byte {
	if !r.IsAggregate() || r.Kind == servertest.KindMap {
		return r.Raw
	}
	elems := make([][]byte, len(r.Elems))
	for i, e := range r.Elems {
		elems[i] = e.Raw
	}
	slices.SortFunc(elems, bytes.Compare)
	return append([]byte(fmt.Sprintf("%c%d\r\n", r.Kind, len(elems))), bytes.Join(elems, nil)...)
}

// scan runs SCAN from cursor 0 to the end and returns the sorted set of
// keys seen as an array reply, or the first reply that is not a SCAN page
// (an error). Cursors are each server's own business.
func (r *runner) scan(p *peer, args []string) servertest.Reply {
	seen := map[string]bool{}
	cursor := "0"
	for range 100000 {
		rep := r.do(p, append([]string{args[0], cursor}, args[2:]...))
		if rep.Kind != servertest.KindArray || len(rep.Elems) != 2 || !rep.Elems[1].IsAggregate() && !rep.Elems[1].Nil {
			return rep
		}
		for _, k := range rep.Elems[1].Elems {
			seen[k.Str] = true
		}
		if cursor = rep.Elems[0].Str; cursor == "0" {
			keys := make([]string, 0, len(seen))
			for k := range seen {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			out := servertest.Reply{Kind: servertest.KindArray, Elems: make([]servertest.Reply, len(keys))}
			for i, k := range keys {
				out.Elems[i] = servertest.Reply{Kind: servertest.KindBulk, Str: k}
			}
			out.Raw = out.Encode()
			return out
		}
	}
	return pseudo("<SCAN did not return to cursor 0 in 100000 calls>")
}
