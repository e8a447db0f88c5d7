package resp

// splitInline splits an inline request line into arguments with the rules of
// Redis's sdssplitargs, in place: unescaping only ever shortens an argument,
// so each is written over the bytes it was read from and the returned spans
// (offsets relative to base, which is line's offset from r.start) point into
// line. It reports false for Redis's "unbalanced quotes".
//
// The rules: arguments are separated by runs of C isspace bytes (space, \t,
// \n, \v, \f, \r); an unquoted argument ends at a space, \t, \n or \r (not at
// \v or \f); a double or single quote anywhere in an argument starts a quoted part; in
// "..." the escapes \n \r \t \b \a \xHH and \<any byte> (that byte) apply; in
// '...' only \' does; a closing quote must be followed by a space or the end
// of the line; an unclosed quote is an error.
//
// line never holds a NUL byte (the Reader does not find a line that does, as
// Redis's strchr does not), so the end of line plays the C string's NUL.
func (r *Reader) splitInline(line []byte, base int) bool {
	n := len(line)
	at := func(i int) byte {
		if i < n {
			return line[i]
		}
		return 0
	}
	i := 0
	for {
		for i < n && isSpace(line[i]) {
			i++
		}
		if i == n {
			return true
		}
		from, w := i, i // w trails i: every output byte consumes at least one input byte
		inDouble, inSingle := false, false
		for done := false; !done; {
			c := at(i)
			switch {
			case inDouble:
				switch {
				case c == '\\' && at(i+1) == 'x' && isHex(at(i+2)) && isHex(at(i+3)):
					line[w] = unhex(at(i+2))<<4 | unhex(at(i+3))
					w++
					i += 3
				case c == '\\' && at(i+1) != 0:
					i++
					line[w] = unescape(line[i])
					w++
				case c == '"':
					if next := at(i + 1); next != 0 && !isSpace(next) {
						return false
					}
					done = true
				case c == 0:
					return false
				default:
					line[w] = c
					w++
				}
			case inSingle:
				switch {
				case c == '\\' && at(i+1) == '\'':
					i++
					line[w] = '\''
					w++
				case c == '\'':
					if next := at(i + 1); next != 0 && !isSpace(next) {
						return false
					}
					done = true
				case c == 0:
					return false
				default:
					line[w] = c
					w++
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inDouble = true
				case '\'':
					inSingle = true
				default:
					line[w] = c
					w++
				}
			}
			if i < n {
				i++
			}
		}
		r.spans = append(r.spans, span{off: base + from, n: w - from})
	}
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// unescape maps the byte after a backslash inside "..." to what it stands for.
func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}
