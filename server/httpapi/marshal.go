package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
)

// rawMarshaler is the gateway's marshaler for every content type but
// JSON: a value (GET's response body, PUT's request body) travels as its
// raw bytes, application/octet-stream; messages (the batch routes, errors)
// as protojson, as with application/json.
type rawMarshaler struct{ json *runtime.JSONPb }

// responseBody is the gateway's wrapper of a response whose body is one
// field (GET's value).
type responseBody interface{ XXX_ResponseBody() any }

func (m rawMarshaler) ContentType(v any) string {
	if rb, ok := v.(responseBody); ok {
		v = rb.XXX_ResponseBody()
	}
	if _, ok := v.([]byte); ok {
		return "application/octet-stream"
	}
	return m.json.ContentType(v)
}

func (m rawMarshaler) Marshal(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return m.json.Marshal(v)
}

func (m rawMarshaler) Unmarshal(data []byte, v any) error {
	if p, ok := v.(*[]byte); ok {
		*p = bytes.Clone(data)
		return nil
	}
	return m.json.Unmarshal(data, v)
}

func (m rawMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		if p, ok := v.(*[]byte); ok {
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			if len(b) == 0 && *p == nil {
				b = []byte{} // an empty body is an empty value
			}
			*p = b
			return nil
		}
		return m.json.NewDecoder(r).Decode(v)
	})
}

func (m rawMarshaler) NewEncoder(w io.Writer) runtime.Encoder {
	return runtime.EncoderFunc(func(v any) error {
		b, err := m.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
}

// jsonMarshaler writes messages as protojson does, with the proto's field
// names (keep_ttl) and unset fields left out, and refuses unknown fields.
func jsonMarshaler() *runtime.JSONPb {
	return &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}
}

// errorBody is the JSON of every error: the HTTP status as code, the gRPC
// status name, and a message.
type errorBody struct {
	Code    int    `json:"code"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// codeName spells a gRPC code as the proto enum does (NOT_FOUND), not as
// grpc-go's String (NotFound).
func codeName(c codes.Code) string {
	s := c.String()
	var b strings.Builder
	for i, r := range s {
		if i > 0 && unicode.IsUpper(r) && unicode.IsLower(rune(s[i-1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

func (e errorBody) marshal() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		return []byte(fmt.Sprintf(`{"code":%d}`, e.Code))
	}
	return b
}
