package aof

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

// sample is an incr file's bytes: plain records and a MULTI block.
func sample() []byte {
	var b []byte
	b = AppendCommand(b, []byte("SET"), []byte("a"), []byte("1"))
	b = append(b, Multi...)
	b = AppendCommand(b, []byte("DEL"), []byte("a"))
	b = AppendCommand(b, []byte("SET"), []byte("b"), []byte("with\r\nCRLF"), []byte("PXAT"), []byte("99"))
	b = append(b, Exec...)
	b = AppendCommand(b, []byte("FLUSHALL"))
	return b
}

func scanAll(b []byte) ([]Unit, int64, error) {
	var units []Unit
	off, err := Scan(bytes.NewReader(b), func(u Unit) error { units = append(units, u); return nil })
	return units, off, err
}

func TestScanRoundTrip(t *testing.T) {
	units, off, err := scanAll(sample())
	if err != nil || off != int64(len(sample())) {
		t.Fatalf("Scan = %d, %v; want %d, nil", off, err, len(sample()))
	}
	got := fmt.Sprintf("%v", units)
	if len(units) != 3 || !units[1].Multi || len(units[1].Cmds) != 2 || string(units[1].Cmds[1][2]) != "with\r\nCRLF" {
		t.Fatalf("units = %s", got)
	}
}

// TestScanTornTail cuts the sample at every byte: each cut is a torn
// tail whose offset is the end of the last complete unit (a MULTI block
// counts whole), and no unit past it is handed on.
func TestScanTornTail(t *testing.T) {
	full := sample()
	_, _, _ = scanAll(full)
	var ends []int64 // unit ends
	rd := NewReader(bytes.NewReader(full))
	inMulti := false
	for {
		args, err := rd.Next()
		if err == io.EOF {
			break
		}
		switch string(args[0]) {
		case "MULTI":
			inMulti = true
			continue
		case "EXEC":
			inMulti = false
		}
		if !inMulti {
			ends = append(ends, rd.Offset())
		}
	}
	for cut := 1; cut < len(full); cut++ {
		units, off, err := scanAll(full[:cut])
		want := int64(0)
		n := 0
		for _, e := range ends {
			if e <= int64(cut) {
				want, n = e, n+1
			}
		}
		if want == int64(cut) {
			if err != nil {
				t.Fatalf("cut %d at a unit boundary: %v", cut, err)
			}
			continue
		}
		var te *TruncatedError
		if !errors.As(err, &te) || te.Offset != want || off != want || len(units) != n {
			t.Fatalf("cut %d: Scan = %d units, %d, %v; want %d units, TruncatedError at %d", cut, len(units), off, err, n, want)
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut %d: %v does not match io.ErrUnexpectedEOF", cut, err)
		}
	}
}

func TestScanCorrupt(t *testing.T) {
	rec := AppendCommand(nil, []byte("SET"), []byte("a"), []byte("1"))
	cases := []struct {
		name string
		b    []byte
		at   int64
	}{
		{"garbage in the middle", append(append(append([]byte{}, rec...), "hello world\r\n"...), rec...), int64(len(rec))},
		{"garbage at the end", append(append([]byte{}, rec...), "xyz\r\n"...), int64(len(rec))},
		{"bad length", append(append([]byte{}, rec...), "*2\r\n$abc\r\n"...), int64(len(rec))},
		{"bulk without CRLF", append(append([]byte{}, rec...), "*1\r\n$3\r\nabcXY"...), int64(len(rec))},
		{"EXEC without MULTI", append(append([]byte{}, rec...), Exec...), int64(len(rec))},
		{"nested MULTI", append(append(append([]byte{}, rec...), Multi...), Multi...), int64(len(rec) + len(Multi))},
		{"zero arguments", append(append([]byte{}, rec...), "*0\r\n"...), int64(len(rec))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, off, err := scanAll(tc.b)
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Offset != tc.at || off != int64(len(rec)) {
				t.Fatalf("Scan = %d, %v; want a CorruptError at %d", off, err, tc.at)
			}
		})
	}
}

// FuzzScan: the reader never panics, never hands on a unit past the
// offset it reports, and the offset is a prefix that scans cleanly to the
// same units.
func FuzzScan(f *testing.F) {
	f.Add(sample())
	f.Add(sample()[:37])
	f.Add([]byte("*1\r\n$999999999\r\n"))
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*1\r\n$5\r\nMULTI\r\n"))
	f.Add([]byte("\r\n\r\n*-1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		units, off, err := scanAll(b)
		if off < 0 || off > int64(len(b)) {
			t.Fatalf("offset %d outside 0..%d", off, len(b))
		}
		again, off2, err2 := scanAll(b[:off])
		if err2 != nil || off2 != off || len(again) != len(units) {
			t.Fatalf("prefix %d: %d units, %v; first pass %d units (%v)", off, len(again), err2, len(units), err)
		}
	})
}
