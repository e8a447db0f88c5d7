package config

import (
	"errors"
	"strconv"
	"strings"
)

// ErrSaveParams is the error ParseSave returns for a bad save value; its text
// is the one Redis replies with.
var ErrSaveParams = errors.New("Invalid save parameters")

// SaveRule is one "seconds changes" pair of the save directive: snapshot when
// at least Changes writes happened and Seconds have passed since the last
// snapshot.
type SaveRule struct {
	Seconds int // ≥ 1
	Changes int // ≥ 0
}

// ParseSave parses a save value as CONFIG SET save takes it: pairs of
// integers separated by single spaces ("900 1 300 10"); "" means no rules (no
// automatic snapshots). Seconds must be at least 1 and Changes at least 0, as
// in Redis; like Redis's strtoll, a leading '+' and leading zeros are
// accepted. It is safe for concurrent use.
func ParseSave(s string) ([]SaveRule, error) {
	if s == "" {
		return nil, nil
	}
	f := strings.Split(s, " ")
	if len(f)%2 != 0 {
		return nil, ErrSaveParams
	}
	rules := make([]SaveRule, 0, len(f)/2)
	for i := 0; i < len(f); i += 2 {
		secs, err1 := strconv.Atoi(f[i])
		changes, err2 := strconv.Atoi(f[i+1])
		if err1 != nil || err2 != nil || secs < 1 || changes < 0 {
			return nil, ErrSaveParams
		}
		rules = append(rules, SaveRule{Seconds: secs, Changes: changes})
	}
	return rules, nil
}

// FormatSave formats rules as CONFIG GET save shows them: "900 1 300 10", or
// "" for none. It is safe for concurrent use.
func FormatSave(rules []SaveRule) string {
	var b []byte
	for i, r := range rules {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(r.Seconds), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.Changes), 10)
	}
	return string(b)
}
