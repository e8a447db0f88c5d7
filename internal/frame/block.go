package frame

import "encoding/binary"

// A block is built in a byte slice: FrameLen bytes of room for its frame,
// then its records, appended in place. NewBlock and CloseBlock work on the
// caller's slice only, so any number of goroutines may build blocks at
// once, each in its own buffer.

const (
	// FrameLen is the size of a block's frame: tag 1, record count 4,
	// payload length 4.
	FrameLen = 9
	// BlockTag opens a block.
	BlockTag = 'B'
	// EndTag opens the trailer.
	EndTag = 'E'
	// BlockTarget is the size at which a writer closes a block (see
	// BlockFull). A block is the unit of verification for a Reader and of
	// buffering for both directions.
	BlockTarget = 256 << 10
)

// NewBlock returns buf emptied down to a block's frame space, ready for
// records to be appended, or, if buf is nil, a new buffer with room for a
// full block and one record of an eighth of one.
func NewBlock(buf []byte) []byte {
	if buf == nil {
		buf = make([]byte, 0, BlockTarget+BlockTarget/8)
	}
	return buf[:FrameLen]
}

// BlockFull reports whether block b, as NewBlock returned it plus the
// records appended since, has reached BlockTarget (its frame space
// included) and should be closed.
func BlockFull(b []byte) bool { return len(b) >= BlockTarget }

// CloseBlock finishes block b, which holds FrameLen bytes of frame space
// and then n records: it fills in the frame and appends the CRC-32C of
// frame and payload. It returns the finished block, ready for
// Writer.WriteBlock.
func CloseBlock(b []byte, n uint32) []byte {
	b[0] = BlockTag
	binary.LittleEndian.PutUint32(b[1:], n)
	binary.LittleEndian.PutUint32(b[5:], uint32(len(b)-FrameLen))
	return binary.LittleEndian.AppendUint32(b, Checksum(b))
}
