// Package servertest starts real servers for tests, redis-server and
// shardcached, and talks to them through a raw RESP client that keeps every
// reply's exact bytes.
//
// Every Server belongs to the test that started it: it runs in that test's
// temporary directory, its output goes to a log file that is copied into the
// test log when the test fails, and it is stopped (SIGTERM, then SIGKILL) by
// the test's Cleanup, so that no test leaves a process behind. On Linux a
// server is also killed if the test process dies without cleaning up.
//
// Conn is deliberately dumb: it sends what it is told and parses one reply at
// a time, RESP2 and RESP3 alike, with a deadline on every read and write so
// that no test can hang on a silent server. It is for comparing servers
// reply for reply, not for writing applications.
package servertest
