package e2e

import (
	"errors"
	"slices"
	"testing"
)

var errUnbalanced = errors.New("unbalanced quotes")

// splitArgs splits a line into arguments as redis-cli does (Redis's
// sdssplitargs): words separated by spaces; "double quotes" with the escapes
// \n \r \t \b \a \xHH and \<any other byte> for that byte; 'single quotes'
// where only \' is an escape. A quote may open inside a word (a"b" is ab),
// but a closing quote must be followed by a space or the end of the line.
func splitArgs(line string) ([]string, error) {
	var args []string
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			return args, nil
		}
		var cur []byte
		inDouble, inSingle := false, false
	word:
		for {
			switch {
			case inDouble:
				switch {
				case i == len(line):
					return nil, errUnbalanced
				case line[i] == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					cur = append(cur, unhex(line[i+2])<<4|unhex(line[i+3]))
					i += 3
				case line[i] == '\\' && i+1 < len(line):
					i++
					switch c := line[i]; c {
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
						cur = append(cur, c)
					}
				case line[i] == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errUnbalanced
					}
					i++
					break word
				default:
					cur = append(cur, line[i])
				}
			case inSingle:
				switch {
				case i == len(line):
					return nil, errUnbalanced
				case line[i] == '\\' && i+1 < len(line) && line[i+1] == '\'':
					cur = append(cur, '\'')
					i++
				case line[i] == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errUnbalanced
					}
					i++
					break word
				default:
					cur = append(cur, line[i])
				}
			default:
				if i == len(line) || isSpace(line[i]) {
					break word
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

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

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

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"SET k v", []string{"SET", "k", "v"}},
		{"  SET \t k   v  ", []string{"SET", "k", "v"}},
		{`SET k "a b"`, []string{"SET", "k", "a b"}},
		{`SET k ""`, []string{"SET", "k", ""}},
		{`SET k ''`, []string{"SET", "k", ""}},
		{`ECHO "\x41\x7a\xff"`, []string{"ECHO", "Az\xff"}},
		{`ECHO "\xZZ"`, []string{"ECHO", "xZZ"}},
		{`ECHO "a\r\nb\t\"\\\q"`, []string{"ECHO", "a\r\nb\t\"\\q"}},
		{`ECHO 'it\'s \n'`, []string{"ECHO", `it's \n`}},
		{`ECHO a"b c"d`, nil}, // closing quote followed by a letter
		{`ECHO a"b c"`, []string{"ECHO", "ab c"}},
		{`ECHO a'b'`, []string{"ECHO", "ab"}},
		{`ECHO "abc`, nil},
		{`ECHO 'abc`, nil},
		{`ECHO "abc"x`, nil},
	}
	for _, tt := range tests {
		got, err := splitArgs(tt.in)
		if tt.want == nil && tt.in != "" && tt.in != "   " {
			if err == nil {
				t.Errorf("splitArgs(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
