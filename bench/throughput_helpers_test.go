package bench

import "testing"

func TestReadPattern(t *testing.T) {
	for _, mix := range mixes {
		p := readPattern(mix)
		n := 0
		for _, r := range p {
			if r {
				n++
			}
		}
		if n != mix {
			t.Errorf("readPattern(%d) has %d reads in 100", mix, n)
		}
	}
}

func TestConvert(t *testing.T) {
	ints := []uint64{1, 2, 1}
	if s := convert[string](ints); s[0] != s[2] || s[0] == s[1] {
		t.Errorf("convert[string] = %q", s)
	}
	if u := convert[uint64](ints); u[1] != 2 {
		t.Errorf("convert[uint64] = %v", u)
	}
	if keyTypeName[string]() != "string" || keyTypeName[uint64]() != "int" {
		t.Error("keyTypeName")
	}
}
