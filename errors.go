package shardcache

import "errors"

// ErrInvalidConfig is wrapped by every error New returns for a Config it
// cannot honour. Match it with errors.Is; the message names the field.
var ErrInvalidConfig = errors.New("shardcache: invalid config")

// ErrLoaderPanic is wrapped by the error GetOrLoad returns, to the caller
// that ran the loader and to every caller waiting for it, when the loader
// panics or exits its goroutine. The message includes the panic value and
// stack.
var ErrLoaderPanic = errors.New("shardcache: loader panicked")

// ErrClosed is returned by GetOrLoad and by the snapshot methods (SaveTo,
// SaveFile, LoadFrom, LoadFile) after Close.
var ErrClosed = errors.New("shardcache: cache is closed")

// ErrCorruptSnapshot is wrapped by every error LoadFrom and LoadFile return
// for input that is not an intact snapshot this version can read: wrong
// magic or version, truncation, a checksum mismatch, a length beyond the
// limits, or bytes a codec refuses. Match it with errors.Is; the message
// says what was wrong and where.
var ErrCorruptSnapshot = errors.New("shardcache: corrupt snapshot")

// ErrRecursiveLoad is wrapped by the error GetOrLoad returns, at once, when
// it is called for a key with the ctx of a loader still loading that key in
// the same cache, directly or through nested loads: it would otherwise wait
// for the very load that is waiting for it. See GetOrLoad.
var ErrRecursiveLoad = errors.New("shardcache: recursive load of the same key")
