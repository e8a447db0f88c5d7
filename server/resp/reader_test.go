package resp

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads commands from in until an error, returning them as strings
// and the error.
func readAll(t testing.TB, rd io.Reader, lim Limits, auth bool) ([][]string, error) {
	t.Helper()
	r := NewReader(rd, lim)
	r.SetAuthenticated(auth)
	var cmds [][]string
	for {
		args, err := r.ReadCommand()
		if err != nil {
			return cmds, err
		}
		if len(args) == 0 {
			t.Fatalf("ReadCommand returned no args and no error")
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			cmd[i] = string(a)
		}
		cmds = append(cmds, cmd)
	}
}

func cmds(cs ...[]string) [][]string { return cs }
func c(args ...string) []string      { return args }

var readTests = []struct {
	name string
	in   string
	want [][]string
	err  error // the error after the commands; nil means io.EOF
}{
	{"multibulk", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n", cmds(c("SET", "k", "hello")), nil},
	{"multibulk-empty-arg", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", cmds(c("ECHO", "")), nil},
	{"multibulk-binary", "*2\r\n$4\r\nECHO\r\n$6\r\na\x00\r\n\xffb\r\n", cmds(c("ECHO", "a\x00\r\n\xffb")), nil},
	{"pipeline", "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n", cmds(c("PING"), c("GET", "k"), c("PING")), nil},
	{"count-zero-skipped", "*0\r\n*1\r\n$4\r\nPING\r\n", cmds(c("PING")), nil},
	{"count-negative-skipped", "*-1\r\n*-9223372036854775808\r\n*1\r\n$4\r\nPING\r\n", cmds(c("PING")), nil},
	{"unchecked-bytes-after-cr-and-payload", "*1\rx$4\rxPINGyy", cmds(c("PING")), nil},
	{"inline", "SET k v\r\n", cmds(c("SET", "k", "v")), nil},
	{"inline-lf-only", "GET k\nGET j\n", cmds(c("GET", "k"), c("GET", "j")), nil},
	{"inline-empty-lines-skipped", "\r\n\n   \n\t\v\f\r\nPING\r\r\n", cmds(c("PING")), nil},
	{"inline-spaces", "  SET \t k   v  \r\n", cmds(c("SET", "k", "v")), nil},
	{"inline-vt-ff-inside-arg", "a\vb c\fd\n", cmds(c("a\vb", "c\fd")), nil},
	{"inline-double-quotes", `ECHO "a b" "" "\x41\x4a\x4A\xzz\n\r\t\b\a\\\"\q"` + "\n", cmds(c("ECHO", "a b", "", "AJJxzz\n\r\t\b\a\\\"q")), nil},
	{"inline-single-quotes", `ECHO 'a "b' '\'' '\n\x41'` + "\n", cmds(c("ECHO", `a "b`, "'", `\n\x41`)), nil},
	{"inline-quote-mid-arg", `ECHO ab"c d"` + "\n", cmds(c("ECHO", "abc d")), nil},
	{"inline-quote-then-vt", "ECHO \"a\"\vb\n", cmds(c("ECHO", "a", "b")), nil},
	{"inline-high-bytes", "ECHO \xa0\x85x\n", cmds(c("ECHO", "\xa0\x85x")), nil},
	{"inline-then-multibulk", "PING\r\n*1\r\n$4\r\nPING\r\n", cmds(c("PING"), c("PING")), nil},

	{"unbalanced-double", "ECHO \"ab\n", nil, perr(msgUnbalanced)},
	{"unbalanced-single", "ECHO 'ab\n", nil, perr(msgUnbalanced)},
	{"unbalanced-trailing-backslash", "ECHO \"ab\\\n", nil, perr(msgUnbalanced)},
	{"closing-quote-not-followed-by-space", "ECHO \"a\"b\n", nil, perr(msgUnbalanced)},
	{"closing-single-quote-not-followed-by-space", "ECHO 'a'b\n", nil, perr(msgUnbalanced)},
	{"unbalanced-after-command", "PING\n\"\n", cmds(c("PING")), perr(msgUnbalanced)},
	{"invalid-count-empty", "*\r\n", nil, perr(msgInvalidMbulk)},
	{"invalid-count-letters", "*x\r\n", nil, perr(msgInvalidMbulk)},
	{"invalid-count-plus", "*+1\r\n", nil, perr(msgInvalidMbulk)},
	{"invalid-count-leading-zero", "*01\r\n", nil, perr(msgInvalidMbulk)},
	{"invalid-count-minus-zero", "*-0\r\n", nil, perr(msgInvalidMbulk)},
	{"invalid-count-space", "*1 \r\n", nil, perr(msgInvalidMbulk)},
	{"invalid-count-over-int32", "*2147483648\r\n", nil, perr(msgInvalidMbulk)},
	{"invalid-count-over-int64", "*9223372036854775808\r\n", nil, perr(msgInvalidMbulk)},
	{"invalid-count-20-nines", "*99999999999999999999\r\n", nil, perr(msgInvalidMbulk)},
	{"invalid-count-21-bytes", "*000000000000000000001\r\n", nil, perr(msgInvalidMbulk)},
	{"invalid-count-over-limit", "*1048577\r\n", nil, perr(msgInvalidMbulk)},
	{"expected-dollar", "*1\r\nx\r\n", nil, perr("Protocol error: expected '$', got 'x'")},
	{"expected-dollar-colon", "*1\r\n:1\r\n", nil, perr("Protocol error: expected '$', got ':'")},
	{"expected-dollar-lf", "*1\r\n\n\r\n", nil, perr("Protocol error: expected '$', got ' '")},
	{"expected-dollar-cr", "*1\r\n\r\n", nil, perr("Protocol error: expected '$', got ' '")},
	{"expected-dollar-high-byte", "*1\r\n\x80\r\n", nil, perr("Protocol error: expected '$', got '\x80'")},
	{"expected-dollar-second-arg", "*2\r\n$4\r\nECHO\r\n*1\r\n", nil, perr("Protocol error: expected '$', got '*'")},
	{"invalid-bulk-null", "*1\r\n$-1\r\n", nil, perr(msgInvalidBulk)},
	{"invalid-bulk-empty", "*1\r\n$\r\n", nil, perr(msgInvalidBulk)},
	{"invalid-bulk-letters", "*1\r\n$abc\r\n", nil, perr(msgInvalidBulk)},
	{"invalid-bulk-over-limit", "*1\r\n$536870913\r\n", nil, perr(msgInvalidBulk)},
	{"invalid-bulk-over-int64", "*1\r\n$9223372036854775808\r\n", nil, perr(msgInvalidBulk)},
	{"invalid-bulk-20-nines", "*1\r\n$99999999999999999999\r\n", nil, perr(msgInvalidBulk)},
	{"error-after-commands", "PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n", cmds(c("PING"), c("PING")), perr(msgInvalidBulk)},

	{"eof-mid-multibulk", "*2\r\n$3\r\nGET\r\n", nil, io.ErrUnexpectedEOF},
	{"eof-mid-payload", "*1\r\n$4\r\nPI", nil, io.ErrUnexpectedEOF},
	{"eof-mid-count", "*1", nil, io.ErrUnexpectedEOF},
	{"eof-before-lf", "*1\r", nil, io.ErrUnexpectedEOF},
	{"eof-mid-inline", "PING", nil, io.ErrUnexpectedEOF},
	{"eof-after-bare-cr", "PING\r\n\r", cmds(c("PING")), io.ErrUnexpectedEOF},
	{"nul-hides-inline-end", "PING\x00\r\n", nil, io.ErrUnexpectedEOF},
	{"nul-hides-count-end", "*1\x00\r\n$4\r\nPING\r\n", nil, io.ErrUnexpectedEOF},
	{"nul-hides-bulk-line-end", "*1\r\n\x00\r\n", nil, io.ErrUnexpectedEOF},
	{"empty", "", nil, nil},
}

func perr(msg string) error { return &ProtocolError{Msg: msg} }

// sameErr reports whether got is want, comparing protocol errors by text.
func sameErr(got, want error) bool {
	if want == nil {
		want = io.EOF
	}
	var gp, wp *ProtocolError
	if errors.As(want, &wp) {
		return errors.As(got, &gp) && gp.Msg == wp.Msg
	}
	return got == want
}

func checkRead(t *testing.T, name string, rd io.Reader, lim Limits, auth bool, want [][]string, wantErr error) {
	t.Helper()
	got, err := readAll(t, rd, lim, auth)
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) || !sameErr(err, wantErr) {
		t.Errorf("%s:\n got %q, %v\nwant %q, %v", name, got, err, want, wantErr)
	}
}

func TestReader(t *testing.T) {
	for _, tt := range readTests {
		t.Run(tt.name, func(t *testing.T) {
			checkRead(t, "whole", strings.NewReader(tt.in), Limits{}, true, tt.want, tt.err)
			checkRead(t, "one byte per read", iotest.OneByteReader(strings.NewReader(tt.in)), Limits{}, true, tt.want, tt.err)
			checkRead(t, "data with EOF", iotest.DataErrReader(strings.NewReader(tt.in)), Limits{}, true, tt.want, tt.err)
		})
	}
}

// chunkReader returns its bytes in chunks of random sizes, some empty.
type chunkReader struct {
	b   []byte
	rng *rand.Rand
	max int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(c.rng.IntN(c.max+1), len(p), len(c.b))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

func TestReaderChunked(t *testing.T) {
	// A long pipeline of every valid form, then each chunked at random.
	var in strings.Builder
	var want [][]string
	for i := range 200 {
		for _, tt := range readTests {
			if tt.err == nil && tt.in != "" {
				in.WriteString(tt.in)
				want = append(want, tt.want...)
			}
		}
		v := strings.Repeat(string(rune('a'+i%26)), i*97)
		fmt.Fprintf(&in, "*3\r\n$3\r\nSET\r\n$%d\r\nk%d\r\n$%d\r\n%s\r\n", len(fmt.Sprint(i))+1, i, len(v), v)
		want = append(want, c("SET", fmt.Sprintf("k%d", i), v))
	}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		maxChunk := []int{1, 3, 17, 1000, 20000, 100000}[seed%6]
		checkRead(t, fmt.Sprintf("seed=%d/max=%d", seed, maxChunk),
			&chunkReader{b: []byte(in.String()), rng: rng, max: maxChunk}, Limits{}, true, want, nil)
	}
}

func TestReaderLimits(t *testing.T) {
	const maxInline, maxBulk = 100, 1000
	lim := Limits{MaxInlineLen: maxInline, MaxBulkLen: maxBulk, MaxMultibulkLen: 5}
	bulk := func(n int) string { return fmt.Sprintf("*1\r\n$%d\r\n%s\r\n", n, strings.Repeat("v", n)) }
	count := func(n int) string { return fmt.Sprintf("*%d\r\n%s", n, strings.Repeat("$1\r\nx\r\n", n)) }
	xs := func(n int) []string { return strings.Split(strings.Repeat("x", n), "") }
	tests := []struct {
		name string
		in   string
		auth bool
		want [][]string
		err  error
	}{
		// The line end may be at index MaxInlineLen: the line holds MaxInlineLen bytes before it.
		{"inline-at", strings.Repeat("a", maxInline) + "\n", true, cmds(c(strings.Repeat("a", maxInline))), nil},
		{"inline-at-crlf", strings.Repeat("a", maxInline-1) + "\r\n", true, cmds(c(strings.Repeat("a", maxInline-1))), nil},
		{"inline-past", strings.Repeat("a", maxInline+1) + "\n", true, nil, perr(msgTooBigInline)},
		{"inline-past-no-end", strings.Repeat("a", maxInline+1), true, nil, perr(msgTooBigInline)},
		{"inline-at-no-end", strings.Repeat("a", maxInline), true, nil, io.ErrUnexpectedEOF},
		{"inline-nul-past", "a\x00" + strings.Repeat("a", maxInline) + "\n", true, nil, perr(msgTooBigInline)},
		{"count-line-at", "*" + strings.Repeat("1", maxInline-1) + "\r\n", true, nil, perr(msgInvalidMbulk)},
		{"count-line-past", "*" + strings.Repeat("1", maxInline) + "\r\n", true, nil, perr(msgTooBigMbulk)},
		{"count-line-nul-past", "*\x00" + strings.Repeat("1", maxInline), true, nil, perr(msgTooBigMbulk)},
		{"bulk-line-at", "*1\r\n$" + strings.Repeat("1", maxInline-1) + "\r\n", true, nil, perr(msgInvalidBulk)},
		{"bulk-line-past", "*1\r\n$" + strings.Repeat("1", maxInline) + "\r\n", true, nil, perr(msgTooBigBulk)},
		{"bulk-line-past-no-end", "*1\r\n" + strings.Repeat("$", maxInline+1), true, nil, perr(msgTooBigBulk)},
		{"bulk-at", bulk(maxBulk), true, cmds(c(strings.Repeat("v", maxBulk))), nil},
		{"bulk-past", bulk(maxBulk + 1), true, nil, perr(msgInvalidBulk)},
		{"count-at", count(5), true, cmds(xs(5)), nil},
		{"count-past", count(6), true, nil, perr(msgInvalidMbulk)},
		{"unauth-count-at", count(5), false, cmds(xs(5)), nil},
		{"unauth-bulk-at-general-limit", bulk(maxBulk), true, cmds(c(strings.Repeat("v", maxBulk))), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRead(t, "whole", strings.NewReader(tt.in), lim, tt.auth, tt.want, tt.err)
			checkRead(t, "one byte per read", iotest.OneByteReader(strings.NewReader(tt.in)), lim, tt.auth, tt.want, tt.err)
		})
	}

	// Redis's own numbers, with the default limits.
	defaults := []struct {
		name string
		in   string
		auth bool
		want [][]string
		err  error
	}{
		{"inline-at", strings.Repeat("a", 64<<10) + "\n", true, cmds(c(strings.Repeat("a", 64<<10))), nil},
		{"inline-past", strings.Repeat("a", 64<<10+1) + "\n", true, nil, perr(msgTooBigInline)},
		{"count-at", "*1048576\r\n", true, nil, io.ErrUnexpectedEOF},
		{"count-past", "*1048577\r\n", true, nil, perr(msgInvalidMbulk)},
		{"bulk-at", "*1\r\n$536870912\r\n", true, nil, io.ErrUnexpectedEOF},
		{"bulk-past", "*1\r\n$536870913\r\n", true, nil, perr(msgInvalidBulk)},
		{"unauth-count-at", count(10), false, cmds(xs(10)), nil},
		{"unauth-count-past", count(11), false, nil, perr(msgUnauthMbulk)},
		{"unauth-count-invalid-first", "*2147483648\r\n", false, nil, perr(msgInvalidMbulk)},
		{"unauth-count-negative", "*-100\r\n", false, nil, nil},
		{"unauth-bulk-at", bulk(16384), false, cmds(c(strings.Repeat("v", 16384))), nil},
		{"unauth-bulk-past", bulk(16385), false, nil, perr(msgUnauthBulk)},
		{"unauth-bulk-invalid-first", "*1\r\n$536870913\r\n", false, nil, perr(msgInvalidBulk)},
		{"unauth-inline-unlimited", strings.Repeat("a ", 100) + "\n", false, cmds(xsA(100)), nil},
	}
	for _, tt := range defaults {
		t.Run("default/"+tt.name, func(t *testing.T) {
			checkRead(t, "whole", strings.NewReader(tt.in), Limits{}, tt.auth, tt.want, tt.err)
		})
	}
}

