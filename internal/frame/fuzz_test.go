package frame

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzReader reads arbitrary bytes as a stream and splits its records, as
// a loader does; and, so that the fuzzer reaches the records without having
// to forge checksums, it also reads a stream of one valid block whose
// payload is those bytes. For every input:
//
//   - nothing panics, and reading allocates at most a small constant plus a
//     fixed multiple of the input's size, whatever lengths the input claims;
//   - every error matches ErrCorrupt (the input is in memory: there is no
//     I/O error to report);
//   - an input that reads is rewritten, from what was read, by Writer and
//     CloseField into exactly its own bytes, unless a length in it was not
//     in its shortest uvarint form; either way the rewrite reads back to
//     the same records.
//
// The seed corpus (valid streams, and every damaged one TestCorrupt uses)
// runs in plain go test; go test -fuzz FuzzReader explores.
func FuzzReader(f *testing.F) {
	f.Add(writeStream(f, Header{}))
	f.Add(writeStream(f, Header{Count: 4, Created: 1},
		[]testRecord{{0, "a", "1"}, {7, "", strings.Repeat("v", 300)}},
		[]testRecord{{1 << 40, strings.Repeat("k", 130), ""}, {0, "z", "z"}}))
	for _, tc := range corruptStreams(f) {
		f.Add(tc.stream)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data)
		if len(data) >= MinRecordLen {
			fuzzRead(t, forged(t, max(1, uint32(len(data)/32)), data))
		}
	})
}

func fuzzRead(t *testing.T, data []byte) {
	var (
		h      Header
		blocks [][]testRecord
		err    error
	)
	budget := uint64(1<<20 + 64*len(data))
	if n := bytesAllocated(func() { h, blocks, err = readStream(bytes.NewReader(data)) }); n > budget {
		t.Fatalf("reading allocated %d bytes for a %d-byte input", n, len(data))
	}
	if err != nil {
		if err.Error() == "bytes after the last record" {
			return // the test's own check, not the package's
		}
		require.ErrorIs(t, err, ErrCorrupt)
		return
	}
	rewritten := writeStream(t, h, blocks...)
	_, again, err := readStream(bytes.NewReader(rewritten))
	require.NoError(t, err)
	require.Equal(t, blocks, again)
	if len(rewritten) == len(data) {
		require.Equal(t, data, rewritten, "a stream of shortest lengths rewrites to itself")
	} else {
		require.Less(t, len(rewritten), len(data), "only longer-than-needed lengths rewrite differently")
	}
}
