package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testFormat is a format of the tests' own, so that nothing here depends on
// the snapshot's magic.
var testFormat = Format{Magic: "\x89TSTFRM\n", Version: 7, Name: "test stream"}

// testRecord is one record as the tests write it.
type testRecord struct {
	deadline   int64
	key, value string
}

// appendRecord encodes r the way a writer does: deadline, then each field
// opened, appended in place and closed.
func appendRecord(dst []byte, r testRecord) []byte {
	dst = AppendDeadline(dst, r.deadline)
	for _, f := range []string{r.key, r.value} {
		at := len(dst)
		dst = append(OpenField(dst), f...)
		dst = CloseField(dst, at)
	}
	return dst
}

// writeStream returns a stream of testFormat with one block per argument
// (an empty argument writes no block).
func writeStream(t testing.TB, h Header, blocks ...[]testRecord) []byte {
	var out bytes.Buffer
	fw := NewWriter(&out)
	require.NoError(t, fw.WriteHeader(testFormat, h))
	for _, recs := range blocks {
		if len(recs) == 0 {
			continue
		}
		b := NewBlock(nil)
		for _, r := range recs {
			b = appendRecord(b, r)
		}
		require.NoError(t, fw.WriteBlock(CloseBlock(b, uint32(len(recs))), uint32(len(recs))))
	}
	require.NoError(t, fw.WriteTrailer())
	return out.Bytes()
}

// readStream reads a whole stream of testFormat from r and splits every
// record, as a loader does.
func readStream(r io.Reader) (Header, [][]testRecord, error) {
	fr := NewReader(r)
	h, err := fr.ReadHeader(testFormat)
	if err != nil {
		return Header{}, nil, err
	}
	var blocks [][]testRecord
	for {
		p, n, err := fr.Next()
		if err == io.EOF {
			return h, blocks, nil
		}
		if err != nil {
			return Header{}, nil, err
		}
		var recs []testRecord
		for range n {
			d, k, v, rest, err := SplitRecord(p)
			if err != nil {
				return Header{}, nil, err
			}
			recs = append(recs, testRecord{d, string(k), string(v)})
			p = rest
		}
		if len(p) != 0 {
			return Header{}, nil, errors.New("bytes after the last record")
		}
		blocks = append(blocks, recs)
	}
}

func TestChecksum(t *testing.T) {
	assert.Equal(t, uint32(0xe3069283), Checksum([]byte("123456789")), "the CRC-32C check value")
	assert.Equal(t, Checksum([]byte("123456789")), Update(Checksum([]byte("1234")), []byte("56789")))
}

func TestFieldLengths(t *testing.T) {
	// Lengths on both sides of every uvarint size boundary: CloseField must
	// write what binary.AppendUvarint writes, followed by the bytes.
	for _, n := range []int{0, 1, 127, 128, 129, 300, 1<<14 - 1, 1 << 14, 1<<21 + 5} {
		field := bytes.Repeat([]byte{0xab}, n)
		got := CloseField(append(OpenField([]byte("prefix")), field...), len("prefix"))
		want := append(binary.AppendUvarint([]byte("prefix"), uint64(n)), field...)
		require.Equal(t, want, got, "length %d", n)
		assert.Equal(t, n, FieldLen(append(OpenField(nil), field...), 0))
	}
	assert.Equal(t, -1, FieldLen([]byte("ab"), 2), "an encoder that dropped the length byte")
}