func xsA(n int) []string { return strings.Split(strings.Repeat("a", n), "") }

func TestReaderAuthenticatedLater(t *testing.T) {
	in := "*1\r\n$4\r\nAUTH\r\n" + fmt.Sprintf("*11\r\n%s", strings.Repeat("$1\r\nx\r\n", 11))
	r := NewReader(strings.NewReader(in), Limits{})
	r.SetAuthenticated(false)
	if _, err := r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	r.SetAuthenticated(true)
	args, err := r.ReadCommand()
	if err != nil || len(args) != 11 {
		t.Fatalf("after SetAuthenticated(true): %d args, %v", len(args), err)
	}
}

func TestReaderProtocolErrorSticky(t *testing.T) {
	r := NewReader(strings.NewReader("*x\r\nPING\r\n"), Limits{})
	_, err1 := r.ReadCommand()
	_, err2 := r.ReadCommand()
	var pe *ProtocolError
	if !errors.As(err1, &pe) || err2 != err1 {
		t.Fatalf("got %v then %v, want the same *ProtocolError twice", err1, err2)
	}
	if pe.Error() != msgInvalidMbulk {
		t.Fatalf("Error() = %q", pe.Error())
	}
}

// timeoutReader fails every other Read with errTimeout, like a connection with a deadline.
type timeoutReader struct {
	r    io.Reader
	fail bool
}

