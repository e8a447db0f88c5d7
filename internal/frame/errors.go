package frame

import (
	"errors"
	"fmt"
)

// ErrCorrupt is matched (errors.Is) by every error this package returns for
// input that is not intact framing: a wrong magic or version, truncation, a
// checksum mismatch, a length beyond the limits, a malformed record.
//
// The messages of those errors say only what was wrong and where ("block 2
// (at byte 524416): checksum mismatch"), with no package prefix, because
// the caller wraps them in its own format's error: shardcache's loader
// returns "shardcache: corrupt snapshot: " followed by the message. Errors
// of the underlying io.Reader or io.Writer are returned unchanged and never
// match ErrCorrupt.
var ErrCorrupt = errors.New("frame: corrupt input")

// corruptError is an error matching ErrCorrupt whose message is the detail
// alone.
type corruptError struct{ msg string }

func (e *corruptError) Error() string        { return e.msg }
func (e *corruptError) Is(target error) bool { return target == ErrCorrupt }

func corrupt(format string, args ...any) error {
	return &corruptError{fmt.Sprintf(format, args...)}
}
