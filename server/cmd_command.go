package server

import (
	"slices"
	"strings"
)

// addCommandCommand adds COMMAND, whose listing needs the finished table.
func (s *Server) addCommandCommand(t table) {
	sub := func(name string, arity int, run func(*client, [][]byte)) *command {
		return &command{name: name, arity: arity, run: run}
	}
	t.add(&command{name: "command", arity: -1, run: cmdCommand, sub: map[string]*command{
		"count":   sub("count", 2, cmdCommandCount),
		"list":    sub("list", -2, cmdCommandList),
		"info":    sub("info", -2, cmdCommandInfo),
		"docs":    sub("docs", -2, cmdCommandDocs),
		"getkeys": sub("getkeys", -3, cmdCommandGetKeys),
		"help":    sub("help", 2, helpReply(commandHelp...)),
	}})
}

// cmdCommand is COMMAND without a subcommand: every command's info.
// (With a subcommand the dispatcher runs the subcommand's own handler.)
func cmdCommand(c *client, args [][]byte) {
	names := c.srv.commandNames()
	c.w.ArrayHeader(len(names))
	for _, n := range names {
		c.srv.writeCommandInfo(c, c.srv.cmds[n], nil)
	}
}

func (s *Server) commandNames() []string {
	names := make([]string, 0, len(s.cmds))
	for n := range s.cmds {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func cmdCommandCount(c *client, args [][]byte) { c.w.Int(int64(len(c.srv.cmds))) }

func cmdCommandList(c *client, args [][]byte) {
	var pattern string
	switch {
	case len(args) == 2:
	case len(args) == 5 && strings.EqualFold(string(args[2]), "FILTERBY") && strings.EqualFold(string(args[3]), "PATTERN"):
		pattern = string(args[4])
	default:
		c.errorReply(errSyntax)
		return
	}
	var out []string
	for _, n := range c.srv.commandNames() {
		if pattern == "" || matchGlob(pattern, n) {
			out = append(out, n)
		}
	}
	c.w.ArrayHeader(len(out))
	for _, n := range out {
		c.w.BulkString(n)
	}
}

// findCommand resolves "get" or "config|get".
func (s *Server) findCommand(name string) (cmd, parent *command) {
	name = strings.ToLower(name)
	top, subName, isSub := strings.Cut(name, "|")
	cmd = s.cmds[top]
	if cmd == nil || !isSub {
		return cmd, nil
	}
	return cmd.sub[subName], cmd
}

func cmdCommandInfo(c *client, args [][]byte) {
	if len(args) == 2 {
		cmdCommand(c, args)
		return
	}
	c.w.ArrayHeader(len(args) - 2)
	for _, a := range args[2:] {
		cmd, parent := c.srv.findCommand(string(a))
		if cmd == nil {
			c.w.Null()
			continue
		}
		c.srv.writeCommandInfo(c, cmd, parent)
	}
}

// writeCommandInfo writes COMMAND INFO's ten-field reply for cmd.
func (s *Server) writeCommandInfo(c *client, cmd, parent *command) {
	c.w.ArrayHeader(10)
	c.w.BulkString(cmd.fullName(parent))
	c.w.Int(int64(cmd.arity))
	flags := commandFlagNames(cmd)
	c.w.SetHeader(len(flags))
	for _, f := range flags {
		c.w.SimpleString(f)
	}
	ks := cmd.keys
	c.w.Int(int64(ks.first))
	c.w.Int(int64(ks.last))
	c.w.Int(int64(ks.step))
	cats := commandCategories(cmd, parent)
	c.w.SetHeader(len(cats))
	for _, cat := range cats {
		c.w.SimpleString(cat)
	}
	c.w.SetHeader(0) // tips
	if ks.first == 0 {
		c.w.SetHeader(0)
	} else {
		c.w.SetHeader(1)
		c.w.MapHeader(3)
		c.w.BulkString("flags")
		kf := keySpecFlags(cmd)
		c.w.SetHeader(len(kf))
		for _, f := range kf {
			c.w.SimpleString(f)
		}
		c.w.BulkString("begin_search")
		c.w.MapHeader(2)
		c.w.BulkString("type")
		c.w.BulkString("index")
		c.w.BulkString("spec")
		c.w.MapHeader(1)
		c.w.BulkString("index")
		c.w.Int(int64(ks.first))
		c.w.BulkString("find_keys")
		c.w.MapHeader(2)
		c.w.BulkString("type")
		c.w.BulkString("range")
		c.w.BulkString("spec")
		c.w.MapHeader(3)
		c.w.BulkString("lastkey")
		last := ks.last
		if last > 0 {
			last -= ks.first
		}
		c.w.Int(int64(last))
		c.w.BulkString("keystep")
		c.w.Int(int64(ks.step))
		c.w.BulkString("limit")
		c.w.Int(0)
	}
	if cmd.sub == nil {
		c.w.SetHeader(0)
		return
	}
	names := make([]string, 0, len(cmd.sub))
	for n := range cmd.sub {
		names = append(names, n)
	}
	slices.Sort(names)
	c.w.SetHeader(len(names))
	for _, n := range names {
		s.writeCommandInfo(c, cmd.sub[n], cmd)
	}
}

func commandFlagNames(cmd *command) []string {
	var out []string
	f := cmd.flags
	for _, p := range []struct {
		bit  cmdFlags
		name string
	}{
		{flagWrite, "write"}, {flagReadonly, "readonly"}, {flagDenyOOM, "denyoom"}, {flagAdmin, "admin"},
		{flagNoAuth, "no_auth"}, {flagNoMulti, "no_multi"}, {flagFast, "fast"},
	} {
		if f&p.bit != 0 {
			out = append(out, p.name)
		}
	}
	return out
}

func commandCategories(cmd, parent *command) []string {
	var out []string
	if cmd.flags&flagWrite != 0 {
		out = append(out, "@write")
	}
	if cmd.flags&flagReadonly != 0 {
		out = append(out, "@read")
	}
	if cmd.flags&flagAdmin != 0 {
		out = append(out, "@admin", "@dangerous")
	}
	out = append(out, "@"+commandGroup(cmd, parent))
	if cmd.flags&flagFast != 0 {
		out = append(out, "@fast")
	} else {
		out = append(out, "@slow")
	}
	return out
}

// commandGroup is the group COMMAND DOCS reports: string, generic,
// transactions, connection, server or bitmap.
func commandGroup(cmd, parent *command) string {
	name := cmd.name
	if parent != nil {
		name = parent.name
	}
	switch name {
	case "get", "set", "setnx", "setex", "psetex", "getex", "getdel", "getset", "mget", "mset", "msetnx",
		"append", "strlen", "getrange", "substr", "setrange", "incr", "decr", "incrby", "decrby", "incrbyfloat", "lcs":
		return "string"
	case "setbit", "getbit", "bitcount":
		return "bitmap"
	case "multi", "exec", "discard", "watch", "unwatch":
		return "transactions"
	case "ping", "echo", "quit", "reset", "auth", "hello", "select", "client":
		return "connection"
	case "del", "unlink", "exists", "type", "touch", "copy", "rename", "renamenx", "expire", "pexpire", "expireat",
		"pexpireat", "expiretime", "pexpiretime", "ttl", "pttl", "persist", "keys", "scan", "randomkey", "object", "wait":
		return "generic"
	case "function":
		return "scripting"
	}
	return "server"
}

func cmdCommandDocs(c *client, args [][]byte) {
	var list []struct{ cmd, parent *command }
	if len(args) == 2 {
		for _, n := range c.srv.commandNames() {
			list = append(list, struct{ cmd, parent *command }{c.srv.cmds[n], nil})
		}
	} else {
		for _, a := range args[2:] {
			cmd, parent := c.srv.findCommand(string(a))
			if cmd != nil {
				list = append(list, struct{ cmd, parent *command }{cmd, parent})
			}
		}
	}
	c.w.MapHeader(len(list))
	for _, e := range list {
		c.w.BulkString(e.cmd.fullName(e.parent))
		writeDocs(c, e.cmd, e.parent)
	}
}

func writeDocs(c *client, cmd, parent *command) {
	n := 3
	if cmd.sub != nil {
		n++
	}
	c.w.MapHeader(n)
	c.w.BulkString("summary")
	c.w.BulkString(commandSummary(cmd, parent))
	c.w.BulkString("since")
	c.w.BulkString("1.0.0")
	c.w.BulkString("group")
	c.w.BulkString(commandGroup(cmd, parent))
	if cmd.sub != nil {
		names := make([]string, 0, len(cmd.sub))
		for n := range cmd.sub {
			names = append(names, n)
		}
		slices.Sort(names)
		c.w.BulkString("subcommands")
		c.w.MapHeader(len(names))
		for _, n := range names {
			c.w.BulkString(cmd.name + "|" + n)
			writeDocs(c, cmd.sub[n], cmd)
		}
	}
}

func commandSummary(cmd, parent *command) string {
	if parent != nil {
		return strings.ToUpper(parent.name+" "+cmd.name) + " as Redis 7 serves it"
	}
	return strings.ToUpper(cmd.name) + " as Redis 7 serves it"
}

func cmdCommandGetKeys(c *client, args [][]byte) {
	rest := args[2:]
	cmd := c.srv.cmds.lookup(rest[0])
	if cmd == nil {
		c.errorReply("ERR Invalid command specified")
		return
	}
	if cmd.sub != nil && len(rest) > 1 {
		if sc := cmd.sub[lowerASCII(rest[1])]; sc != nil {
			cmd, rest = sc, rest[1:]
		}
	}
	if !arityOK(cmd.arity, len(rest)) {
		c.errorReply("ERR Invalid number of arguments specified for command")
		return
	}
	idx := cmd.keyIndexes(rest, nil)
	if len(idx) == 0 {
		c.errorReply("ERR The command has no key arguments")
		return
	}
	c.w.ArrayHeader(len(idx))
	for _, i := range idx {
		c.w.Bulk(rest[i])
	}
}

var (
	commandHelp = []string{"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"(no subcommand)", "    Return details about all commands.", "COUNT", "    Return the total number of commands.",
		"LIST", "    Return a list of all commands.", "INFO [<command-name> ...]", "    Return details about multiple commands.",
		"DOCS [<command-name> ...]", "    Return documentation details about multiple commands.",
		"GETKEYS <full-command>", "    Return the keys from a full command.", "HELP", "    Print this help."}
	configHelp = []string{"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>", "    Set the configuration <directive> to <value>.",
		"RESETSTAT", "    Reset statistics reported by the INFO command.",
		"REWRITE", "    Rewrite the configuration file.", "HELP", "    Print this help."}
	clientHelp = []string{"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GETNAME", "    Return the name of the current connection.", "ID", "    Return the ID of the current connection.",
		"INFO", "    Return information about the current client connection.",
		"KILL <ip:port>", "    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are: ID, ADDR, LADDR, SKIPME, TYPE, USER, MAXAGE.",
		"LIST [options ...]", "    Return information about client connections. Options: TYPE, ID.",
		"SETNAME <name>", "    Assign the name <name> to the current connection.",
		"SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client library name or version.",
		"HELP", "    Print this help."}
	slowlogHelp = []string{"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET [<count>]", "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"LEN", "    Return the length of the slowlog.", "RESET", "    Reset the slowlog.", "HELP", "    Print this help."}
	objectHelp = []string{"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"ENCODING <key>", "    Return the kind of internal representation used in order to store the value",
		"    associated with a <key>.", "FREQ <key>", "    Return the access frequency index of the <key>. The returned integer is",
		"    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>", "    Return the idle time of the <key>, that is the approximated number of",
		"    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>", "    Return the number of references of the value associated with the specified", "    <key>.",
		"HELP", "    Print this help."}
)

// keySpecFlags are the flags of cmd's key spec, as Redis 7 names them: how
// the command uses its keys' data.
func keySpecFlags(cmd *command) []string {
	switch {
	case cmd.flags&flagReadonly != 0:
		return []string{"RO", "access"}
	case cmd.name == "del" || cmd.name == "unlink" || cmd.name == "getdel":
		return []string{"RM", "delete"}
	case cmd.name == "set" || cmd.name == "mset" || cmd.name == "msetnx" || cmd.name == "setex" || cmd.name == "psetex" || cmd.name == "setnx":
		return []string{"OW", "update"}
	}
	return []string{"RW", "update"}
}
