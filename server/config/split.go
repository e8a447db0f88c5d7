package config

import "errors"

// ErrUnbalancedQuotes is the error SplitArgs returns for a line whose quotes
// do not close, or whose closing quote is not followed by a space; its text is
// the one redis-server prints.
var ErrUnbalancedQuotes = errors.New("Unbalanced quotes in configuration line")

// SplitArgs splits a configuration line into arguments with the rules of
// Redis's sdssplitargs: arguments are separated by spaces, tabs, CR, LF or
// NUL (and, between arguments, \v and \f); "double quotes" take the escapes \n \r \t \b \a, \xHH (two hex digits)
// and \c for any other c (itself); 'single quotes' take only \' as an escape.
// A quote may open in the middle of an argument (ab"cd" is abcd), but a
// closing quote must be followed by a separator or the end. An empty line
// gives no arguments. It is safe for concurrent use.
func SplitArgs(line string) ([]string, error) {
	var args []string
	i, n := 0, len(line)
	for {
		for i < n && isSpace(line[i]) {
			i++
		}
		if i == n {
			return args, nil
		}
		var cur []byte
		inDouble, inSingle := false, false
	arg:
		for {
			switch {
			case inDouble:
				if i == n {
					return nil, ErrUnbalancedQuotes
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < n && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					cur = append(cur, unhex(line[i+2])<<4|unhex(line[i+3]))
					i += 3
				case c == '\\' && i+1 < n:
					i++
					switch line[i] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[i])
					}
				case c == '"':
					if i+1 < n && !isSpace(line[i+1]) {
						return nil, ErrUnbalancedQuotes
					}
					i++
					break arg
				default:
					cur = append(cur, c)
				}
			case inSingle:
				if i == n {
					return nil, ErrUnbalancedQuotes
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < n && line[i+1] == '\'':
					cur = append(cur, '\'')
					i++
				case c == '\'':
					if i+1 < n && !isSpace(line[i+1]) {
						return nil, ErrUnbalancedQuotes
					}
					i++
					break arg
				default:
					cur = append(cur, c)
				}
			default:
				if i == n || isSep(line[i]) {
					break arg
				}
				switch line[i] {
				case '"':
					inDouble = true
				case '\'':
					inSingle = true
				default:
					cur = append(cur, line[i])
				}
			}
			i++
		}
		args = append(args, string(cur))
	}
}

// isSpace is C's isspace, which sdssplitargs uses between arguments and
// after a closing quote; isSep ends an unquoted argument.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == 0
}

func isSep(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
