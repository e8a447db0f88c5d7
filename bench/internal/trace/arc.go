package trace

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// maxRange bounds num_blocks on an ARC line; P3's largest is 128. A larger
// value means a corrupt line, not a real request.
const maxRange = 1 << 20

// ReadARC parses ARC text: "start_block num_blocks ignore request_number"
// per line, replayed as num_blocks accesses of start_block, start_block+1, ….
// Only the first two fields are used; blank lines are skipped.
func ReadARC(r io.Reader) ([]uint64, error) {
	var keys []uint64
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		fields := bytes.Fields(sc.Bytes())
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("%w: line %d: want at least 2 fields, got %q", ErrFormat, line, sc.Bytes())
		}
		start, err := strconv.ParseUint(string(fields[0]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: start block: %v", ErrFormat, line, err)
		}
		n, err := strconv.ParseUint(string(fields[1]), 10, 64)
		if err != nil || n == 0 || n > maxRange {
			return nil, fmt.Errorf("%w: line %d: block count %q", ErrFormat, line, fields[1])
		}
		for i := range n {
			keys = append(keys, start+i)
		}
	}
	return keys, sc.Err()
}
