package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// ErrNotMemory is the error ParseMemory returns for a string that is not a
// memory value; its text is the one Redis replies with.
var ErrNotMemory = errors.New("argument must be a memory value")

// ErrMemoryRange is the error ParseMemory returns for a memory value larger
// than math.MaxInt64 bytes (Redis's unsigned parser wraps around instead).
var ErrMemoryRange = errors.New("memory value out of range")

// ParseMemory parses a memory amount as Redis's memtoull does: decimal digits
// followed by an optional unit, case-insensitive: b (1), k (1000), kb (1024),
// m (1000²), mb (1024²), g (1000³), gb (1024³). No sign, space, fraction or
// other unit is accepted. As in Redis, the digits may be absent: "" and "mb"
// are 0. It is safe for concurrent use.
func ParseMemory(s string) (int64, error) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	var mul uint64
	switch strings.ToLower(s[i:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1 << 10
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1 << 20
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1 << 30
	default:
		return 0, ErrNotMemory
	}
	if i == 0 {
		return 0, nil
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mul {
		return 0, ErrMemoryRange
	}
	return int64(n * mul), nil
}
