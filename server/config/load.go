package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrBadDirective is the reason a LoadError gives for an unknown directive or
// for include's wrong argument count; its text is redis-server's.
var ErrBadDirective = errors.New("Bad directive or wrong number of arguments")

// ErrArgCount is the reason a LoadError gives for a known directive with the
// wrong number of arguments; its text is redis-server's.
var ErrArgCount = errors.New("wrong number of arguments")

// LoadError is the error Load returns: where the bad setting came from, the
// directive, its arguments and why. Its text starts with the source, so that
// editors jump to it, and leaves the program name to the caller:
//
//	shardcached.conf:3: maxmemory-policy "volatile-lru": not supported; supported: allkeys-lru, allkeys-lfu, noeviction
//	command line: maxmemory "1x": argument must be a memory value
//	environment SHARDCACHED_PORT: port "http": argument couldn't be parsed into an integer
//
// A sensitive directive's arguments (requirepass) are not kept.
type LoadError struct {
	Source    string   // "file:line", "command line", "environment NAME", or "default"
	Directive string   // as given, lower case
	Args      []string // the arguments as given; nil when hidden or none
	Err       error    // the reason: ErrBadDirective, ErrArgCount, ErrUnbalancedQuotes, a value's parse error, an I/O error
}

// Error returns "source: directive "arg"...: reason".
func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	b.WriteString(": ")
	if e.Directive != "" {
		b.WriteString(e.Directive)
		for _, a := range e.Args {
			b.WriteByte(' ')
			b.WriteString(strconv.Quote(a))
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns Err, for errors.Is and errors.As.
func (e *LoadError) Unwrap() error { return e.Err }

// EnvPrefix starts the environment variables Load reads: SHARDCACHED_ and
// the directive's name in upper case with '_' for '-'
// (SHARDCACHED_MAXMEMORY_POLICY for maxmemory-policy).
const EnvPrefix = "SHARDCACHED_"

// maxIncludeDepth bounds include nesting, which catches a file that
// includes itself.
const maxIncludeDepth = 16

// Load builds the configuration from the command line (args without the
// program name) and the environment (env in os.Environ form), over the
// defaults. Precedence: flags > environment > file > defaults.
//
// args may start with a configuration file's path, then --name value
// [value...] options as redis-server takes them (--port 7000, --save "900 1",
// --save "" or a bare --save to turn snapshots off, --bind 127.0.0.1 ::1): an
// option's values run to the next argument that starts with "--".
//
// The file has redis.conf's syntax: one directive per line, its arguments
// split as SplitArgs does, directive names case-insensitive, blank lines and
// lines starting with '#' ignored ('#' later in a line is an argument, as in
// Redis). "include path" reads another file in place; a relative path is
// relative to the working directory, as in Redis, not to the including file,
// and glob patterns are not expanded. A directive repeated within a source
// takes its last value, except save, whose lines add up, an empty one
// clearing those before it (save 900 1 then save 300 10 is "900 1 300 10").
// Unlike redis-server, which reads its options as lines appended to the file,
// a save given in a higher source replaces the save rules of lower ones
// rather than adding to them.
//
// Every SHARDCACHED_ variable must name a directive; its value is one
// argument in CONFIG SET syntax (SHARDCACHED_SAVE="900 1 300 10"), and an
// empty value is a value, not an absence. include is a file directive only.
//
// After the sources Load cross-checks the result: a non-empty dir must be a
// directory; save rules need a dir; tls-port needs tls-cert-file and
// tls-key-file, both readable. It neither opens logfile nor binds ports.
//
// Any unknown directive, bad value or failed check makes Load fail with a
// *LoadError naming the source; nothing is half-applied. Load is safe for
// concurrent use; its result is ready for Snapshot, Get, Set and OnChange.
func Load(args []string, env []string) (*Config, error) {
	v := Default()
	origin := make(map[*directive]string)

	var file []entry
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		if err := readFile(args[0], "", 0, &file); err != nil {
			return nil, err
		}
		args = args[1:]
	}
	flags, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	vars, err := parseEnv(env)
	if err != nil {
		return nil, err
	}
	for _, src := range [][]entry{file, vars, flags} {
		if err := apply(&v, src, origin); err != nil {
			return nil, err
		}
	}
	for _, d := range directives {
		if d.check == nil {
			continue
		}
		if err := d.check(&v); err != nil {
			src, ok := origin[d]
			if !ok {
				src = "default"
			}
			e := &LoadError{Source: src, Directive: d.name, Err: err}
			if !d.sensitive {
				e.Args = []string{d.get(&v)}
			}
			return nil, e
		}
	}
	c := &Config{}
	c.cur.Store(&v)
	return c, nil
}

// entry is one directive line of a source.
type entry struct {
	src  string
	name string // lower case
	args []string
}

// readFile appends path's directive lines to out; from is the source that
// included it ("" for the file named on the command line).
func readFile(path, from string, depth int, out *[]entry) error {
	data, err := os.ReadFile(path)
	if err != nil {
		if from == "" {
			return &LoadError{Source: "command line", Err: err}
		}
		return &LoadError{Source: from, Directive: "include", Args: []string{path}, Err: err}
	}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.Trim(line, " \t\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		src := path + ":" + strconv.Itoa(n+1)
		args, err := SplitArgs(line)
		if err != nil {
			return &LoadError{Source: src, Err: err}
		}
		if len(args) == 0 {
			continue
		}
		name := strings.ToLower(args[0])
		if name != "include" {
			*out = append(*out, entry{src: src, name: name, args: args[1:]})
			continue
		}
		if len(args) != 2 {
			return &LoadError{Source: src, Directive: name, Args: args[1:], Err: ErrBadDirective}
		}
		if depth >= maxIncludeDepth {
			return &LoadError{Source: src, Directive: name, Args: args[1:], Err: fmt.Errorf("includes nested deeper than %d", maxIncludeDepth)}
		}
		if err := readFile(args[1], src, depth+1, out); err != nil {
			return err
		}
	}
	return nil
}

// parseFlags turns --name value... options into entries.
func parseFlags(args []string) ([]entry, error) {
	var out []entry
	for i := 0; i < len(args); {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok || name == "" {
			return nil, &LoadError{Source: "command line", Err: fmt.Errorf("unexpected argument %q: options are --name value", args[i])}
		}
		j := i + 1
		for j < len(args) && !strings.HasPrefix(args[j], "--") {
			j++
		}
		vals := args[i+1 : j]
		if len(vals) == 0 && strings.EqualFold(name, "save") {
			vals = []string{""} // redis-server takes a bare --save as save ""
		}
		out = append(out, entry{src: "command line", name: strings.ToLower(name), args: vals})
		i = j
	}
	return out, nil
}

// parseEnv turns SHARDCACHED_ variables into entries.
func parseEnv(env []string) ([]entry, error) {
	var out []entry
	for _, kv := range env {
		k, val, ok := strings.Cut(kv, "=")
		rest, isOurs := strings.CutPrefix(k, EnvPrefix)
		if !ok || !isOurs {
			continue
		}
		name := strings.ReplaceAll(strings.ToLower(rest), "_", "-")
		out = append(out, entry{src: "environment " + k, name: name, args: []string{val}})
	}
	return out, nil
}

// apply sets one source's entries on v, recording in origin where each
// directive was last set.
func apply(v *Values, src []entry, origin map[*directive]string) error {
	acc := make(map[*directive][]string) // accumulated values, per directive
	for _, e := range src {
		d := lookup(e.name)
		if d == nil {
			return &LoadError{Source: e.src, Directive: e.name, Args: e.args, Err: ErrBadDirective}
		}
		fail := func(err error) error {
			le := &LoadError{Source: e.src, Directive: e.name, Args: e.args, Err: err}
			if d.sensitive {
				le.Args = nil
			}
			return le
		}
		if len(e.args) == 0 || len(e.args) > 1 && !d.multi {
			return fail(ErrArgCount)
		}
		val := strings.Join(e.args, " ")
		origin[d] = e.src
		if !d.accumulate {
			if err := d.set(v, val); err != nil {
				return fail(err)
			}
			continue
		}
		scratch := *v
		if err := d.set(&scratch, val); err != nil {
			return fail(err)
		}
		if val == "" {
			acc[d] = []string{}
		} else {
			acc[d] = append(acc[d], val)
		}
	}
	for d, vals := range acc {
		if err := d.set(v, strings.Join(vals, " ")); err != nil {
			return &LoadError{Source: origin[d], Directive: d.name, Err: err} // cannot happen: each part parsed
		}
	}
	return nil
}
