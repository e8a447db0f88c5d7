// Package e2e holds the end-to-end tests of shardcached: real processes
// started by servertest, spoken to over TCP. TestCompat runs the command
// scripts in testdata/compat against redis-server and shardcached and
// compares their replies byte for byte; see compat_test.go.
package e2e