func TestRoundTrip(t *testing.T) {
	blocks := [][]testRecord{
		{{0, "a", "1"}, {1, "", ""}, {1 << 62, strings.Repeat("k", 200), strings.Repeat("v", 70000)}},
		{{5, "b", "2"}},
	}
	h := Header{Version: testFormat.Version, Count: 4, Created: -12345}
	stream := writeStream(t, h, blocks...)
	r := bytes.NewReader(append(bytes.Clone(stream), "next"...))
	gotH, got, err := readStream(r)
	require.NoError(t, err)
	assert.Equal(t, h, gotH)
	assert.Equal(t, blocks, got)
	rest, _ := io.ReadAll(r)
	assert.Equal(t, "next", string(rest), "a Reader reads exactly the stream")

	// An empty stream is a header and a trailer.
	empty := writeStream(t, Header{})
	assert.Len(t, empty, HeaderLen+TrailerLen)
	_, got, err = readStream(bytes.NewReader(empty))
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestBlockFull(t *testing.T) {
	b := NewBlock(nil)
	assert.Len(t, b, FrameLen)
	assert.GreaterOrEqual(t, cap(b), BlockTarget+BlockTarget/8)
	assert.False(t, BlockFull(b))
	b = append(b, make([]byte, BlockTarget-FrameLen-1)...)
	assert.False(t, BlockFull(b))
	assert.True(t, BlockFull(append(b, 0)), "the frame space counts")
	reused := NewBlock(b)
	assert.Len(t, reused, FrameLen)
	assert.Equal(t, &b[:1][0], &reused[:1][0], "NewBlock reuses the buffer it is given")
}

// patch returns a copy of b with f applied.
func patch(b []byte, f func(b []byte)) []byte {
	b = bytes.Clone(b)
	f(b)
	return b
}

// forged is a stream of one block holding payload and claiming count
// records, every checksum valid.
func forged(t testing.TB, count uint32, payload []byte) []byte {
	var out bytes.Buffer
	fw := NewWriter(&out)
	require.NoError(t, fw.WriteHeader(testFormat, Header{Count: uint64(count)}))
	require.NoError(t, fw.WriteBlock(CloseBlock(append(NewBlock(nil), payload...), count), count))
	require.NoError(t, fw.WriteTrailer())
	return out.Bytes()
}

// rawRecord encodes a record with explicit, possibly lying, lengths.
func rawRecord(deadline int64, keyLen uint64, key string, valueLen uint64, value string) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(deadline))
	b = append(binary.AppendUvarint(b, keyLen), key...)
	return append(binary.AppendUvarint(b, valueLen), value...)
}

// corruptStreams are damaged streams, each with the message its error must
// have: the whole message, since the caller shows it after its own prefix.
func corruptStreams(t testing.TB) []struct {
	name, want string
	stream     []byte
} {
	good := writeStream(t, Header{Count: 3}, []testRecord{{0, "a", "1"}, {0, "b", "2"}}, []testRecord{{0, "c", "3"}})
	block := HeaderLen
	return []struct {
		name, want string
		stream     []byte
	}{
		{"empty", "truncated at byte 0", nil},
		{"magic", `not a test stream (magic "\x89XSTFRM\n")`, patch(good, func(b []byte) { b[1] = 'X' })},
		{"magic before checksum", `not a test stream (magic "\x89TSTFRM\r")`, []byte(strings.Replace(string(good), "\n", "\r\n", 1))},
		{"version", "format version 8, this build reads version 7", patch(good, func(b []byte) { b[8] = 8 })},
		{"header checksum", "header checksum mismatch", patch(good, func(b []byte) { b[20] ^= 1 })},
		{"flags", "unknown header flags 0x4", func() []byte {
			b := patch(good, func(b []byte) { b[12] = 4 })
			binary.LittleEndian.PutUint32(b[32:], Checksum(b[:32]))
			return b
		}()},
		{"block checksum", "block 1 (at byte 36): checksum mismatch", patch(good, func(b []byte) { b[block+FrameLen+9] ^= 0x10 })},
		{"block count", "block 1 (at byte 36): 3 records cannot fit in 24 bytes", patch(good, func(b []byte) { b[block+1] = 3 })},
		{"zero records", "block 1 (at byte 36): 0 records cannot fit in 24 bytes", patch(good, func(b []byte) { b[block+1] = 0 })},
		{"block too long", "block 1 (at byte 36): length 4294967295 exceeds the limit 536870912", patch(good, func(b []byte) {
			binary.LittleEndian.PutUint32(b[block+5:], 0xffffffff)
		})},
		{"block beyond the data", "truncated at byte 111", patch(good, func(b []byte) {
			binary.LittleEndian.PutUint32(b[block+5:], 400<<20)
		})},
		{"frame tag", "unknown frame tag 0x58 at byte 36", patch(good, func(b []byte) { b[block] = 'X' })},
		{"trailer count", "file checksum mismatch", patch(good, func(b []byte) { b[len(b)-12]++ })},
		{"file checksum", "file checksum mismatch", patch(good, func(b []byte) { b[len(b)-1] ^= 1 })},
		{"no trailer", "truncated at byte 98", good[:len(good)-TrailerLen]},
		{"cut in the trailer", "truncated at byte 107", good[:len(good)-4]},
		{"trailer count after a valid checksum", "trailer counts 4 entries, the blocks hold 3", func() []byte {
			b := bytes.Clone(good)
			binary.LittleEndian.PutUint64(b[len(b)-12:], 4)
			binary.LittleEndian.PutUint32(b[len(b)-4:], Checksum(b[:len(b)-4]))
			return b
		}()},
		{"truncated deadline", "truncated deadline", forged(t, 2, append(rawRecord(0, 5, "kkkkk", 5, "vvvvv"), 1, 2, 3, 4, 5))},
		{"key length 2^40", "key length 1099511627776 exceeds the limit 1048576", forged(t, 1, rawRecord(0, 1<<40, "k", 1, "v"))},
		{"value length 2^40", "value length 1099511627776 exceeds the limit 268435456", forged(t, 1, rawRecord(0, 1, "k", 1<<40, "v"))},
		{"value past the block", "value length 300 runs past the block", forged(t, 1, rawRecord(0, 1, "k", 300, "v"))},
		{"bad varint", "bad key length", forged(t, 1, append(rawRecord(0, 1, "k", 1, "v")[:8], bytes.Repeat([]byte{0xff}, 11)...))},
		{"negative deadline", "negative deadline -5", forged(t, 1, rawRecord(-5, 1, "k", 1, "v"))},
	}
}

