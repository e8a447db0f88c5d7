// Package grpcapi serves the shardcache.v1.Cache gRPC service
// (proto/shardcache/v1/cache.proto) over a shardcached server's keyspace.
//
// Every call runs Redis commands through a server.Session, the same
// command path RESP clients take: a value written here is the value GET
// returns over RESP, with the same deadline, the same maxmemory checks,
// the same AOF records and WATCH touches. The HTTP key API (package
// httpapi) calls the same Service, so the three protocols cannot drift.
package grpcapi

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/client/cachev1"
	"github.com/shardcache/shardcache/server"
	"github.com/shardcache/shardcache/server/resp"
)

// Scan's page sizes.
const (
	defaultPageSize = 100
	maxPageSize     = 10_000
)

// Service implements cachev1.CacheServer over srv. Its methods are safe
// for concurrent use; each takes a pooled Session for the call. Service
// does not check credentials: the gRPC server's interceptors (NewServer)
// and the HTTP handler do, before calling it.
type Service struct {
	cachev1.UnimplementedCacheServer
	srv   *server.Server
	proto server.Protocol
}

// NewService returns the service over srv, counting its calls in the
// metrics under proto (server.ProtocolGRPC, or ProtocolHTTP for the
// gateway).
func NewService(srv *server.Server, proto server.Protocol) *Service {
	return &Service{srv: srv, proto: proto}
}

// methodCommand names the Redis command each method is counted under in
// the command statistics and metrics.
var methodCommand = map[string]string{
	"Get": "get", "Set": "set", "Delete": "del", "GetMany": "mget", "SetMany": "mset",
	"Touch": "pexpire", "TTL": "pttl", "Increment": "incrby", "Scan": "scan",
}

// call runs fn with a session and records the operation of method.
func (s *Service) call(method string, fn func(ss *server.Session) error) error {
	start := time.Now()
	ss := s.srv.Session(s.proto)
	err := fn(ss)
	ss.Release()
	code := status.Code(err)
	s.srv.Record(s.proto, methodCommand[method], time.Since(start), code != codes.OK && code != codes.NotFound && code != codes.FailedPrecondition)
	return err
}

