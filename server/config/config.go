package config

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
)

// Config holds shardcached's configuration and changes it at runtime.
//
// It is safe for concurrent use. Readers (Snapshot, Get) take no lock: they
// load an atomic pointer to an immutable Values, which each successful Set
// replaces whole, so a reader sees every directive of one Set or none. Set
// and OnChange are serialised by a mutex.
//
// The zero Config holds the defaults; Load builds one from the sources.
// A Config must not be copied after first use.
type Config struct {
	cur   atomic.Pointer[Values]
	mu    sync.Mutex // serialises Set and OnChange
	hooks map[*directive][]func(old, new Values) error
}

// Snapshot returns the current values: one atomic load, no copy, no lock, so
// it suits every command's hot path (requirepass, timeout, maxclients). The
// result is shared: read it, never modify it or its slices. A later Set does
// not change it; call Snapshot again to see the new values.
func (c *Config) Snapshot() *Values {
	if v := c.cur.Load(); v != nil {
		return v
	}
	d := Default()
	c.cur.CompareAndSwap(nil, &d)
	return c.cur.Load()
}

// Get answers CONFIG GET: the name and value of every directive one of the
// patterns matches, each directive once. As in Redis 7, an argument without
// '*', '?' or '[' is looked up by name, case-insensitively, and answered with
// the argument as given (CONFIG GET MaxMemory answers "MaxMemory"); a pattern
// is matched with Match, case-insensitively, and answered with the
// directive's name. Redis answers in its hash table's order; Get answers in
// the order of the patterns, and for a pattern in the table's order. Values
// are formatted as Redis formats them: memory as plain bytes, booleans as
// yes/no, save as "900 1 300 10", bind space-separated; requirepass is shown,
// as Redis shows it. The caller encodes the pairs (a map in RESP3).
func (c *Config) Get(patterns ...string) [][2]string {
	v := c.Snapshot()
	var out [][2]string
	seen := make([]bool, len(directives))
	for _, p := range patterns {
		if !hasGlob(p) {
			if i := index(p); i >= 0 && !seen[i] {
				seen[i] = true
				out = append(out, [2]string{p, directives[i].get(v)})
			}
			continue
		}
		for i, d := range directives {
			if !seen[i] && Match(p, d.name, true) {
				seen[i] = true
				out = append(out, [2]string{d.name, d.get(v)})
			}
		}
	}
	return out
}

// index finds a directive by name, case-insensitively, or returns -1.
func index(name string) int {
	for i, d := range directives {
		if strings.EqualFold(d.name, name) {
			return i
		}
	}
	return -1
}

// Errors a SetError wraps, by kind. Their texts are Redis's reasons.
var (
	ErrUnknownOption = errors.New("unknown option")
	ErrImmutable     = errors.New("can't set immutable config")
	ErrProtected     = errors.New("can't set protected config")
	ErrDuplicate     = errors.New("duplicate parameter")
)

// SetError is the error Set returns. Its Error is the text of Redis's reply,
// "ERR" prefix included, so the server sends it as it is:
//
//	ERR Unknown option or number of arguments for CONFIG SET - 'foo'
//	ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value
//
// Unlike this module's other errors it carries no package prefix, because it
// is wire text. Err is ErrUnknownOption, ErrImmutable, ErrProtected,
// ErrDuplicate, the value's parse error, or the error a hook returned.
type SetError struct {
	Arg string // as Redis names it: as given for the checks before parsing, canonical after
	Err error
}

// Error returns Redis's reply text, "ERR" prefix included.
func (e *SetError) Error() string {
	if errors.Is(e.Err, ErrUnknownOption) {
		return "ERR Unknown option or number of arguments for CONFIG SET - '" + e.Arg + "'"
	}
	return "ERR CONFIG SET failed (possibly related to argument '" + e.Arg + "') - " + e.Err.Error()
}

// Unwrap returns Err, for errors.Is and errors.As.
func (e *SetError) Unwrap() error { return e.Err }

// Set answers CONFIG SET name value [name value ...], all or nothing, in
// Redis 7's order: first every name is checked in turn (unknown, immutable or
// protected, given twice: the error names it as given); then every value is
// parsed (the error names the directive); then the OnChange hooks of the
// directives whose value changes run, in the order of the pairs; if one
// fails, those that ran are called again with old and new swapped, to undo,
// and the error names its directive. Only when every hook succeeded do
// readers see the new values, all at once. The caller checks the argument
// count (Redis's "wrong number of arguments" and "syntax error").
func (c *Config) Set(pairs [][2]string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ds := make([]*directive, len(pairs))
	for i, p := range pairs {
		d := lookup(p[0])
		switch {
		case d == nil:
			return &SetError{Arg: p[0], Err: ErrUnknownOption}
		case d.protected:
			return &SetError{Arg: p[0], Err: ErrProtected}
		case !d.mutable:
			return &SetError{Arg: p[0], Err: ErrImmutable}
		}
		for _, prev := range ds[:i] {
			if prev == d {
				return &SetError{Arg: p[0], Err: ErrDuplicate}
			}
		}
		ds[i] = d
	}
	old := c.Snapshot()
	next := *old
	for i, d := range ds {
		if err := d.set(&next, pairs[i][1]); err != nil {
			return &SetError{Arg: d.name, Err: err}
		}
	}
	for _, d := range ds {
		if d.check != nil {
			if err := d.check(&next); err != nil {
				return &SetError{Arg: d.name, Err: err}
			}
		}
	}
	var ran []func(old, new Values) error
	for _, d := range ds {
		if d.get(old) == d.get(&next) {
			continue
		}
		for _, h := range c.hooks[d] {
			if err := h(*old, next); err != nil {
				for j := len(ran) - 1; j >= 0; j-- {
					_ = ran[j](next, *old) // best effort, as Redis's restore
				}
				return &SetError{Arg: d.name, Err: err}
			}
			ran = append(ran, h)
		}
	}
	c.cur.Store(&next)
	return nil
}

// OnChange registers fn to run when a Set changes the directive name (its
// formatted value differs), with the values before and after the whole Set.
// fn applies the change (cache.SetMaxCost for maxmemory, say); an error
// aborts the Set, which replies "ERR CONFIG SET failed (possibly related to
// argument 'name') - " and the error's text, and undoes the hooks that ran.
// A directive may have several hooks; they run in registration order, under
// Set's lock: fn may call Snapshot and Get, never Set or OnChange. Load's
// sources do not run hooks. OnChange panics if no directive has that name,
// a programming error.
func (c *Config) OnChange(name string, fn func(old, new Values) error) {
	d := lookup(name)
	if d == nil {
		panic("config: OnChange: unknown directive " + name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hooks == nil {
		c.hooks = make(map[*directive][]func(old, new Values) error)
	}
	c.hooks[d] = append(c.hooks[d], fn)
}
