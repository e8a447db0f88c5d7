package server

import (
	"strings"
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

func cmdConfigRewrite(c *client, args [][]byte) {
	if c.srv.set.configFile == "" {
		c.errorReply("ERR The server is running without a config file")
		return
	}
	if err := c.srv.cfg.Rewrite(); err != nil {
		c.errorReply("ERR Rewriting config file: " + err.Error())
		return
	}
	c.w.SimpleString("OK")
}

// matchGlob is Redis's case-sensitive glob, as KEYS and SCAN MATCH use it.
func matchGlob(pattern, s string) bool { return configMatch(pattern, s) }
