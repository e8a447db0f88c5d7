package server

import (
	"strings"

	"github.com/shardcache/shardcache/server/config"
)

func cmdConfigGet(c *client, args [][]byte) {
	patterns := make([]string, 0, len(args)-2)
	for _, a := range args[2:] {
		patterns = append(patterns, string(a))
	}
	pairs := c.srv.cfg.Get(patterns...)
	c.w.MapHeader(len(pairs))
	for _, p := range pairs {
		c.w.BulkString(p[0])
		c.w.BulkString(p[1])
	}
}

func cmdConfigSet(c *client, args [][]byte) {
	if (len(args)-2)%2 != 0 {
		c.errorReply("ERR wrong number of arguments for 'config|set' command")
		return
	}
	pairs := make([][2]string, 0, (len(args)-2)/2)
	for i := 2; i+1 < len(args); i += 2 {
		pairs = append(pairs, [2]string{strings.ToLower(string(args[i])), string(args[i+1])})
	}
	if err := c.srv.cfg.Set(pairs); err != nil {
		c.errorReply(err.Error())
		return
	}
	c.w.SimpleString("OK")
}

func cmdConfigResetStat(c *client, args [][]byte) {
	c.srv.resetStats()
	c.w.SimpleString("OK")
}

// cmdConfigRewrite refuses: shardcached does not rewrite its config file
// (the file, the environment and the flags may all have set a value, and
// rewriting one of them would not say which wins).
func cmdConfigRewrite(c *client, args [][]byte) {
	c.errorReply("ERR CONFIG REWRITE is not supported by shardcached; change the config file by hand")
}

// matchGlob is Redis's case-sensitive glob, as KEYS and SCAN MATCH use it.
func matchGlob(pattern, s string) bool { return config.Match(pattern, s, false) }
