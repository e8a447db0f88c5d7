package config

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  error
	}{
		{"0", 0, nil},
		{"12345", 12345, nil},
		{"1b", 1, nil},
		{"1k", 1000, nil},
		{"1K", 1000, nil},
		{"1kb", 1024, nil},
		{"1kB", 1024, nil},
		{"1KB", 1024, nil},
		{"1m", 1000000, nil},
		{"1mb", 1 << 20, nil},
		{"1g", 1000000000, nil},
		{"1gb", 1 << 30, nil},
		{"1Gb", 1 << 30, nil},
		{"01k", 1000, nil},
		{"", 0, nil},  // Redis: no digits is 0
		{"k", 0, nil}, //
		{"9223372036854775807", 1<<63 - 1, nil},
		{"1t", 0, ErrNotMemory},
		{"1tb", 0, ErrNotMemory},
		{" 1k", 0, ErrNotMemory},
		{"1 k", 0, ErrNotMemory},
		{"+5", 0, ErrNotMemory},
		{"-1", 0, ErrNotMemory},
		{"1.5", 0, ErrNotMemory},
		{"0x10", 0, ErrNotMemory},
		{"9223372036854775808", 0, ErrMemoryRange},
		{"99999999999gb", 0, ErrMemoryRange},
	}
	for _, tt := range tests {
		got, err := ParseMemory(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseSave(t *testing.T) {
	tests := []struct {
		in   string
		want []SaveRule
		err  bool
	}{
		{"", nil, false},
		{"900 1", []SaveRule{{900, 1}}, false},
		{"900 1 300 10", []SaveRule{{900, 1}, {300, 10}}, false},
		{"1 0", []SaveRule{{1, 0}}, false},
		{"0900 +1", []SaveRule{{900, 1}}, false}, // strtoll's leniency
		{"900 1 900 2", []SaveRule{{900, 1}, {900, 2}}, false},
		{"900", nil, true},
		{"900 1 300", nil, true},
		{"0 1", nil, true},
		{"-1 1", nil, true},
		{"1 -1", nil, true},
		{"1.5 1", nil, true},
		{"abc 1", nil, true},
		{" 900 1", nil, true},
		{"900  1", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseSave(tt.in)
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSave(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && !errors.Is(err, ErrSaveParams) {
			t.Errorf("ParseSave(%q): error %v is not ErrSaveParams", tt.in, err)
		}
		if err == nil && tt.in != "0900 +1" {
			if f := FormatSave(got); f != tt.in {
				t.Errorf("FormatSave(ParseSave(%q)) = %q", tt.in, f)
			}
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"   \t ", nil, false},
		{"port 6380", []string{"port", "6380"}, false},
		{"  port\t6380  ", []string{"port", "6380"}, false},
		{`save ""`, []string{"save", ""}, false},
		{`save "900 1 300 10"`, []string{"save", "900 1 300 10"}, false},
		{`requirepass "a\x41\tb\"c"`, []string{"requirepass", "aA\tb\"c"}, false},
		{`x "\n\r\a\b\q\\"`, []string{"x", "\n\r\a\bq\\"}, false},
		{`x "\x4"`, []string{"x", "x4"}, false}, // not two hex digits: \x is x
		{`x 'it\'s'`, []string{"x", "it's"}, false},
		{`x 'a\nb'`, []string{"x", `a\nb`}, false}, // no other escapes in single quotes
		{`x ab"cd"`, []string{"x", "abcd"}, false}, // a quote may open mid-argument
		{`x "a b" 'c d'`, []string{"x", "a b", "c d"}, false},
		{`x # not a comment`, []string{"x", "#", "not", "a", "comment"}, false},
		{`x "abc`, nil, true},
		{`x 'abc`, nil, true},
		{`x "abc"def`, nil, true},
		{`x 'abc'def`, nil, true},
	}
	for _, tt := range tests {
		got, err := SplitArgs(tt.in)
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && !errors.Is(err, ErrUnbalancedQuotes) {
			t.Errorf("SplitArgs(%q): error %v is not ErrUnbalancedQuotes", tt.in, err)
		}
	}
}