func TestCorrupt(t *testing.T) {
	for _, tc := range corruptStreams(t) {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readStream(bytes.NewReader(tc.stream))
			require.ErrorIs(t, err, ErrCorrupt)
			assert.EqualError(t, err, tc.want)
		})
	}
}

// bytesAllocated returns the bytes allocated while f ran.
func bytesAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestForgedLengthsFailFast: a length over a limit is refused before
// anything is allocated for it, and one within the limits but beyond the
// data costs only about the data actually present.
func TestForgedLengthsFailFast(t *testing.T) {
	var claim []byte // a block claiming 500 MiB, then 1 KiB of data
	claim = append(claim, writeStream(t, Header{})[:HeaderLen]...)
	claim = append(claim, BlockTag)
	claim = binary.LittleEndian.AppendUint32(claim, 1)
	claim = binary.LittleEndian.AppendUint32(claim, 500<<20)
	claim = append(claim, make([]byte, 1024)...)
	for name, stream := range map[string][]byte{
		"key 2^40":      forged(t, 1, rawRecord(0, 1<<40, "k", 1, "v")),
		"value 2^63":    forged(t, 1, rawRecord(0, 1, "k", 1<<63, "v")),
		"block 4 GiB":   patch(forged(t, 1, rawRecord(0, 1, "k", 1, "v")), func(b []byte) { binary.LittleEndian.PutUint32(b[HeaderLen+5:], 0xffffffff) }),
		"block 500 MiB": claim,
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			n := bytesAllocated(func() { _, _, err = readStream(bytes.NewReader(stream)) })
			require.ErrorIs(t, err, ErrCorrupt)
			assert.Less(t, n, uint64(256<<10), "allocated %d bytes", n)
		})
	}
}

// failingIO fails every Read and Write with errIO.
type failingIO struct{}

var errIO = errors.New("injected I/O failure")

func (failingIO) Read([]byte) (int, error)  { return 0, errIO }
func (failingIO) Write([]byte) (int, error) { return 0, errIO }

func TestIOErrorsPassThrough(t *testing.T) {
	_, _, err := readStream(failingIO{})
	require.ErrorIs(t, err, errIO)
	assert.NotErrorIs(t, err, ErrCorrupt, "an I/O error is not damage")
	fw := NewWriter(failingIO{})
	assert.ErrorIs(t, fw.WriteHeader(testFormat, Header{}), errIO)
	assert.ErrorIs(t, fw.WriteBlock(CloseBlock(NewBlock(nil), 0), 0), errIO)
	assert.ErrorIs(t, fw.WriteTrailer(), errIO)
}

