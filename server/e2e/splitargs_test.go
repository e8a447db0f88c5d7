package e2e

import (
	"slices"
	"testing"

	"github.com/shardcache/shardcache/server/config"
)

// splitArgs splits a script line as redis-cli does: config.SplitArgs, the
// sdssplitargs rules the server's config files use.
func splitArgs(line string) ([]string, error) { return config.SplitArgs(line) }

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
