package strval

// embstrMax is the longest string Redis keeps in one allocation with its
// object header (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
const embstrMax = 44

// Encoding is what OBJECT ENCODING reports for a string value: "int" for a
// string ParseInt accepts (canonical, at most 20 bytes), "embstr" for any
// other of up to 44 bytes, "raw" for longer ones, and "raw" whatever v is
// when raw is set.
//
// Set raw for values that Redis built in place rather than passed through
// its encoder: the result of APPEND to an existing key, of SETRANGE, SETBIT
// and BITOP (even "SET k 1; APPEND k 2" is raw). Values stored by SET, GETSET,
// SETNX, SETEX, MSET and by APPEND to a missing key are encoded, so pass
// false; so are INCR's results (always "int"). INCRBYFLOAT's result is never
// encoded as an integer: use FloatEncoding for it.
func Encoding(v []byte, raw bool) string {
	if raw || len(v) > embstrMax {
		return "raw"
	}
	if len(v) <= 20 {
		if _, ok := ParseInt(v); ok {
			return "int"
		}
	}
	return "embstr"
}

// FloatEncoding is what OBJECT ENCODING reports for a value INCRBYFLOAT
// stored: "embstr" up to 44 bytes, else "raw", even when the value reads as
// an integer ("3").
func FloatEncoding(v []byte) string {
	if len(v) > embstrMax {
		return "raw"
	}
	return "embstr"
}
