package server

import (
	"strings"
)

// process runs one command: it finds it in the table, checks
// authentication, arity and memory, queues it inside MULTI, and otherwise
// runs it and records its latency.
func (c *client) process(args [][]byte) {
	srv := c.srv
	// One monotonic clock read per command (no wall clock): it stamps
	// the client's activity and times the command.
	start := srv.monotonic()
	c.lastActive.Store(int64(start))
	c.multiExecRejected = false
	cmd := srv.cmds.lookup(args[0])
	if cmd == nil {
		c.rejectCommand(unknownCommand(args))
		return
	}
	if !c.authed && cmd.flags&flagNoAuth == 0 && srv.needsAuth() {
		c.rejectCommand("NOAUTH Authentication required.")
		return
	}
	c.multiExecRejected = cmd.run != nil && cmd.name == "exec"
	if !arityOK(cmd.arity, len(args)) {
		c.rejectCommand("ERR wrong number of arguments for '" + cmd.name + "' command")
		return
	}
	if cmd.sub != nil && (len(args) > 1 || cmd.run == nil) {
		sub := cmd.sub[lowerASCII(args[1])]
		if sub == nil {
			c.rejectCommand("ERR unknown subcommand '" + clip(string(args[1]), 128) + "'. Try " + strings.ToUpper(cmd.name) + " HELP.")
			return
		}
		if !arityOK(sub.arity, len(args)) {
			c.rejectCommand("ERR wrong number of arguments for '" + cmd.name + "|" + sub.name + "' command")
			return
		}
		cmd = sub
	}
	name := cmd.full
	c.lastCmd.Store(&cmd.full) // a pointer into the table: no allocation
	if c.multi != nil && cmd.flags&flagNoMulti == 0 {
		c.queue(cmd, args)
		return
	}
	if cmd.flags&flagWrite != 0 && srv.aofOn() {
		if msg := srv.aofRefusesWrites(); msg != "" {
			c.rejectCommand(msg)
			return
		}
	}
	if cmd.flags&flagDenyOOM != 0 && srv.overMemory() {
		c.rejectCommand("OOM command not allowed when used memory > 'maxmemory'.")
		return
	}
	c.failed = false
	cmd.run(c, args)
	if c.quiet {
		return // a Session's: its API records the operation once (Server.Record)
	}
	srv.commandsProcessed.Add(1)
	st := &cmd.stats[ProtocolRESP]
	if c.failed {
		st.failed.Add(1)
	}
	d := srv.monotonic() - start
	st.record(d)
	c.maybeSlow(d, name, args)
}

// rejectCommand answers an error for a command that did not run. Inside
// MULTI it also marks the transaction to be discarded at EXEC, as Redis
// does for errors found while queueing.
func (c *client) rejectCommand(msg string) {
	c.srv.rejectedCalls.Add(1)
	c.srv.errors.count(msg)
	if c.multiExecRejected {
		// EXEC itself refused: Redis discards any transaction and says
		// why, in or out of MULTI.
		c.multi = nil
		c.unwatch()
		c.w.Error("EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR "))
		return
	}
	if c.multi != nil {
		c.multi.failed = true
	}
	c.w.Error(msg)
}

// arityOK checks n arguments (the name included) against Redis's arity
// convention.
func arityOK(arity, n int) bool {
	if arity >= 0 {
		return n == arity
	}
	return n >= -arity
}

// unknownCommand formats Redis's error for a command it does not know,
// quoting the first arguments the way Redis does (about 128 bytes of them).
func unknownCommand(args [][]byte) string {
	var quoted []byte
	for _, a := range args[1:] {
		if len(quoted) >= 128 {
			break
		}
		room := 128 - len(quoted)
		quoted = append(quoted, '\'')
		quoted = append(quoted, clip(string(a), room)...)
		quoted = append(quoted, "' "...)
	}
	return "ERR unknown command '" + clip(string(args[0]), 128) + "', with args beginning with: " + string(quoted)
}

// clip returns at most n bytes of s.
func clip(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if len(s) > n {
		return s[:n]
	}
	return s
}
