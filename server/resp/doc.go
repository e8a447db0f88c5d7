// Package resp reads and writes Redis's wire protocol (RESP2 and RESP3) over
// byte slices. It knows nothing of commands or of the cache: a Reader turns
// the bytes a client sends into argument lists, a Writer turns replies into
// bytes.
//
// Redis 7.0's behaviour is the specification: the Reader accepts exactly the
// requests redis-server accepts (multibulk and inline, with sdssplitargs's
// quoting), skips what it skips and fails with the same protocol error texts
// at the same points, and the Writer produces the bytes Redis's addReply*
// functions produce.
//
// Both types sit on the server's hot path. Reading pipelined commands and
// writing their replies allocates nothing in steady state: arguments alias
// the Reader's buffer, and replies are appended to the Writer's buffer and
// written in one Write per batch.
package resp
