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

// ErrUnsupportedKey is wrapped by the error SaveTo and SaveFile (and the
// periodic and final snapshots) return, before writing anything, for a
// cache whose keys are compared by identity: pointers, channels,
// unsafe.Pointer, and arrays and structs holding one of them, or, for an
// interface key type, a key whose dynamic value holds one. A snapshot
// stores what such a key points to, not its identity, so a loaded key
// would equal no key of the program and its entry could never be read.
// The message names the type.
var ErrUnsupportedKey = errors.New("shardcache: unsupported snapshot key")

// ErrSnapshotType is wrapped by the error LoadFrom and LoadFile return,
// before storing any entry, for a snapshot written by a cache whose key or
// value type, or key or value Codec, differs from the loading cache's: its
// bytes would decode to garbage, or not at all. The message names both
// sides' types (and codecs, when only those differ). Snapshots of format
// version 1 carry no types and are loaded unchecked.
var ErrSnapshotType = errors.New("shardcache: snapshot type mismatch")
