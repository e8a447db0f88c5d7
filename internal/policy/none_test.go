package policy

import "testing"

func TestNone(t *testing.T) {
	p := NewNone[int]()
	nodes := make([]Node[int], 3)
	for i := range nodes {
		p.Insert(&nodes[i])
	}
	p.Touch(&nodes[0])
	p.Remove(&nodes[1], false)
	if p.Len() != 2 {
		t.Fatalf("Len = %d, want 2", p.Len())
	}
	if v, ok := p.Victim(); ok || v != nil {
		t.Fatalf("Victim = %v, %v; None never evicts", v, ok)
	}
	for i := range nodes {
		if nodes[i].Linked() {
			t.Fatalf("node %d is linked: None keeps no list", i)
		}
	}
}
