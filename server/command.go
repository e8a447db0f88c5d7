package server

import "strings"

// cmdFlags are a command's properties, as Redis's command table has them.
type cmdFlags uint16

const (
	flagWrite    cmdFlags = 1 << iota // changes data: counted as a change for save rules, refused by noeviction's OOM when denyoom
	flagReadonly                      // only reads data
	flagDenyOOM                       // refused with -OOM while used memory is over maxmemory under noeviction
	flagAdmin                         // server administration
	flagNoAuth                        // allowed before AUTH (AUTH, HELLO, QUIT, RESET)
	flagNoMulti                       // runs at once even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET)
	flagFast                          // O(1) or O(log n): COMMAND INFO shows it
	flagAllKeys                       // touches the whole keyspace (FLUSHALL, KEYS, SCAN, DBSIZE, RANDOMKEY): EXEC locks every shard
	flagPubSub                        // unused for now; kept for COMMAND INFO shapes
)

// keySpec says which arguments are keys: first, last (negative counts from
// the end) and step, as Redis's legacy key specs.
type keySpec struct {
	first, last, step int
}

// command is one entry of the command table.
type command struct {
	name  string // lower case, as COMMAND reports it
	arity int    // Redis's convention: n > 0 exactly n arguments (name included), n < 0 at least -n
	flags cmdFlags
	keys  keySpec
	run   func(c *client, args [][]byte)
	// sub holds the subcommands of a container command (CLIENT, CONFIG,
	// ...), keyed by lower-case name; run is nil for a container.
	sub map[string]*command

	stats *cmdStatsSet // by Protocol
	// full is the name Redis uses in errors, stats and CLIENT LIST
	// ("get", "config|get"), set when the table is built.
	full string
}

// keyIndexes appends to dst the indexes of args that are keys.
func (cmd *command) keyIndexes(args [][]byte, dst []int) []int {
	ks := cmd.keys
	if ks.first == 0 {
		return dst
	}
	last := ks.last
	if last < 0 {
		last = len(args) + last
	}
	for i := ks.first; i <= last && i < len(args); i += ks.step {
		dst = append(dst, i)
	}
	return dst
}

// table is the command table: every command shardcached knows, by lower-case name.
type table map[string]*command

func (t table) add(cmd *command) {
	if cmd.keys.first != 0 && cmd.keys.step == 0 {
		cmd.keys.step = 1
	}
	cmd.stats = &cmdStatsSet{}
	cmd.full = cmd.name
	for _, s := range cmd.sub {
		if s.keys.first != 0 && s.keys.step == 0 {
			s.keys.step = 1
		}
		s.stats = &cmdStatsSet{}
		s.full = cmd.name + "|" + s.name
	}
	t[cmd.name] = cmd
}

// lookup finds the command for a request's first argument without
// allocating for names already in lower case (the common case) or short.
func (t table) lookup(name []byte) *command {
	var buf [32]byte
	if len(name) > len(buf) {
		return t[strings.ToLower(string(name))]
	}
	lower := buf[:len(name)]
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		lower[i] = ch
	}
	return t[string(lower)]
}

// fullName is the name Redis uses in errors and stats: "config|get".
func (cmd *command) fullName(parent *command) string {
	if parent == nil {
		return cmd.name
	}
	return parent.name + "|" + cmd.name
}

func lowerASCII(b []byte) string {
	return strings.ToLower(string(b))
}
