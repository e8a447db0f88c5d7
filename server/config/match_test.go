package config

import (
	"strings"
	"testing"
	"time"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		nocase     bool
		want       bool
	}{
		{"", "", false, true},
		{"", "a", false, false},
		{"*", "", false, true},
		{"*", "anything", false, true},
		{"**", "", false, true},
		{"a*", "a", false, true},
		{"a*b", "ab", false, true},
		{"a*b", "axxb", false, true},
		{"a*b", "axxbc", false, false},
		{"*max*", "maxmemory", false, true},
		{"?", "", false, false},
		{"?", "a", false, true},
		{"??", "a", false, false},
		{"h?llo", "hello", false, true},
		{"h[ae]llo", "hallo", false, true},
		{"h[ae]llo", "hillo", false, false},
		{"h[^e]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true},
		{"h[b-a]llo", "hallo", false, true}, // ends in either order
		{"h[a-b]llo", "hcllo", false, false},
		{`h\*llo`, "h*llo", false, true},
		{`h\*llo`, "hello", false, false},
		{`\`, `\`, false, true},       // a trailing '\' is itself
		{`a\`, `a\`, false, true},     //
		{`[\]]`, "]", false, true},    // escaped ']' in a set
		{`[\`, `\`, false, true},      // unclosed set holding '\'
		{"[ab", "b", false, true},     // an unclosed set holds what it read
		{"[ab", "c", false, false},    //
		{"[", "", false, false},       //
		{"[", "[", false, false},      // an empty unclosed set matches nothing
		{"[]", "]", false, false},     // "[]" matches nothing
		{"[]a]", "]", false, false},   // ... and is followed by "a]"
		{"[]a]", "a]", false, false},  //
		{"[^]", "x", false, true},     // its negation matches any byte
		{"[^", "x", false, true},      //
		{"[a-]x]", "x", false, true},  // "a-]" is a range, then 'x'
		{"[a-]x]", "^", false, true},  // ']'..'a' holds '^'
		{"[a-]x]", "-", false, false}, //
		{"MAX*", "maxmemory", true, true},
		{"MAX*", "maxmemory", false, false},
		{"[A-Z]ax", "max", true, true},
		{`[\M]ax`, "max", true, false}, // escaped bytes in a set compare exactly
		{`\Max`, "max", true, true},    // escaped bytes elsewhere do not
		{"[Z-a]x", "_x", false, true},  // 'Z'..'a' as bytes
		{"[Z-a]x", "_x", true, false},  // lower-cased after ordering: 'z'..'a' is empty
		{"a*a*a*a*a*a*a*a*b", strings.Repeat("a", 40), false, false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.s, tt.nocase); got != tt.want {
			t.Errorf("Match(%q, %q, %v) = %v, want %v", tt.pattern, tt.s, tt.nocase, got, tt.want)
		}
		if len(tt.s) > 24 {
			continue // too long for the exponential reference
		}
		if got := refMatch(tt.pattern, tt.s, tt.nocase); got != tt.want {
			t.Errorf("refMatch(%q, %q, %v) = %v, want %v (the reference disagrees with the table)", tt.pattern, tt.s, tt.nocase, got, tt.want)
		}
	}
}

// TestMatchPathological checks that patterns which make a backtracking
// matcher exponential stay fast.
func TestMatchPathological(t *testing.T) {
	s := strings.Repeat("a", 5000)
	p := strings.Repeat("*a", 200) + "*b"
	start := time.Now()
	if Match(p, s, false) {
		t.Fatal("matched")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
}

// refMatch is the reference for the fuzz test: a plain recursive walk of the
// pattern in the manner of Redis's stringmatchlen (without its
// skipLongerMatches shortcut), exponential at worst, for small inputs only.
func refMatch(p, s string, nocase bool) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if len(p) == 0 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if refMatch(p, s[i:], nocase) {
					return true
				}
			}
			return false
		}
		if len(s) == 0 {
			return false
		}
		c := s[0]
		switch p[0] {
		case '?':
			p = p[1:]
		case '[':
			body := p[1:]
			neg := len(body) > 0 && body[0] == '^'
			if neg {
				body = body[1:]
			}
			hit := false
			for {
				if len(body) == 0 {
					break
				}
				if body[0] == ']' {
					body = body[1:]
					break
				}
				if body[0] == '\\' && len(body) >= 2 {
					hit = hit || body[1] == c
					body = body[2:]
					continue
				}
				if len(body) >= 3 && body[1] == '-' {
					lo, hi := body[0], body[2]
					if lo > hi {
						lo, hi = hi, lo
					}
					x := c
					if nocase {
						lo, hi, x = lower(lo), lower(hi), lower(x)
					}
					hit = hit || lo <= x && x <= hi
					body = body[3:]
					continue
				}
				hit = hit || body[0] == c || nocase && lower(body[0]) == lower(c)
				body = body[1:]
			}
			if hit == neg {
				return false
			}
			p = body
		default:
			if p[0] == '\\' && len(p) >= 2 {
				p = p[1:]
			}
			if p[0] != c && !(nocase && lower(p[0]) == lower(c)) {
				return false
			}
			p = p[1:]
		}
		s = s[1:]
	}
	return len(s) == 0
}

func FuzzMatch(f *testing.F) {
	f.Add("*a*b?[c-e]", "xaybzd", false)
	f.Add(`[^\]a-]*`, "]]x", true)
	f.Fuzz(func(t *testing.T, p, s string, nocase bool) {
		if len(p) > 16 || len(s) > 24 {
			return // the reference is exponential
		}
		if got, want := Match(p, s, nocase), refMatch(p, s, nocase); got != want {
			t.Fatalf("Match(%q, %q, %v) = %v, reference says %v", p, s, nocase, got, want)
		}
	})
}
