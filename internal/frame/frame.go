// Package frame reads and writes the byte framing of shardcache's
// persistence formats, and knows nothing of the cache: a stream is a header,
// blocks of length-prefixed records, each block checksummed, and a trailer
// that checksums the whole stream.
//
//	stream  = header block* trailer
//	header  = magic[8] version:u32 flags:u32 count:u64 created:i64 [metalen:u32 meta] crc:u32
//	block   = 'B' records:u32 length:u32 payload[length] crc:u32
//	payload = record{records}
//	record  = deadline:i64 keylen:uvarint key[keylen] valuelen:uvarint value[valuelen]
//	trailer = 'E' records:u64 crc:u32                                        (13 bytes)
//
// The header's metadata (Header.Meta), bytes the format's user defines, is
// there only in the versions that have it (Format.MetaSince); a header
// without it is 36 bytes. Integers are little-endian, uvarints those of
// encoding/binary, and every checksum is CRC-32C (Castagnoli): a block's
// covers its frame (tag, count, length) and payload, the header's every
// header byte before it, the trailer's every byte of the stream before it.
// docs/snapshot-format.md specifies the format field by field; the snapshot
// (magic "\x89SCSNAP\n", version 2, whose metadata names the cache's key
// and value types, and version 1, without) is the format written through
// this package today.
//
// Writing: a block is built in a byte slice (NewBlock, then records appended
// with AppendDeadline, OpenField and CloseField, then CloseBlock), so that
// several goroutines can build blocks at once, each in its own buffer, and
// a Writer writes the header, the finished blocks and the trailer in order.
// Reading: a Reader checks the header, then returns each block's payload
// only once its checksum matched, and SplitRecord takes the records apart.
//
// Input is untrusted: every length is checked against the limits in
// limits.go before anything is allocated for it, and every error for input
// that is not intact framing matches ErrCorrupt.
package frame
