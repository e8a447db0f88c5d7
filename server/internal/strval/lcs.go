package strval

import (
	"bytes"
	"math"
)

// LCSOptions are LCS's options. The zero value asks for the string itself.
type LCSOptions struct {
	// Len asks for the length of the longest common subsequence only.
	Len bool
	// Idx asks for the matching ranges and the length.
	Idx bool
	// MinMatchLen drops ranges shorter than it from Matches (0 keeps all;
	// ParseLCSArgs turns a negative one into 0).
	MinMatchLen int64
	// WithMatchLen asks the reply to carry each range's length. It changes
	// nothing here: Matches always carry it, the server writes it or not.
	WithMatchLen bool
	// MaxLen is proto-max-bulk-len, the bound on the bytes of LCS's table
	// (DefaultMaxLen when zero). ParseLCSArgs leaves it zero.
	MaxLen int64
}

// LCSMatch is one range of an IDX reply: a[AStart..AEnd] equals
// b[BStart..BEnd], bounds inclusive, Len bytes long.
type LCSMatch struct {
	AStart, AEnd, BStart, BEnd, Len int64
}

// LCSResult is what LCS computes.
type LCSResult struct {
	// String is the common subsequence, or nil when only Len was asked.
	String []byte
	// Len is its length.
	Len int64
	// Matches are the ranges (with Idx only) in Redis's order, which is
	// from the ends of the strings backwards, less those shorter than
	// MinMatchLen.
	Matches []LCSMatch
}

// ParseLCSArgs parses LCS's arguments after the two keys: LEN, IDX,
// WITHMATCHLEN and MINMATCHLEN n, in any case and order, repeats allowed.
// An unknown word, or MINMATCHLEN as the last argument, is ErrSyntax; an n
// ParseInt refuses is ErrNotInteger; LEN with IDX is ErrLCSLenAndIdx
// (checked after all the words are read).
func ParseLCSArgs(args [][]byte) (LCSOptions, error) {
	var o LCSOptions
	for j := 0; j < len(args); j++ {
		switch a := args[j]; {
		case bytes.EqualFold(a, []byte("idx")):
			o.Idx = true
		case bytes.EqualFold(a, []byte("len")):
			o.Len = true
		case bytes.EqualFold(a, []byte("withmatchlen")):
			o.WithMatchLen = true
		case bytes.EqualFold(a, []byte("minmatchlen")) && j+1 < len(args):
			n, ok := ParseInt(args[j+1])
			if !ok {
				return LCSOptions{}, ErrNotInteger
			}
			o.MinMatchLen = max(n, 0)
			j++
		default:
			return LCSOptions{}, ErrSyntax
		}
	}
	if o.Len && o.Idx {
		return LCSOptions{}, ErrLCSLenAndIdx
	}
	return o, nil
}

// LCS is the LCS command over a and b (missing keys are empty strings),
// by the dynamic programme Redis uses, so that ties between equally long
// subsequences resolve the way Redis's do.
//
// Its table has (len(a)+1)*(len(b)+1) uint32 cells; when their bytes would
// exceed opts.MaxLen LCS refuses with ErrLCSMemory, as Redis does, before
// allocating anything (a string of 2^32-2 bytes or more is ErrLCSTooLong).
// With only Len asked it keeps two rows of the table instead of all of it.
func LCS(a, b []byte, opts LCSOptions) (LCSResult, error) {
	maxLen := opts.MaxLen
	if maxLen <= 0 {
		maxLen = DefaultMaxLen
	}
	if uint64(len(a)) >= math.MaxUint32-1 || uint64(len(b)) >= math.MaxUint32-1 {
		return LCSResult{}, ErrLCSTooLong
	}
	alen, blen := len(a), len(b)
	if cells := uint64(alen+1) * uint64(blen+1); cells*4 > uint64(maxLen) {
		return LCSResult{}, ErrLCSMemory
	}
	if opts.Len && !opts.Idx {
		return LCSResult{Len: lcsLen(a, b)}, nil
	}

	// t[i*w+j] is the LCS length of a[:i] and b[:j].
	w := blen + 1
	t := make([]uint32, (alen+1)*w)
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			switch {
			case a[i-1] == b[j-1]:
				t[i*w+j] = t[(i-1)*w+j-1] + 1
			default:
				t[i*w+j] = max(t[(i-1)*w+j], t[i*w+j-1])
			}
		}
	}
	n := t[alen*w+blen]
	res := LCSResult{Len: int64(n), String: make([]byte, n)}

	// Walk back from the end, as Redis does: on a match take the byte and
	// step diagonally, else step up when the cell above is strictly larger,
	// left otherwise. A run of diagonal steps is one range; it ends at a
	// non-matching step or at the first byte of either string.
	k := n
	inRange := false
	var as, ae, bs, be int
	for i, j := alen, blen; i > 0 && j > 0; {
		emit := false
		if a[i-1] == b[j-1] {
			res.String[k-1] = a[i-1]
			if !inRange {
				inRange = true
				as, ae, bs, be = i-1, i-1, j-1, j-1
			} else {
				as, bs = as-1, bs-1 // contiguous: the last step was a match
			}
			emit = as == 0 || bs == 0
			k, i, j = k-1, i-1, j-1
		} else {
			if t[(i-1)*w+j] > t[i*w+j-1] {
				i--
			} else {
				j--
			}
			emit = inRange
		}
		if emit && opts.Idx {
			if l := int64(ae - as + 1); opts.MinMatchLen == 0 || l >= opts.MinMatchLen {
				res.Matches = append(res.Matches, LCSMatch{
					AStart: int64(as), AEnd: int64(ae), BStart: int64(bs), BEnd: int64(be), Len: l,
				})
			}
		}
		if emit {
			inRange = false
		}
	}
	return res, nil
}

// lcsLen is the LCS length with two rows of the table.
func lcsLen(a, b []byte) int64 {
	prev := make([]uint32, len(b)+1)
	cur := make([]uint32, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
			} else {
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return int64(prev[len(b)])
}