// Get returns the key's value and TTL, read at one instant.
func (s *Service) Get(ctx context.Context, req *cachev1.GetRequest) (*cachev1.GetResponse, error) {
	if err := checkKey(req.GetKey()); err != nil {
		return nil, err
	}
	var out *cachev1.GetResponse
	err := s.call("Get", func(ss *server.Session) error {
		err := ss.Read([]string{req.GetKey()}, func(_ int, e shardcache.Entry[[]byte], found bool) {
			if found {
				out = &cachev1.GetResponse{Value: e.Value, Ttl: ttlPB(e.Deadline)}
			}
		})
		if err != nil {
			return internal(err)
		}
		if out == nil {
			return status.Errorf(codes.NotFound, "key %q not found", req.GetKey())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Set stores the value with its TTL and condition.
func (s *Service) Set(ctx context.Context, req *cachev1.SetRequest) (*cachev1.SetResponse, error) {
	args, err := setArgs(req)
	if err != nil {
		return nil, err
	}
	err = s.call("Set", func(ss *server.Session) error {
		r, err := ss.Do(args...)
		if err != nil {
			return internal(err)
		}
		if err := replyError(r); err != nil {
			return err
		}
		if r.Kind == resp.KindNull {
			return conditionFailed(req)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cachev1.SetResponse{}, nil
}

// Delete removes the key.
func (s *Service) Delete(ctx context.Context, req *cachev1.DeleteRequest) (*cachev1.DeleteResponse, error) {
	if err := checkKey(req.GetKey()); err != nil {
		return nil, err
	}
	err := s.call("Delete", func(ss *server.Session) error {
		r, err := ss.Do(bDEL, []byte(req.GetKey()))
		if err != nil {
			return internal(err)
		}
		if err := replyError(r); err != nil {
			return err
		}
		if r.Int == 0 {
			return status.Errorf(codes.NotFound, "key %q not found", req.GetKey())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cachev1.DeleteResponse{}, nil
}

// GetMany reads every key and its TTL in one transaction.
func (s *Service) GetMany(ctx context.Context, req *cachev1.GetManyRequest) (*cachev1.GetManyResponse, error) {
	keys := req.GetKeys()
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, err
		}
	}
	out := &cachev1.GetManyResponse{Items: make([]*cachev1.Item, len(keys))}
	if len(keys) == 0 {
		return out, nil
	}
	items := make([]cachev1.Item, len(keys)) // one allocation for them all
	err := s.call("GetMany", func(ss *server.Session) error {
		err := ss.Read(keys, func(i int, e shardcache.Entry[[]byte], found bool) {
			it := &items[i]
			it.Key, it.Found = keys[i], found
			if found {
				it.Value, it.Ttl = e.Value, ttlPB(e.Deadline)
			}
			out.Items[i] = it
		})
		if err != nil {
			return internal(err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetMany applies every item in one transaction.
func (s *Service) SetMany(ctx context.Context, req *cachev1.SetManyRequest) (*cachev1.SetManyResponse, error) {
	items := req.GetItems()
	cmds := make([][][]byte, len(items))
	for i, it := range items {
		args, err := setArgs(it)
		if err != nil {
			return nil, status.Errorf(status.Code(err), "items[%d]: %s", i, status.Convert(err).Message())
		}
		cmds[i] = args
	}
	out := &cachev1.SetManyResponse{Applied: make([]bool, len(items))}
	if len(items) == 0 {
		return out, nil
	}
	err := s.call("SetMany", func(ss *server.Session) error {
		r, err := ss.Tx(cmds...)
		if err != nil {
			return internal(err)
		}
		if err := replyError(r); err != nil {
			return err
		}
		if len(r.Elems) != len(cmds) {
			return status.Error(codes.Internal, "short transaction reply")
		}
		for i, e := range r.Elems {
			if err := replyError(e); err != nil {
				return status.Errorf(status.Code(err), "items[%d]: %s", i, status.Convert(err).Message())
			}
			out.Applied[i] = e.Kind == resp.KindSimple
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Touch sets or removes the key's TTL.
func (s *Service) Touch(ctx context.Context, req *cachev1.TouchRequest) (*cachev1.TouchResponse, error) {
	if err := checkKey(req.GetKey()); err != nil {
		return nil, err
	}
	ms, err := ttlMillis(req.GetTtl())
	if err != nil {
		return nil, err
	}
	k := []byte(req.GetKey())
	err = s.call("Touch", func(ss *server.Session) error {
		var r resp.Reply
		var err error
		if ms > 0 {
			r, err = ss.Do(bPEXPIRE, k, strconv.AppendInt(nil, ms, 10))
		} else {
			// PERSIST answers 0 for a key without a TTL too: ask
			// EXISTS in the same transaction.
			r, err = ss.Tx([][]byte{bEXISTS, k}, [][]byte{bPERSIST, k})
			if err == nil && r.Kind == resp.KindArray && len(r.Elems) == 2 {
				r = r.Elems[0]
			}
		}
		if err != nil {
			return internal(err)
		}
		if err := replyError(r); err != nil {
			return err
		}
		if r.Int == 0 {
			return status.Errorf(codes.NotFound, "key %q not found", req.GetKey())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cachev1.TouchResponse{}, nil
}

// TTL returns the key's remaining TTL.
func (s *Service) TTL(ctx context.Context, req *cachev1.TTLRequest) (*cachev1.TTLResponse, error) {
	if err := checkKey(req.GetKey()); err != nil {
		return nil, err
	}
	var out *cachev1.TTLResponse
	err := s.call("TTL", func(ss *server.Session) error {
		r, err := ss.Do(bPTTL, []byte(req.GetKey()))
		if err != nil {
			return internal(err)
		}
		if err := replyError(r); err != nil {
			return err
		}
		if r.Int == -2 {
			return status.Errorf(codes.NotFound, "key %q not found", req.GetKey())
		}
		out = &cachev1.TTLResponse{Ttl: ttlOf(r)}
		return nil
	})
	return out, err
}

// Increment adds delta to the key's integer.
func (s *Service) Increment(ctx context.Context, req *cachev1.IncrementRequest) (*cachev1.IncrementResponse, error) {
	if err := checkKey(req.GetKey()); err != nil {
		return nil, err
	}
	var out *cachev1.IncrementResponse
	err := s.call("Increment", func(ss *server.Session) error {
		r, err := ss.Do(bINCRBY, []byte(req.GetKey()), strconv.AppendInt(nil, req.GetDelta(), 10))
		if err != nil {
			return internal(err)
		}
		if err := replyError(r); err != nil {
			return err
		}
		out = &cachev1.IncrementResponse{Value: r.Int}
		return nil
	})
	return out, err
}

// Scan streams the matching keys a page at a time, with SCAN's
// guarantees.
func (s *Service) Scan(req *cachev1.ScanRequest, stream cachev1.Cache_ScanServer) error {
	page := int(req.GetPageSize())
	switch {
	case page < 0:
		return status.Error(codes.InvalidArgument, "page_size must not be negative")
	case page == 0:
		page = defaultPageSize
	}
	page = min(page, maxPageSize)
	match := req.GetMatch()
	if match == "" {
		match = "*"
	}
	ctx := stream.Context()
	return s.call("Scan", func(ss *server.Session) error {
		cursor := []byte("0")
		count := []byte(strconv.Itoa(page))
		pending := make([]string, 0, page)
		for {
			if err := ctx.Err(); err != nil {
				return status.FromContextError(err).Err()
			}
			r, err := ss.Do(bSCAN, cursor, bMATCH, []byte(match), bCOUNT, count)
			if err != nil {
				return internal(err)
			}
			if err := replyError(r); err != nil {
				return err
			}
			if r.Kind != resp.KindArray || len(r.Elems) != 2 {
				return status.Error(codes.Internal, "malformed SCAN reply")
			}
			cursor = bytes.Clone(r.Elems[0].Str)
			for _, k := range r.Elems[1].Elems {
				if !utf8.Valid(k.Str) {
					continue // a binary key from RESP: a proto string cannot carry it
				}
				pending = append(pending, string(k.Str))
				if len(pending) == page {
					if err := stream.Send(&cachev1.ScanResponse{Keys: pending}); err != nil {
						return err
					}
					pending = make([]string, 0, page)
				}
			}
			if string(cursor) == "0" {
				break
			}
		}
		if len(pending) > 0 {
			return stream.Send(&cachev1.ScanResponse{Keys: pending})
		}
		return nil
	})
}

var (
	bGET     = []byte("GET")
	bSET     = []byte("SET")
	bDEL     = []byte("DEL")
	bPTTL    = []byte("PTTL")
	bPEXPIRE = []byte("PEXPIRE")
	bPERSIST = []byte("PERSIST")
	bEXISTS  = []byte("EXISTS")
	bINCRBY  = []byte("INCRBY")
	bSCAN    = []byte("SCAN")
	bMATCH   = []byte("MATCH")
	bCOUNT   = []byte("COUNT")
	bPX      = []byte("PX")
	bNX      = []byte("NX")
	bXX      = []byte("XX")
	bKEEPTTL = []byte("KEEPTTL")
)

// checkKey refuses an empty key, which the HTTP API cannot name, and one
// that is not UTF-8, which a proto string cannot carry (gRPC refuses it
// while decoding; the HTTP gateway hands it on).
func checkKey(k string) error {
	if k == "" {
		return status.Error(codes.InvalidArgument, "key must not be empty")
	}
	if !utf8.ValidString(k) {
		return status.Error(codes.InvalidArgument, "key must be UTF-8")
	}
	return nil
}

// setArgs builds the SET command of req, or says why it is invalid.
func setArgs(req *cachev1.SetRequest) ([][]byte, error) {
	if err := checkKey(req.GetKey()); err != nil {
		return nil, err
	}
	ms, err := ttlMillis(req.GetTtl())
	if err != nil {
		return nil, err
	}
	args := make([][]byte, 3, 7) // SET key value [KEEPTTL] [PX ms] [NX|XX]
	args[0], args[1], args[2] = bSET, []byte(req.GetKey()), req.GetValue()
	if req.GetKeepTtl() {
		if ms > 0 {
			return nil, status.Error(codes.InvalidArgument, "keep_ttl and ttl are mutually exclusive")
		}
		args = append(args, bKEEPTTL)
	}
	if ms > 0 {
		args = append(args, bPX, strconv.AppendInt(nil, ms, 10))
	}
	switch req.GetCondition() {
	case cachev1.Condition_CONDITION_UNSPECIFIED, cachev1.Condition_CONDITION_ALWAYS:
	case cachev1.Condition_CONDITION_IF_ABSENT:
		args = append(args, bNX)
	case cachev1.Condition_CONDITION_IF_PRESENT:
		args = append(args, bXX)
	default:
		return nil, status.Errorf(codes.InvalidArgument, "unknown condition %d", req.GetCondition())
	}
	return args, nil
}

// maxTTL is the longest TTL accepted: Redis refuses deadlines whose
// milliseconds since the epoch overflow 64 bits.
const maxTTL = math.MaxInt64/int64(time.Millisecond) - 1<<41

// ttlMillis converts a TTL to whole milliseconds, rounding a positive
// sub-millisecond part up; nil or zero gives 0 (no TTL).
func ttlMillis(d *durationpb.Duration) (int64, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, status.Errorf(codes.InvalidArgument, "ttl: %v", err)
	}
	if d.GetSeconds() < 0 || d.GetNanos() < 0 {
		return 0, status.Error(codes.InvalidArgument, "ttl must not be negative")
	}
	if d.GetSeconds() > maxTTL/1000 {
		return 0, status.Error(codes.InvalidArgument, "ttl is out of range")
	}
	ns := int64(d.GetNanos())
	return d.GetSeconds()*1000 + (ns+int64(time.Millisecond)-1)/int64(time.Millisecond), nil
}

// ttlOf turns a PTTL reply into a TTL: nil for -1 (no TTL) or absent.
// ttlPB is the TTL of an entry expiring at deadline as the API writes it:
// unset when it does not expire, else in whole milliseconds as PTTL
// counts them, so that every protocol reports the same figure.
func ttlPB(deadline time.Time) *durationpb.Duration {
	if deadline.IsZero() {
		return nil
	}
	return durationpb.New(time.Duration(max(time.Until(deadline).Milliseconds(), 0)) * time.Millisecond)
}

func ttlOf(r resp.Reply) *durationpb.Duration {
	if r.Kind != resp.KindInt || r.Int < 0 {
		return nil
	}
	return durationpb.New(time.Duration(r.Int) * time.Millisecond)
}

// replyError maps an error reply to a gRPC status: OOM to
// RESOURCE_EXHAUSTED, a refused transaction to its cause, the rest to
// INVALID_ARGUMENT (a value that is not an integer, an overflow).
func replyError(r resp.Reply) error {
	if r.Kind != resp.KindError {
		return nil
	}
	msg := string(r.Str)
	msg = strings.TrimPrefix(msg, "EXECABORT Transaction discarded because of: ")
	switch {
	case strings.HasPrefix(msg, "OOM "):
		return status.Error(codes.ResourceExhausted, msg)
	case strings.HasPrefix(msg, "NOAUTH "), strings.HasPrefix(msg, "WRONGPASS "):
		return status.Error(codes.Unauthenticated, msg)
	case strings.HasPrefix(msg, "MISCONF "), strings.HasPrefix(msg, "LOADING "):
		return status.Error(codes.Unavailable, msg)
	case strings.HasPrefix(msg, "WRONGTYPE "):
		return status.Error(codes.FailedPrecondition, msg)
	}
	if m, ok := strings.CutPrefix(msg, "ERR "); ok {
		msg = m
	}
	return status.Error(codes.InvalidArgument, msg)
}

func conditionFailed(req *cachev1.SetRequest) error {
	if req.GetCondition() == cachev1.Condition_CONDITION_IF_ABSENT {
		return status.Errorf(codes.FailedPrecondition, "key %q exists", req.GetKey())
	}
	return status.Errorf(codes.FailedPrecondition, "key %q does not exist", req.GetKey())
}

// internal wraps a session failure: the server shutting down is
// UNAVAILABLE (retry elsewhere), anything else INTERNAL.
func internal(err error) error {
	if errors.Is(err, server.ErrServerClosed) {
		return status.Error(codes.Unavailable, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}
