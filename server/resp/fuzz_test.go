package resp

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// fuzzLimits are small, so that the fuzzer reaches every limit.
var fuzzLimits = Limits{MaxBulkLen: 4096, MaxInlineLen: 256, MaxMultibulkLen: 64}

type fuzzResult struct {
	cmds [][]string
	err  error
}

// fuzzRead reads data through rd, checking as it goes that the Reader's
// memory stays within what its input and limits allow.
func fuzzRead(t *testing.T, data []byte, rd io.Reader) fuzzResult {
	r := NewReader(rd, fuzzLimits)
	r.SetAuthenticated(len(data)%2 == 0)
	var res fuzzResult
	for {
		args, err := r.ReadCommand()
		// The buffer holds at most the input, and grows to at most four
		// times what it holds.
		if len(r.buf) > readSize && len(r.buf) > 4*len(data)+readSize {
			t.Fatalf("buffer of %d bytes for %d bytes of input", len(r.buf), len(data))
		}
		if err != nil {
			res.err = err
			return res
		}
		if len(args) == 0 || len(args) > max(fuzzLimits.MaxMultibulkLen, fuzzLimits.MaxInlineLen) {
			t.Fatalf("command of %d args", len(args))
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			if len(a) > int(fuzzLimits.MaxBulkLen) {
				t.Fatalf("arg of %d bytes", len(a))
			}
			cmd[i] = string(a)
		}
		res.cmds = append(res.cmds, cmd)
	}
}

func (f fuzzResult) String() string {
	var pe *ProtocolError
	if errors.As(f.err, &pe) {
		return fmt.Sprintf("%q, %q", f.cmds, pe.Msg)
	}
	return fmt.Sprintf("%q, %v", f.cmds, f.err)
}

// FuzzReader checks that no input panics the Reader or grows its memory past
// its limits, that how the input is split into reads does not change what
// is read, and that each command read, written back as a multibulk request,
// reads back the same.
func FuzzReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		whole := fuzzRead(t, data, strings.NewReader(string(data)))
		if whole.err == nil || whole.err == io.ErrNoProgress {
			t.Fatalf("ended with %v", whole.err)
		}
		if bytes := fuzzRead(t, data, iotest.OneByteReader(strings.NewReader(string(data)))); bytes.String() != whole.String() {
			t.Fatalf("one byte per read:\n got %s\nwant %s", bytes, whole)
		}
		if half := fuzzRead(t, data, iotest.HalfReader(strings.NewReader(string(data)))); half.String() != whole.String() {
			t.Fatalf("half reads:\n got %s\nwant %s", half, whole)
		}
		for _, cmd := range whole.cmds {
			var b strings.Builder
			fmt.Fprintf(&b, "*%d\r\n", len(cmd))
			for _, a := range cmd {
				fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
			}
			r := NewReader(strings.NewReader(b.String()), Limits{})
			args, err := r.ReadCommand()
			if err != nil || fmt.Sprintf("%q", args) != fmt.Sprintf("%q", cmd) {
				t.Fatalf("%q re-encoded read back as %q, %v", cmd, args, err)
			}
			if _, err := r.ReadCommand(); err != io.EOF {
				t.Fatalf("%q re-encoded: then %v", cmd, err)
			}
		}
	})
}
