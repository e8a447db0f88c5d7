package server

import "github.com/shardcache/shardcache/server/internal/strval"

// commandTable lists every command shardcached serves, with Redis 7's
// arities, flags and key positions. Commands of the data types shardcached
// does not hold (lists, hashes, sets, sorted sets, streams) are absent, so
// they get Redis's unknown-command error.
func (s *Server) commandTable() table {
	t := table{}
	const (
		w  = flagWrite
		r  = flagReadonly
		oo = flagDenyOOM
		f  = flagFast
		ad = flagAdmin
		na = flagNoAuth
		nm = flagNoMulti
		ak = flagAllKeys
	)
	k1 := keySpec{1, 1, 1}
	k12 := keySpec{1, 2, 1}
	kAll := keySpec{1, -1, 1}
	kPairs := keySpec{1, -1, 2}
	add := func(name string, arity int, flags cmdFlags, keys keySpec, run func(*client, [][]byte)) {
		t.add(&command{name: name, arity: arity, flags: flags, keys: keys, run: run})
	}
	group := func(name string, arity int, subs ...*command) {
		m := map[string]*command{}
		for _, sc := range subs {
			m[sc.name] = sc
		}
		t.add(&command{name: name, arity: arity, sub: m})
	}
	sub := func(name string, arity int, flags cmdFlags, keys keySpec, run func(*client, [][]byte)) *command {
		return &command{name: name, arity: arity, flags: flags, keys: keys, run: run}
	}

	// Strings.
	add("get", 2, r|f, k1, cmdGet)
	add("set", -3, w|oo, k1, cmdSet)
	add("setnx", 3, w|oo|f, k1, cmdSetNX)
	add("setex", 4, w|oo, k1, setEx(strval.Seconds, "setex"))
	add("psetex", 4, w|oo, k1, setEx(strval.Millis, "psetex"))
	add("getex", -2, w|f, k1, cmdGetEx)
	add("getdel", 2, w|f, k1, cmdGetDel)
	add("getset", 3, w|oo|f, k1, cmdGetSet)
	add("mget", -2, r|f, kAll, cmdMGet)
	add("mset", -3, w|oo, kPairs, cmdMSet)
	add("msetnx", -3, w|oo, kPairs, cmdMSetNX)
	add("append", 3, w|oo|f, k1, cmdAppend)
	add("strlen", 2, r|f, k1, cmdStrlen)
	add("getrange", 4, r, k1, cmdGetRange)
	add("substr", 4, r, k1, cmdGetRange)
	add("setrange", 4, w|oo, k1, cmdSetRange)
	add("incr", 2, w|oo|f, k1, incrBy(1, false, false))
	add("decr", 2, w|oo|f, k1, incrBy(-1, false, false))
	add("incrby", 3, w|oo|f, k1, incrBy(0, true, false))
	add("decrby", 3, w|oo|f, k1, incrBy(0, true, true))
	add("incrbyfloat", 3, w|oo|f, k1, cmdIncrByFloat)
	add("setbit", 4, w|oo, k1, cmdSetBit)
	add("getbit", 3, r|f, k1, cmdGetBit)
	add("bitcount", -2, r, k1, cmdBitCount)
	add("lcs", -3, r, k12, cmdLCS)

	// Keys and expiry.
	add("del", -2, w, kAll, cmdDel)
	add("unlink", -2, w|f, kAll, cmdDel)
	add("exists", -2, r|f, kAll, cmdExists)
	add("type", 2, r|f, k1, cmdType)
	add("touch", -2, r|f, kAll, cmdTouch)
	add("copy", -3, w|oo, k12, cmdCopy)
	add("rename", 3, w, k12, rename(false))
	add("renamenx", 3, w|f, k12, rename(true))
	add("expire", -3, w|f, k1, expire(false, false))
	add("pexpire", -3, w|f, k1, expire(true, false))
	add("expireat", -3, w|f, k1, expire(false, true))
	add("pexpireat", -3, w|f, k1, expire(true, true))
	add("expiretime", 2, r|f, k1, expireTime(false))
	add("pexpiretime", 2, r|f, k1, expireTime(true))
	add("ttl", 2, r|f, k1, ttl(false))
	add("pttl", 2, r|f, k1, ttl(true))
	add("persist", 2, w|f, k1, cmdPersist)
	add("keys", 2, r|ak, keySpec{}, cmdKeys)
	add("scan", -2, r|ak, keySpec{}, cmdScan)
	add("randomkey", 1, r|ak, keySpec{}, cmdRandomKey)
	add("dbsize", 1, r|f|ak, keySpec{}, cmdDBSize)
	add("flushdb", -1, w|ak, keySpec{}, cmdFlush)
	add("flushall", -1, w|ak, keySpec{}, cmdFlush)

	// Transactions.
	add("multi", 1, f|nm, keySpec{}, cmdMulti)
	add("exec", 1, nm, keySpec{}, cmdExec)
	add("discard", 1, f|nm, keySpec{}, cmdDiscard)
	add("watch", -2, f|nm, kAll, cmdWatch)
	add("unwatch", 1, f|nm, keySpec{}, cmdUnwatch)

	// Connection.
	add("ping", -1, f, keySpec{}, cmdPing)
	add("echo", 2, f, keySpec{}, cmdEcho)
	add("quit", -1, na|nm|f, keySpec{}, cmdQuit)
	add("reset", 1, na|nm|f, keySpec{}, cmdReset)
	add("auth", -2, na|f, keySpec{}, cmdAuth)
	add("hello", -1, na|f, keySpec{}, cmdHello)
	add("select", 2, f, keySpec{}, cmdSelect)
	group("client", -2,
		sub("id", 2, f, keySpec{}, cmdClientID),
		sub("setname", 3, f, keySpec{}, cmdClientSetName),
		sub("getname", 2, f, keySpec{}, cmdClientGetName),
		sub("setinfo", 4, f, keySpec{}, cmdClientSetInfo),
		sub("list", -2, ad, keySpec{}, cmdClientList),
		sub("info", 2, f, keySpec{}, cmdClientInfo),
		sub("kill", -3, ad, keySpec{}, cmdClientKill),
		sub("no-evict", 3, ad, keySpec{}, cmdOK),
		sub("no-touch", 3, f, keySpec{}, cmdOK),
		sub("help", 2, f, keySpec{}, helpReply(clientHelp...)),
	)

	// Server.
	add("info", -1, 0, keySpec{}, cmdInfo)
	add("time", 1, f, keySpec{}, cmdTime)
	add("save", 1, ad|nm, keySpec{}, cmdSave)
	add("bgsave", -1, ad, keySpec{}, cmdBgsave)
	add("bgrewriteaof", 1, ad|nm, keySpec{}, cmdBgrewriteaof)
	add("lastsave", 1, f, keySpec{}, cmdLastSave)
	add("shutdown", -1, ad|nm, keySpec{}, cmdShutdown)
	add("wait", 3, 0, keySpec{}, cmdWait)
	add("command", -1, 0, keySpec{}, nil) // replaced below: COMMAND with no subcommand lists every command
	group("config", -2,
		sub("get", -3, ad, keySpec{}, cmdConfigGet),
		sub("set", -4, ad, keySpec{}, cmdConfigSet),
		sub("resetstat", 2, ad, keySpec{}, cmdConfigResetStat),
		sub("rewrite", 2, ad, keySpec{}, cmdConfigRewrite),
		sub("help", 2, f, keySpec{}, helpReply(configHelp...)),
	)
	group("slowlog", -2,
		sub("get", -2, ad, keySpec{}, cmdSlowlogGet),
		sub("len", 2, ad, keySpec{}, cmdSlowlogLen),
		sub("reset", 2, ad, keySpec{}, cmdSlowlogReset),
		sub("help", 2, f, keySpec{}, helpReply(slowlogHelp...)),
	)
	group("latency", -2,
		sub("latest", 2, ad, keySpec{}, cmdLatencyLatest),
		sub("reset", -2, ad, keySpec{}, cmdLatencyReset),
	)
	group("memory", -2,
		sub("usage", -3, r, keySpec{2, 2, 1}, cmdMemoryUsage),
	)
	group("object", -2,
		sub("encoding", 3, r, keySpec{2, 2, 1}, cmdObjectEncoding),
		sub("freq", 3, r, keySpec{2, 2, 1}, cmdObjectFreq),
		sub("idletime", 3, r, keySpec{2, 2, 1}, cmdObjectIdletime),
		sub("refcount", 3, r, keySpec{2, 2, 1}, cmdObjectRefcount),
		sub("help", 2, f, keySpec{}, helpReply(objectHelp...)),
	)
	group("function", -2,
		sub("flush", -2, w, keySpec{}, cmdFunctionFlush),
	)
	s.addCommandCommand(t)
	return t
}
