package server

import (
	"crypto/subtle"
	"strconv"
	"strings"
	"time"
)

func cmdPing(c *client, args [][]byte) {
	switch len(args) {
	case 1:
		c.w.SimpleString("PONG")
	case 2:
		c.w.Bulk(args[1])
	default:
		c.errorReply("ERR wrong number of arguments for 'ping' command")
	}
}

func cmdEcho(c *client, args [][]byte) { c.w.Bulk(args[1]) }

func cmdQuit(c *client, args [][]byte) {
	c.w.SimpleString("OK")
	c.closeAfterReply = true
}

func cmdReset(c *client, args [][]byte) {
	c.multi = nil
	c.unwatch()
	c.name.Store(nil)
	c.setProto(2)
	c.authed = !c.srv.needsAuth()
	c.r.SetAuthenticated(c.authed)
	c.w.SimpleString("RESET")
}

func (c *client) setProto(v int) {
	c.proto.Store(int32(v))
	c.w.SetProtocol(v)
}

func cmdSelect(c *client, args [][]byte) {
	n, ok := parseInt(args[1])
	if !ok {
		c.errorReply(errNotInteger)
		return
	}
	if n != 0 {
		c.errorReply("ERR DB index is out of range")
		return
	}
	c.w.SimpleString("OK")
}

const (
	errWrongPass = "WRONGPASS invalid username-password pair or user is disabled."
	errNoPass    = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
)

// checkAuth checks a username (empty: the legacy one-argument form) and
// password against requirepass, as Redis's default user: with no
// requirepass the default user takes any password.
func (s *Server) checkAuth(user, pass []byte) bool {
	if len(user) > 0 && string(user) != "default" {
		return false
	}
	want := s.set.requirePass.Load()
	if want == nil || *want == "" {
		return true
	}
	return subtle.ConstantTimeCompare([]byte(*want), pass) == 1
}

func cmdAuth(c *client, args [][]byte) {
	var user, pass []byte
	switch len(args) {
	case 2:
		pass = args[1]
		if !c.srv.needsAuth() {
			c.errorReply(errNoPass)
			return
		}
	case 3:
		user, pass = args[1], args[2]
	default:
		c.errorReply(errSyntax)
		return
	}
	if !c.srv.checkAuth(user, pass) {
		c.srv.authFailures.Add(1)
		c.errorReply(errWrongPass)
		return
	}
	c.setAuthed()
	c.w.SimpleString("OK")
}

func (c *client) setAuthed() {
	c.authed = true
	c.r.SetAuthenticated(true)
}