func TestBadMagicPanics(t *testing.T) {
	bad := Format{Magic: "short", Version: 1, Name: "bad"}
	assert.Panics(t, func() { _ = NewWriter(io.Discard).WriteHeader(bad, Header{}) })
	assert.Panics(t, func() { _, _ = NewReader(bytes.NewReader(nil)).ReadHeader(bad) })
}

// shortWriter accepts every byte but, on its nth Write (counting from 1),
// reports one byte fewer than it was given, with no error: an io.Writer
// that breaks the contract a Writer must not trust.
type shortWriter struct{ calls, n int }

func (w *shortWriter) Write(p []byte) (int, error) {
	w.calls++
	if w.calls == w.n {
		return len(p) - 1, nil
	}
	return len(p), nil
}

func TestShortWrite(t *testing.T) {
	block := CloseBlock(appendRecord(NewBlock(nil), testRecord{0, "k", "v"}), 1)
	for n, what := range []string{1: "header", 2: "block", 3: "trailer"} {
		if what == "" {
			continue
		}
		t.Run(what, func(t *testing.T) {
			fw := NewWriter(&shortWriter{n: n})
			err := fw.WriteHeader(testFormat, Header{})
			if err == nil {
				err = fw.WriteBlock(block, 1)
			}
			if err == nil {
				err = fw.WriteTrailer()
			}
			assert.ErrorIs(t, err, io.ErrShortWrite)
		})
	}
}

// metaFormat has two versions, the second with header metadata.
var metaFormat = Format{Magic: "\x89TSTMTA\n", Version: 2, Oldest: 1, MetaSince: 2, Name: "meta stream"}

func TestHeaderVersionsAndMeta(t *testing.T) {
	write := func(h Header) []byte {
		var out bytes.Buffer
		fw := NewWriter(&out)
		require.NoError(t, fw.WriteHeader(metaFormat, h))
		require.NoError(t, fw.WriteTrailer())
		return out.Bytes()
	}
	read := func(b []byte) (Header, error) {
		fr := NewReader(bytes.NewReader(b))
		h, err := fr.ReadHeader(metaFormat)
		if err != nil {
			return h, err
		}
		_, _, err = fr.Next()
		require.Equal(t, io.EOF, err)
		return h, nil
	}
	for _, h := range []Header{
		{Version: 1, Count: 3, Created: 9},
		{Version: 2, Count: 3, Created: 9, Meta: []byte("types")},
		{Version: 2, Meta: []byte{}},
	} {
		b := write(h)
		assert.Len(t, b, HeaderLen+TrailerLen+map[bool]int{true: 4}[h.Version == 2]+len(h.Meta))
		got, err := read(b)
		require.NoError(t, err)
		assert.Equal(t, h, got)
	}
	h, err := read(write(Header{Meta: []byte("x")}))
	require.NoError(t, err)
	assert.Equal(t, uint32(2), h.Version, "0 writes the newest version")

	v2 := write(Header{Meta: []byte("types")})
	for _, tc := range []struct {
		name, want string
		stream     []byte
	}{
		{"version 3", "format version 3, this build reads versions 1 to 2", patch(v2, func(b []byte) { b[8] = 3 })},
		{"version 0", "format version 0, this build reads versions 1 to 2", patch(v2, func(b []byte) { b[8] = 0 })},
		{"meta checksum", "header checksum mismatch", patch(v2, func(b []byte) { b[HeaderLen] ^= 1 })},
		{"meta length", "header checksum mismatch", patch(v2, func(b []byte) { b[HeaderLen-4]-- })},
		{"meta too long", "header metadata length 4294967295 exceeds the limit 65536", patch(v2, func(b []byte) {
			binary.LittleEndian.PutUint32(b[HeaderLen-4:], 0xffffffff)
		})},
		{"meta truncated", "truncated at byte 38", v2[:HeaderLen+2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := read(tc.stream)
			require.ErrorIs(t, err, ErrCorrupt)
			assert.EqualError(t, err, tc.want)
		})
	}
	assert.Panics(t, func() { write(Header{Version: 1, Meta: []byte("x")}) }, "version 1 has no metadata")
	assert.Panics(t, func() { write(Header{Version: 3}) })
	assert.Panics(t, func() { write(Header{Meta: make([]byte, MaxMetaLen+1)}) })
}
