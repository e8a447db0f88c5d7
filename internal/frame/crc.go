package frame

import "hash/crc32"

// castagnoli is the CRC-32C table; x86-64 and arm64 compute this polynomial
// in hardware, which is why the format uses it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C of p. It is safe for concurrent use.
func Checksum(p []byte) uint32 { return crc32.Checksum(p, castagnoli) }

// Update returns the CRC-32C of the bytes crc covers followed by p, so that
// a checksum can be computed piece by piece: Update(Checksum(a), b) equals
// Checksum of a and b together. It is safe for concurrent use.
func Update(crc uint32, p []byte) uint32 { return crc32.Update(crc, castagnoli, p) }
