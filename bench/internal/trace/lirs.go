package trace

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// ReadLIRS parses LIRS text: one decimal block number per line. Surrounding
// whitespace (including the \r of CRLF files such as loop) is trimmed, and
// blank lines and "*" checkpoint lines are skipped.
func ReadLIRS(r io.Reader) ([]uint64, error) {
	var keys []uint64
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || (len(b) == 1 && b[0] == '*') {
			continue
		}
		k, err := strconv.ParseUint(string(b), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrFormat, line, err)
		}
		keys = append(keys, k)
	}
	return keys, sc.Err()
}
