package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shardcache/shardcache/server/internal/servertest"
)

// TestRunnerFindsDifferences runs a script against two redis-servers made
// to differ (the candidate has 2 databases and no LPUSH) and checks that
// the runner reports exactly the lines where they do: a harness that
// passed everything would pass TestCompat too.
func TestRunnerFindsDifferences(t *testing.T) {
	const src = `FLUSHALL
SET k v
GET k
# 5: differs, the candidate has a db 1
SELECT 1
SELECT 0
@ignore
TIME
# 13: the candidate has no LPUSH: the type agrees, the shape does not
@ignore
COMMAND INFO LPUSH
@shape
COMMAND INFO LPUSH
MSET a 1 b 2 c 3
@sorted
KEYS *
# 18: differs, and so does KEYS after it (20)
MOVE a 1
@sorted
KEYS *
@conn 2
GET b
@conn 1
@expect "-ERR unknown command 'LPUSH', with args beginning with: 'l' 'x' "
LPUSH l x
# 28: an @expect that does not hold
@expect "+OK"
LPUSH l y
SET t v EX 100
@approx 1
TTL t
`
	s, err := readScript("differ.txt", strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	ref := servertest.StartRedis(t, "--databases", "1")
	cand := servertest.StartRedis(t, "--databases", "2", "--rename-command", "LPUSH", "")
	var got []string
	r := newRunner(t, s, 2, ref, cand, "cand")
	r.errorf = func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) }
	r.run()
	want := []string{"differ.txt:5 ", "differ.txt:13 ", "differ.txt:18 ", "differ.txt:20 ", "differ.txt:28 "}
	var lines []string
	for _, g := range got {
		lines = append(lines, g[:strings.Index(g, "[")])
	}
	if !slices.Equal(lines, want) {
		t.Errorf("reported:\n%s\nwant lines %q", strings.Join(got, "\n"), want)
	}
}

func TestCompareHelpers(t *testing.T) {
	i := func(n int) servertest.Reply {
		r := servertest.Reply{Kind: servertest.KindInteger, Str: fmt.Sprint(n)}
		r.Raw = r.Encode()
		return r
	}
	for _, tt := range []struct {
		a, b, tol int
		want      bool
	}{{100, 99, 1, true}, {99, 100, 1, true}, {100, 98, 1, false}, {-1, -1, 5, true}, {-1, -2, 5, false}, {-1, 0, 5, false}} {
		if got := approxEqual(i(tt.a), i(tt.b), int64(tt.tol)); got != tt.want {
			t.Errorf("approxEqual(%d, %d, %d) = %v", tt.a, tt.b, tt.tol, got)
		}
	}
	arr := func(elems ...servertest.Reply) servertest.Reply {
		r := servertest.Reply{Kind: servertest.KindArray, Elems: elems}
		r.Raw = r.Encode()
		return r
	}
	if !sameShape(arr(i(1), arr(i(2))), arr(i(7), arr(i(8)))) || sameShape(arr(i(1), arr(i(2))), arr(i(1), arr())) {
		t.Error("sameShape compares values or misses a nested length")
	}
	if string(sortedRaw(arr(i(2), i(1)))) != string(sortedRaw(arr(i(1), i(2)))) || string(sortedRaw(arr(i(1), i(1)))) == string(sortedRaw(arr(i(1)))) {
		t.Error("sortedRaw is not a multiset comparison")
	}
}
