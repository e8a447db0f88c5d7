package shardcache

import "errors"

// ErrInvalidConfig is wrapped by every error New returns for a Config it
// cannot honour. Match it with errors.Is; the message names the field.
var ErrInvalidConfig = errors.New("shardcache: invalid config")
