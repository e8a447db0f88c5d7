package httpapi

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/shardcache/shardcache/client/cachev1"
)

// errQuery is wrapped by every refusal of a query string.
var errQuery = errors.New("httpapi: bad query")

// parseSetQuery reads PUT's query parameters into req: ttl (a Go duration
// such as 30s, 1m30s or 250ms, or whole seconds such as 30), nx, xx and
// keepttl (flags: present without a value, or =true/=1; =false/=0 leave
// them off). Anything else, a parameter given twice, nx with xx, or ttl
// with keepttl is an error wrapping errQuery.
func parseSetQuery(values url.Values, req *cachev1.SetRequest) error {
	var nx, xx bool
	for name, vs := range values {
		if len(vs) != 1 {
			return fmt.Errorf("%w: %q given %d times", errQuery, name, len(vs))
		}
		v := vs[0]
		switch name {
		case "ttl":
			d, err := parseTTL(v)
			if err != nil {
				return err
			}
			req.Ttl = durationpb.New(d)
		case "nx":
			b, err := parseFlag(name, v)
			if err != nil {
				return err
			}
			nx = b
		case "xx":
			b, err := parseFlag(name, v)
			if err != nil {
				return err
			}
			xx = b
		case "keepttl":
			b, err := parseFlag(name, v)
			if err != nil {
				return err
			}
			req.KeepTtl = b
		default:
			return fmt.Errorf("%w: unknown parameter %q (PUT takes ttl, nx, xx, keepttl)", errQuery, name)
		}
	}
	switch {
	case nx && xx:
		return fmt.Errorf("%w: nx and xx are mutually exclusive", errQuery)
	case req.KeepTtl && req.Ttl != nil:
		return fmt.Errorf("%w: ttl and keepttl are mutually exclusive", errQuery)
	case nx:
		req.Condition = cachev1.Condition_CONDITION_IF_ABSENT
	case xx:
		req.Condition = cachev1.Condition_CONDITION_IF_PRESENT
	}
	return nil
}

// maxTTL is the longest TTL a query may ask for: about 290 years, far
// short of where a deadline in milliseconds would overflow.
const maxTTL = time.Duration(1<<63 - 1)

// parseTTL reads a positive TTL: a Go duration or whole seconds.
func parseTTL(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 0 || n > int64(maxTTL/time.Second) {
			return 0, fmt.Errorf("%w: ttl %q must be positive and at most %d seconds", errQuery, s, int64(maxTTL/time.Second))
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w: ttl %q is neither a duration (30s, 1m30s, 250ms) nor whole seconds", errQuery, s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%w: ttl %q must be positive", errQuery, s)
	}
	return d, nil
}

func parseFlag(name, v string) (bool, error) {
	switch v {
	case "", "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, fmt.Errorf("%w: %s=%q: a flag is given bare (?%s) or as true/false", errQuery, name, v, name)
}

// queryParser is the gateway's query parser: PUT's parameters are ours
// (parseSetQuery), no other route takes any (the middleware refuses them
// before the gateway runs).
type queryParser struct{}

func (queryParser) Parse(msg proto.Message, values url.Values, _ *utilities.DoubleArray) error {
	req, ok := msg.(*cachev1.SetRequest)
	if !ok {
		if len(values) > 0 {
			return status.Error(codes.InvalidArgument, "this route takes no query parameters")
		}
		return nil
	}
	if err := parseSetQuery(values, req); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return nil
}
