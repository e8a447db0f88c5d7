package client

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The sentinel errors a call's error matches with errors.Is, one per gRPC
// status code the server answers with. The error itself is an *Error,
// which also carries the status: status.Code and status.FromError work on
// it too. They are values, safe to compare from any goroutine.
var (
	// ErrNotFound means the key is absent (NOT_FOUND), for Get, Delete, Touch
	// and TTL.
	ErrNotFound = errors.New("client: key not found")
	// ErrConditionFailed means a Set's IfAbsent or IfPresent condition did not
	// hold (FAILED_PRECONDITION).
	ErrConditionFailed = errors.New("client: condition failed")
	// ErrInvalidArgument means the request is invalid (INVALID_ARGUMENT): an
	// empty key, a negative TTL, WithTTL with KeepTTL, a bad Scan pattern
	// or page size, an Increment of a value that is not an integer or that
	// overflows.
	ErrInvalidArgument = errors.New("client: invalid argument")
	// ErrResourceExhausted means a message over the server's size limit, or a
	// write refused by maxmemory (RESOURCE_EXHAUSTED).
	ErrResourceExhausted = errors.New("client: resource exhausted")
	// ErrUnauthenticated means the server has a password and the call sent none
	// or a wrong one (UNAUTHENTICATED); see WithPassword.
	ErrUnauthenticated = errors.New("client: unauthenticated")
	// ErrPermissionDenied means the server is in protected mode and refuses
	// clients from a non-loopback address (PERMISSION_DENIED).
	ErrPermissionDenied = errors.New("client: permission denied")
	// ErrUnavailable means the server cannot be reached, or is shutting down or
	// loading (UNAVAILABLE). The call may be retried.
	ErrUnavailable = errors.New("client: unavailable")
)

// Error is the error of a call answered with a non-OK gRPC status, by the
// server or by the gRPC transport. It matches, with errors.Is, the
// sentinel of its code (ErrNotFound for NOT_FOUND, and so on), and
// context.Canceled or context.DeadlineExceeded for CANCELLED and
// DEADLINE_EXCEEDED; codes without a sentinel (INTERNAL, UNKNOWN, ...)
// match none. GRPCStatus returns the status as received, so status.Code
// and status.FromError see the server's code and message.
//
// An Error is not modified after it is returned; its methods are safe for
// concurrent use.
type Error struct {
	// Op is the RPC that failed: "Get", "Set", "Scan", ...
	Op string

	st *status.Status
}

// wrap turns the error of the RPC op into an *Error, or nil for nil. An
// error without a status (which grpc-go does not return) is wrapped with
// the "client: " prefix only.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("client: %s: %w", op, err)
	}
	return &Error{Op: op, st: st}
}

// Error returns "client: <Op>: <code>: <message>", for example
// `client: Get: NotFound: key "a" not found`.
func (e *Error) Error() string {
	return fmt.Sprintf("client: %s: %s: %s", e.Op, e.st.Code(), e.st.Message())
}

// GRPCStatus returns the call's status, for status.FromError and
// status.Code.
func (e *Error) GRPCStatus() *status.Status {
	return e.st
}

// Code returns the call's status code.
func (e *Error) Code() codes.Code {
	return e.st.Code()
}

// Unwrap returns the sentinel error of e's code, or nil when the code has
// none.
func (e *Error) Unwrap() error {
	return sentinel(e.st.Code())
}

// sentinel maps a status code to the error errors.Is matches it with.
func sentinel(c codes.Code) error {
	switch c {
	case codes.NotFound:
		return ErrNotFound
	case codes.FailedPrecondition:
		return ErrConditionFailed
	case codes.InvalidArgument:
		return ErrInvalidArgument
	case codes.ResourceExhausted:
		return ErrResourceExhausted
	case codes.Unauthenticated:
		return ErrUnauthenticated
	case codes.PermissionDenied:
		return ErrPermissionDenied
	case codes.Unavailable:
		return ErrUnavailable
	case codes.Canceled:
		return context.Canceled
	case codes.DeadlineExceeded:
		return context.DeadlineExceeded
	}
	return nil
}
