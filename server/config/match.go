package config

// Match reports whether s matches the glob pattern, with the rules of Redis's
// stringmatchlen (CONFIG GET, KEYS, SCAN MATCH, PSUBSCRIBE):
//
//   - '*' matches any sequence of bytes, the empty one included;
//   - '?' matches any one byte;
//   - '[abc]' matches one byte of the set, '[^abc]' one byte outside it,
//     'a-z' in a set is a range (its ends in either order), '\x' in a set is
//     the byte x; a set that the pattern ends inside of holds what it has read
//     ("[ab" is "[ab]"), and "[]" matches nothing;
//   - '\x' elsewhere is the byte x; a '\' that ends the pattern is itself.
//
// With nocase, ASCII letters match either case, as Redis's tolower does, except
// an escaped byte inside a set, which Redis compares exactly. Bytes compare as
// unsigned values (Redis compares C chars, signed on some platforms: ranges
// over bytes above 0x7f may differ there).
//
// Match runs in O(len(pattern) × len(s)) time at worst and does not allocate:
// every token but '*' consumes exactly one byte, so on a mismatch it only
// needs to retry from the last '*' one byte further on, never to backtrack
// into earlier stars (Redis bounds the same blow-up with its skipLongerMatches
// flag). It is safe for concurrent use.
func Match(pattern, s string, nocase bool) bool {
	pi, si := 0, 0
	starP, starS := -1, 0 // the pattern after the last '*', and where in s it was retried
	for si < len(s) {
		if pi < len(pattern) && pattern[pi] == '*' {
			for pi < len(pattern) && pattern[pi] == '*' {
				pi++
			}
			if pi == len(pattern) {
				return true
			}
			starP, starS = pi, si
			continue
		}
		if pi < len(pattern) {
			if ok, next := matchOne(pattern, pi, s[si], nocase); ok {
				pi = next
				si++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP, starS
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}

// matchOne matches the byte c against the token at pattern[pi], which is not
// '*', and returns the index of the token after it.
func matchOne(pattern string, pi int, c byte, nocase bool) (bool, int) {
	switch pattern[pi] {
	case '?':
		return true, pi + 1
	case '[':
		return matchSet(pattern, pi+1, c, nocase)
	case '\\':
		if pi+1 < len(pattern) {
			pi++
		}
	}
	return equal(pattern[pi], c, nocase), pi + 1
}

// matchSet matches c against the set whose body starts at pattern[i] (just
// after its '[') and returns the index after the set's ']' (or the pattern's
// end when the set is not closed).
func matchSet(pattern string, i int, c byte, nocase bool) (bool, int) {
	n := len(pattern)
	negate := i < n && pattern[i] == '^'
	if negate {
		i++
	}
	match := false
	for ; i < n && pattern[i] != ']'; i++ {
		switch {
		case pattern[i] == '\\' && n-i >= 2:
			i++
			if pattern[i] == c {
				match = true
			}
		case n-i >= 3 && pattern[i+1] == '-':
			lo, hi, x := pattern[i], pattern[i+2], c
			if lo > hi {
				lo, hi = hi, lo
			}
			if nocase {
				lo, hi, x = lower(lo), lower(hi), lower(x)
			}
			if x >= lo && x <= hi {
				match = true
			}
			i += 2
		default:
			if equal(pattern[i], c, nocase) {
				match = true
			}
		}
	}
	if i < n {
		i++ // the closing ']'
	}
	return match != negate, i
}

func equal(a, b byte, nocase bool) bool {
	if nocase {
		return lower(a) == lower(b)
	}
	return a == b
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// hasGlob reports whether a CONFIG GET argument is a pattern: Redis looks an
// argument without '*', '?' or '[' up by name instead.
func hasGlob(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[':
			return true
		}
	}
	return false
}