func cmdHello(c *client, args [][]byte) {
	ver := int64(c.proto.Load())
	if len(args) >= 2 {
		v, ok := parseInt(args[1])
		if !ok {
			c.errorReply("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.errorReply("NOPROTO unsupported protocol version")
			return
		}
		ver = v
	}
	var user, pass, name []byte
	hasAuth, hasName := false, false
	for i := 2; i < len(args); i++ {
		left := len(args) - i - 1
		switch {
		case strings.EqualFold(string(args[i]), "AUTH") && left >= 2:
			user, pass, hasAuth = args[i+1], args[i+2], true
			i += 2
		case strings.EqualFold(string(args[i]), "SETNAME") && left >= 1:
			name, hasName = args[i+1], true
			i++
		default:
			c.errorReply("ERR Syntax error in HELLO option '" + string(args[i]) + "'")
			return
		}
	}
	if hasAuth {
		if !c.srv.checkAuth(user, pass) {
			c.srv.authFailures.Add(1)
			c.errorReply(errWrongPass)
			return
		}
		c.setAuthed()
	}
	if !c.authed {
		c.errorReply("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if hasName {
		if !validClientName(name) {
			c.errorReply(errClientName)
			return
		}
		c.setName(name)
	}
	c.setProto(int(ver))
	c.w.MapHeader(7)
	c.w.BulkString("server")
	c.w.BulkString("redis")
	c.w.BulkString("version")
	c.w.BulkString(RedisVersion)
	c.w.BulkString("proto")
	c.w.Int(ver)
	c.w.BulkString("id")
	c.w.Int(c.id)
	c.w.BulkString("mode")
	c.w.BulkString("standalone")
	c.w.BulkString("role")
	c.w.BulkString("master")
	c.w.BulkString("modules")
	c.w.ArrayHeader(0)
}

const errClientName = "ERR Client names cannot contain spaces, newlines or special characters."

// validClientName applies Redis's rule: printable ASCII without spaces.
func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func (c *client) setName(b []byte) {
	if len(b) == 0 {
		c.name.Store(nil)
		return
	}
	s := string(b)
	c.name.Store(&s)
}

func loadString(p interface{ Load() *string }) string {
	if s := p.Load(); s != nil {
		return *s
	}
	return ""
}

func cmdClientID(c *client, args [][]byte) { c.w.Int(c.id) }

func cmdClientSetName(c *client, args [][]byte) {
	if !validClientName(args[2]) {
		c.errorReply(errClientName)
		return
	}
	c.setName(args[2])
	c.w.SimpleString("OK")
}

func cmdClientGetName(c *client, args [][]byte) {
	if n := c.name.Load(); n != nil {
		c.w.BulkString(*n)
		return
	}
	c.w.Null()
}

// cmdClientSetInfo serves CLIENT SETINFO LIB-NAME|LIB-VER value, as Redis
// 7.2 does (go-redis and redis-py send it on connect).
func cmdClientSetInfo(c *client, args [][]byte) {
	attr, val := string(args[2]), string(args[3])
	for _, ch := range []byte(val) {
		if ch < '!' || ch > '~' {
			c.errorReply("ERR " + strings.ToLower(attr) + " cannot contain spaces, newlines or special characters.")
			return
		}
	}
	switch {
	case strings.EqualFold(attr, "LIB-NAME"):
		c.libName.Store(&val)
	case strings.EqualFold(attr, "LIB-VER"):
		c.libVer.Store(&val)
	default:
		c.errorReply("ERR Unrecognized option '" + attr + "'")
		return
	}
	c.w.SimpleString("OK")
}

// info is a client's line in CLIENT LIST and CLIENT INFO, in Redis's
// field order (fields shardcached has no figure for read as Redis's idle
// defaults).
func (c *client) info(now time.Time) string {
	var b strings.Builder
	b.Grow(256)
	b.WriteString("id=")
	b.WriteString(strconv.FormatInt(c.id, 10))
	b.WriteString(" addr=")
	b.WriteString(c.raddr)
	b.WriteString(" laddr=")
	b.WriteString(c.laddr)
	b.WriteString(" fd=")
	fd := -1
	if c.ls.lp != nil {
		fd = c.ls.fd // set before the client is registered, never changed
	}
	b.WriteString(strconv.Itoa(fd))
	b.WriteString(" name=")
	b.WriteString(loadString(&c.name))
	b.WriteString(" age=")
	b.WriteString(strconv.FormatInt(int64(now.Sub(c.created)/time.Second), 10))
	b.WriteString(" idle=")
	b.WriteString(strconv.FormatInt(int64((c.srv.monotonic()-time.Duration(c.lastActive.Load()))/time.Second), 10))
	// c.multi belongs to c's goroutine or loop: read what it published
	// after its last command.
	queued := c.multiSeen.Load() - 1
	flags := "N"
	if queued >= 0 {
		flags = "x"
	}
	b.WriteString(" flags=" + flags + " db=0 sub=0 psub=0 ssub=0 multi=")
	b.WriteString(strconv.FormatInt(queued, 10))
	b.WriteString(" qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=")
	omem := c.omem.Load()
	b.WriteString(strconv.FormatInt(omem, 10))
	b.WriteString(" tot-mem=0 events=")
	if omem > 0 {
		b.WriteString("w")
	} else {
		b.WriteString("r")
	}
	b.WriteString(" cmd=")
	cmd := "NULL"
	if p := c.lastCmd.Load(); p != nil {
		cmd = *p
	}
	b.WriteString(cmd)
	b.WriteString(" user=default redir=-1 resp=")
	b.WriteString(strconv.Itoa(int(c.proto.Load())))
	b.WriteByte('\n')
	return b.String()
}

func cmdClientInfo(c *client, args [][]byte) {
	c.w.Verbatim("txt", c.info(time.Now()))
}

func cmdClientList(c *client, args [][]byte) {
	var ids map[int64]bool
	for i := 2; i < len(args); i++ {
		switch {
		case strings.EqualFold(string(args[i]), "TYPE") && i+1 < len(args):
			t := strings.ToLower(string(args[i+1]))
			if t != "normal" && t != "master" && t != "replica" && t != "pubsub" {
				c.errorReply("ERR Unknown client type '" + string(args[i+1]) + "'")
				return
			}
			if t != "normal" {
				ids = map[int64]bool{}
			}
			i++
		case strings.EqualFold(string(args[i]), "ID") && i+1 < len(args):
			ids = map[int64]bool{}
			for i++; i < len(args); i++ {
				n, ok := parseInt(args[i])
				if !ok || n <= 0 {
					c.errorReply("ERR Invalid client ID")
					return
				}
				ids[n] = true
			}
		default:
			c.errorReply(errSyntax)
			return
		}
	}
	now := time.Now()
	var list []*client
	c.srv.clients.each(func(o *client) {
		if ids == nil || ids[o.id] {
			list = append(list, o)
		}
	})
	sortClients(list)
	var b strings.Builder
	for _, o := range list {
		b.WriteString(o.info(now))
	}
	c.w.Verbatim("txt", b.String())
}

func cmdClientKill(c *client, args [][]byte) {
	if len(args) == 3 {
		// The old form: CLIENT KILL addr:port.
		var victim *client
		addr := string(args[2])
		c.srv.clients.each(func(o *client) {
			if o.raddr == addr {
				victim = o
			}
		})
		if victim == nil {
			c.errorReply("ERR No such client")
			return
		}
		victim.kill(c)
		c.w.SimpleString("OK")
		return
	}
	var id int64
	var addr, laddr string
	skipMe := true
	typ := ""
	if len(args)%2 != 0 {
		c.errorReply(errSyntax)
		return
	}
	for i := 2; i+1 < len(args); i += 2 {
		opt, val := strings.ToUpper(string(args[i])), string(args[i+1])
		switch opt {
		case "ID":
			n, ok := parseInt(args[i+1])
			if !ok || n <= 0 {
				c.errorReply("ERR client-id should be greater than 0")
				return
			}
			id = n
		case "ADDR":
			addr = val
		case "LADDR":
			laddr = val
		case "SKIPME":
			switch strings.ToLower(val) {
			case "yes":
				skipMe = true
			case "no":
				skipMe = false
			default:
				c.errorReply(errSyntax)
				return
			}
		case "TYPE":
			typ = strings.ToLower(val)
			if typ != "normal" && typ != "master" && typ != "replica" && typ != "pubsub" && typ != "slave" {
				c.errorReply("ERR Unknown client type '" + val + "'")
				return
			}
		case "USER":
			if val != "default" {
				c.errorReply("ERR No such user '" + val + "'")
				return
			}
		case "MAXAGE":
			if _, ok := parseInt(args[i+1]); !ok {
				c.errorReply(errNotInteger)
				return
			}
		default:
			c.errorReply(errSyntax)
			return
		}
	}
	var victims []*client
	c.srv.clients.each(func(o *client) {
		if (id != 0 && o.id != id) || (addr != "" && o.raddr != addr) || (laddr != "" && o.laddr != laddr) ||
			(typ != "" && typ != "normal") || (skipMe && o == c) {
			return
		}
		victims = append(victims, o)
	})
	for _, o := range victims {
		o.kill(c)
	}
	c.w.Int(int64(len(victims)))
}

// kill closes o's connection: at once if it is another client's (its
// goroutine ends on the read error), after the reply if it is the caller.
func (o *client) kill(by *client) {
	o.killed.Store(true)
	switch {
	case o == by:
	case o.ls.lp != nil:
		o.ls.lp.post(msgKill, o)
	default:
		o.conn.SetReadDeadline(time.Now())
	}
}

// cmdOK answers +OK: housekeeping commands that clients send and that
// have nothing to do here (CLIENT NO-EVICT, CLIENT NO-TOUCH, READWRITE...).
func cmdOK(c *client, args [][]byte) { c.w.SimpleString("OK") }