var errTimeout = errors.New("timeout")

func (t *timeoutReader) Read(p []byte) (int, error) {
	t.fail = !t.fail
	if t.fail {
		return 0, errTimeout
	}
	return t.r.Read(p)
}

func TestReaderResumesAfterReadError(t *testing.T) {
	in := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nPING\r\n"
	r := NewReader(&timeoutReader{r: iotest.OneByteReader(strings.NewReader(in))}, Limits{})
	var got []string
	for {
		args, err := r.ReadCommand()
		if err == errTimeout {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%q", args))
	}
	want := []string{`["SET" "k" "hello"]`, `["PING"]`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

type badReader struct{}

func (badReader) Read(p []byte) (int, error) { return len(p) + 1, nil }

type emptyReader struct{}

func (emptyReader) Read(p []byte) (int, error) { return 0, nil }

func TestReaderBrokenReaders(t *testing.T) {
	if _, err := NewReader(badReader{}, Limits{}).ReadCommand(); err != errInvalidRead {
		t.Errorf("over-long Read: %v", err)
	}
	if _, err := NewReader(emptyReader{}, Limits{}).ReadCommand(); err != io.ErrNoProgress {
		t.Errorf("empty Reads: %v", err)
	}
}

func TestReaderBuffered(t *testing.T) {
	in := "*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$4\r\nPI"
	r := NewReader(strings.NewReader(in), Limits{})
	for _, want := range []int{len(in) - 14, len(in) - 20, 0} {
		args, err := r.ReadCommand()
		if want == 0 {
			if err != io.ErrUnexpectedEOF || r.Buffered() != 10 {
				t.Fatalf("last: %v, Buffered %d", err, r.Buffered())
			}
			break
		}
		if err != nil || r.Buffered() != want {
			t.Fatalf("%q, %v: Buffered() = %d, want %d", args, err, r.Buffered(), want)
		}
	}
}

func TestReaderArgsCapped(t *testing.T) {
	r := NewReader(strings.NewReader("*2\r\n$1\r\na\r\n$1\r\nb\r\n"), Limits{})
	args, err := r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	_ = append(args[0], 'X') // must not write over "b"'s header
	if string(args[1]) != "b" || cap(args[0]) != 1 {
		t.Fatalf("append to an argument reached the buffer: %q", args)
	}
}

// stallReader returns its bytes and then stands for a client that declared a
// length and sent nothing more: the Read after the bytes calls stall (where a
// connection would block) and then ends.
type stallReader struct {
	b     []byte
	stall func()
}

func (s *stallReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		s.stall()
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

func TestReaderHugeDeclaredBulkNotAllocated(t *testing.T) {
	in := []byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\nabc")
	var before, during runtimeMem
	before.read()
	r := NewReader(&stallReader{b: in, stall: func() { during.read() }}, Limits{})
	if _, err := r.ReadCommand(); err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v", err)
	}
	if grown := during.total - before.total; grown > 1<<20 {
		t.Fatalf("declaring a 512 MiB bulk allocated %d bytes", grown)
	}
	if len(r.buf) > readSize {
		t.Fatalf("buffer grew to %d bytes with %d bytes received", len(r.buf), len(in))
	}
}

func TestReaderBufferShrinks(t *testing.T) {
	big := strings.Repeat("v", 1<<20)
	in := fmt.Sprintf("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\nPING\r\n", len(big), big)
	r := NewReader(iotest.HalfReader(strings.NewReader(in)), Limits{})
	args, err := r.ReadCommand()
	if err != nil || string(args[2]) != big {
		t.Fatalf("big SET: %v", err)
	}
	if len(r.buf) > 1<<20+readSize+64 {
		t.Errorf("buffer of %d bytes for a command of %d", len(r.buf), len(in))
	}
	if args, err := r.ReadCommand(); err != nil || string(args[0]) != "PING" {
		t.Fatalf("after big SET: %q, %v", args, err)
	}
	if len(r.buf) > keepSize {
		t.Errorf("buffer still %d bytes after the big command", len(r.buf))
	}
}

func TestReaderManySmallArgsGrowGeometrically(t *testing.T) {
	const n = 200000
	in := "*200000\r\n" + strings.Repeat("$5\r\nvalue\r\n", n)
	src := &chunkReader{b: []byte(in), rng: rand.New(rand.NewPCG(1, 2)), max: 4096}
	var before, after runtimeMem
	before.read()
	r := NewReader(src, Limits{})
	args, err := r.ReadCommand()
	after.read()
	if err != nil || len(args) != n {
		t.Fatalf("%d args, %v", len(args), err)
	}
	// Doubling allocates at most five times the command for the buffer,
	// and 32 bytes per argument for the spans; args takes 24 per argument.
	// Growing by a constant step instead would allocate hundreds of MiB.
	if got, limit := after.total-before.total, uint64(5*len(in)+64*n); got > limit {
		t.Fatalf("reading a %d-byte command allocated %d bytes (limit %d)", len(in), got, limit)
	}
}

func TestReaderZeroAllocs(t *testing.T) {
	for _, bc := range benchCases() {
		t.Run(bc.name, func(t *testing.T) {
			src := &repeatReader{b: bc.in}
			r := NewReader(src, Limits{})
			for range 10 { // warm up the buffers
				if _, err := r.ReadCommand(); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(1000, func() {
				if _, err := r.ReadCommand(); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocs per command", allocs)
			}
		})
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in string
		n  int64
		ok bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"-1", -1, true}, {"1234567890", 1234567890, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"18446744073709551615", 0, false}, {"18446744073709551616", 0, false}, {"99999999999999999999", 0, false},
		{"", 0, false}, {"-", 0, false}, {"+1", 0, false}, {"01", 0, false}, {"-0", 0, false}, {"00", 0, false},
		{" 1", 0, false}, {"1 ", 0, false}, {"1a", 0, false}, {"0x10", 0, false},
		{"-00000000000000000001", 0, false}, // 21 bytes
	}
	for _, tt := range tests {
		n, ok := parseInt([]byte(tt.in))
		if n != tt.n || ok != tt.ok {
			t.Errorf("parseInt(%q) = %d, %v; want %d, %v", tt.in, n, ok, tt.n, tt.ok)
		}
	}
}

// repeatReader returns b over and over, never ending. With stop, a Read
// stops at the end of each b.
type repeatReader struct {
	b    []byte
	off  int
	stop bool
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
		if r.stop && r.off == 0 {
			break
		}
	}
	return n, nil
}
