// Package strval is the value arithmetic of shardcached's string commands:
// integer and float parsing as Redis does it, INCRBY and INCRBYFLOAT,
// GETRANGE and SETRANGE, the bit commands, LCS, the encoding OBJECT ENCODING
// reports, and the arithmetic of expire times.
//
// Every function follows Redis 7.0.15 exactly, error cases included; the
// differential tests check each rule against a real redis-server. The package
// knows nothing of sockets or of the cache: functions take and return byte
// slices and never modify the slices they are given. All of it is safe for
// concurrent use; nothing holds state.
//
// Errors are the replies Redis sends: an error's Error() is the reply text
// without the leading '-' (for example "ERR value is not an integer or out of
// range"), so the server writes it as is. That is why, unlike the rest of
// shardcache, these messages carry no package prefix.
package strval
