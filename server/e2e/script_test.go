package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A script is a file of testdata/compat: one command per line in
// redis-cli's quoting (see splitArgs), blank lines and lines starting with
// # ignored, and these directives on lines of their own:
//
// Directives that act where they stand:
//
//	@proto N      send HELLO N on the current connection (compared as HELLO)
//	@sleep D      sleep for D, a Go duration such as 1100ms (TTL expiry)
//	@newconn      close the current connection and open a fresh one
//	@conn N       switch to connection N (1 is the first), opening it on
//	              first use; WATCH cases modify keys from a second one
//
// Directives that say how the next command's replies are compared, at most
// one per command. Without one, the raw replies must be equal byte for byte
// (after the allow-list's rewriting of HELLO and CLIENT LIST/INFO).
//
//	@ignore       same reply type, any content    (allow-listed commands only)
//	@shape        same types and lengths, nested  (allow-listed commands only)
//	@approx N     integers within N of each other; negative ones equal
//	              (allow-listed commands only: TTL, PTTL...)
//	@sorted       array or set replies compared as sorted multisets (KEYS)
//	@scan         the command is SCAN 0 ...: iterate to the end on each
//	              server and compare the sets of keys returned, not cursors
//	@expect LIT   send the command to shardcached only, whose raw reply must
//	              be LIT, parsed like an argument ("..." escapes); a missing
//	              final \r\n is added. For the commands of the types that
//	              shardcached does not have (LPUSH, HSET...), which Redis
//	              would run; see TestCompat for how redis checks LIT.
type script struct {
	name  string // file name, "strings.txt"
	steps []step
}

type stepKind int

const (
	stepCommand stepKind = iota
	stepSleep
	stepNewConn
	stepConn
)

type compareMode int

const (
	cmpExact compareMode = iota
	cmpIgnore
	cmpShape
	cmpApprox
	cmpSorted
	cmpScan
	cmpExpect
)

var modeNames = map[string]compareMode{
	"@ignore": cmpIgnore, "@shape": cmpShape, "@approx": cmpApprox,
	"@sorted": cmpSorted, "@scan": cmpScan, "@expect": cmpExpect,
}

type step struct {
	line   int    // 1-based line number in the script
	text   string // the line as written
	kind   stepKind
	args   []string      // stepCommand
	mode   compareMode   // stepCommand
	approx int64         // cmpApprox: the tolerance
	expect string        // cmpExpect: the raw reply shardcached must give
	sleep  time.Duration // stepSleep
	conn   int           // stepConn
}

func loadScripts(dir string) ([]script, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no scripts in %s", dir)
	}
	var scripts []script
	for _, f := range files {
		s, err := parseScript(f)
		if err != nil {
			return nil, err
		}
		scripts = append(scripts, s)
	}
	return scripts, nil
}

func parseScript(path string) (script, error) {
	f, err := os.Open(path)
	if err != nil {
		return script{}, err
	}
	defer f.Close()
	return readScript(filepath.Base(path), f)
}

func readScript(name string, r io.Reader) (script, error) {
	var err error
	s := script{name: name}
	var pending *step // a comparison directive waiting for its command
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s: %s", s.name, n, text, fmt.Sprintf(format, args...))
		}
		if text[0] != '@' {
			args, err := splitArgs(text)
			if err != nil {
				return script{}, fail("%v", err)
			}
			st := step{line: n, text: text, kind: stepCommand, args: args}
			if pending != nil {
				st.mode, st.approx, st.expect = pending.mode, pending.approx, pending.expect
				pending = nil
			}
			if err := checkMode(st); err != nil {
				return script{}, fail("%v", err)
			}
			s.steps = append(s.steps, st)
			continue
		}
		name, arg, _ := strings.Cut(text, " ")
		arg = strings.TrimSpace(arg)
		if mode, ok := modeNames[name]; ok {
			if pending != nil {
				return script{}, fail("a second comparison directive for one command")
			}
			pending = &step{mode: mode}
			switch mode {
			case cmpApprox:
				if pending.approx, err = strconv.ParseInt(arg, 10, 64); err != nil || pending.approx < 0 {
					return script{}, fail("@approx wants a tolerance >= 0")
				}
			case cmpExpect:
				lit, err := splitArgs(arg)
				if err != nil || len(lit) != 1 {
					return script{}, fail("@expect wants one (quoted) reply")
				}
				pending.expect = lit[0]
				if !strings.HasSuffix(pending.expect, "\r\n") {
					pending.expect += "\r\n"
				}
			default:
				if arg != "" {
					return script{}, fail("%s takes no argument", name)
				}
			}
			continue
		}
		if pending != nil {
			return script{}, fail("a comparison directive must be followed by a command")
		}
		st := step{line: n, text: text}
		switch name {
		case "@proto":
			if arg != "2" && arg != "3" {
				return script{}, fail("@proto wants 2 or 3")
			}
			st.kind, st.args = stepCommand, []string{"HELLO", arg}
		case "@sleep":
			st.kind = stepSleep
			if st.sleep, err = time.ParseDuration(arg); err != nil || st.sleep <= 0 || st.sleep > 10*time.Second {
				return script{}, fail("@sleep wants a duration up to 10s")
			}
		case "@newconn":
			st.kind = stepNewConn
		case "@conn":
			st.kind = stepConn
			if st.conn, err = strconv.Atoi(arg); err != nil || st.conn < 1 || st.conn > 8 {
				return script{}, fail("@conn wants a connection number from 1 to 8")
			}
		default:
			return script{}, fail("unknown directive %s", name)
		}
		s.steps = append(s.steps, st)
	}
	if err := sc.Err(); err != nil {
		return script{}, err
	}
	if pending != nil {
		return script{}, fmt.Errorf("%s: a comparison directive at the end of the file", s.name)
	}
	if len(s.steps) == 0 || !strings.EqualFold(strings.Join(s.steps[0].args, " "), "FLUSHALL") {
		return script{}, fmt.Errorf("%s: the first command must be FLUSHALL, so that both servers start empty", s.name)
	}
	return s, nil
}

// checkMode enforces the allow-list: the lax comparisons are for the
// commands it names, each for the reason it gives.
func checkMode(st step) error {
	if len(st.args) == 0 {
		return fmt.Errorf("empty command")
	}
	var need string
	switch st.mode {
	case cmpIgnore:
		need = "@ignore"
	case cmpShape:
		need = "@shape"
	case cmpApprox:
		need = "@approx"
	case cmpScan:
		if !strings.EqualFold(st.args[0], "SCAN") || len(st.args) < 2 || st.args[1] != "0" {
			return fmt.Errorf("@scan wants SCAN 0 ...")
		}
		return nil
	default:
		return nil
	}
	a, ok := lookupAllowance(st.args)
	if !ok || !strings.Contains(a.directives, need) {
		return fmt.Errorf("%s is not allowed for %s: see the allow-list in compat_test.go", need, strings.ToUpper(st.args[0]))
	}
	return nil
}
