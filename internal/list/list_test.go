package list

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// order returns the values front to back, walking Next, and checks that
// walking Prev from the back gives the same order reversed.
func order(t *testing.T, l *List[int]) []int {
	t.Helper()
	var fwd, back []int
	for n := l.Front(); n != nil; n = n.Next() {
		fwd = append(fwd, int(n.Hash))
	}
	for n := l.Back(); n != nil; n = n.Prev() {
		back = append(back, int(n.Hash))
	}
	slices.Reverse(back)
	require.Equal(t, fwd, back, "forward and backward walks disagree")
	require.Len(t, fwd, l.Len())
	return fwd
}

func nodes(n int) []*Node[int] {
	ns := make([]*Node[int], n)
	for i := range ns {
		ns[i] = &Node[int]{Hash: uint64(i)}
	}
	return ns
}

func TestList(t *testing.T) {
	t.Run("zero value is empty", func(t *testing.T) {
		var l List[int]
		assert.Zero(t, l.Len())
		assert.Nil(t, l.Front())
		assert.Nil(t, l.Back())
		n := &Node[int]{}
		assert.False(t, n.Linked())
		assert.Nil(t, n.Next())
		assert.Nil(t, n.Prev())
		l.Remove(n)      // not in l: no-op
		l.MoveToFront(n) // not in l: no-op
		assert.Zero(t, l.Len())
	})
	t.Run("In tells which list holds a node", func(t *testing.T) {
		var a, b List[int]
		n := &Node[int]{}
		assert.False(t, n.In(&a))
		a.PushFront(n)
		assert.True(t, n.In(&a))
		assert.False(t, n.In(&b))
		a.Remove(n)
		b.PushFront(n)
		assert.False(t, n.In(&a))
		assert.True(t, n.In(&b))
		b.Remove(n)
		assert.False(t, n.In(&b))
	})
	t.Run("push front and back", func(t *testing.T) {
		var l List[int]
		ns := nodes(4)
		l.PushFront(ns[1])
		l.PushFront(ns[0])
		l.PushBack(ns[2])
		l.PushBack(ns[3])
		assert.Equal(t, []int{0, 1, 2, 3}, order(t, &l))
		assert.True(t, ns[2].Linked())
	})
	t.Run("move to front", func(t *testing.T) {
		var l List[int]
		ns := nodes(4)
		for _, n := range ns {
			l.PushBack(n)
		}
		l.MoveToFront(ns[2])
		assert.Equal(t, []int{2, 0, 1, 3}, order(t, &l))
		l.MoveToFront(ns[3])
		assert.Equal(t, []int{3, 2, 0, 1}, order(t, &l))
		l.MoveToFront(ns[3]) // already front
		assert.Equal(t, []int{3, 2, 0, 1}, order(t, &l))
	})
	t.Run("remove", func(t *testing.T) {
		var l List[int]
		ns := nodes(3)
		for _, n := range ns {
			l.PushBack(n)
		}
		l.Remove(ns[1])
		assert.False(t, ns[1].Linked())
		assert.Equal(t, []int{0, 2}, order(t, &l))
		l.Remove(ns[1]) // twice: no-op
		assert.Equal(t, 2, l.Len())
		l.Remove(ns[0])
		l.Remove(ns[2])
		assert.Empty(t, order(t, &l))
		assert.Nil(t, l.Front())
	})
	t.Run("node of another list is left alone", func(t *testing.T) {
		var a, b List[int]
		ns := nodes(2)
		a.PushBack(ns[0])
		b.PushBack(ns[1])
		a.Remove(ns[1])
		a.MoveToFront(ns[1])
		assert.Equal(t, []int{0}, order(t, &a))
		assert.Equal(t, []int{1}, order(t, &b))
		a.PushFront(ns[1]) // moves it from b to a
		assert.Equal(t, []int{1, 0}, order(t, &a))
		assert.Empty(t, order(t, &b))
	})
}

// TestListAgainstSlice drives random operations against a slice model.
func TestListAgainstSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var l List[int]
	ns := nodes(32)
	var model []int
	for range 20000 {
		n := ns[r.IntN(len(ns))]
		i := slices.Index(model, int(n.Hash))
		switch r.IntN(4) {
		case 0:
			if i >= 0 {
				model = slices.Delete(model, i, i+1)
			}
			l.PushFront(n)
			model = slices.Insert(model, 0, int(n.Hash))
		case 1:
			if i >= 0 {
				model = slices.Delete(model, i, i+1)
			}
			l.PushBack(n)
			model = append(model, int(n.Hash))
		case 2:
			l.MoveToFront(n)
			if i >= 0 {
				model = slices.Insert(slices.Delete(model, i, i+1), 0, int(n.Hash))
			}
		case 3:
			l.Remove(n)
			if i >= 0 {
				model = slices.Delete(model, i, i+1)
			}
		}
		require.Equal(t, slices.Clip(append([]int{}, model...)), append([]int{}, order(t, &l)...))
	}
}

func TestListAllocs(t *testing.T) {
	var l List[int]
	ns := nodes(8)
	allocs := testing.AllocsPerRun(100, func() {
		for _, n := range ns {
			l.PushFront(n)
		}
		l.MoveToFront(ns[3])
		for _, n := range ns {
			l.Remove(n)
		}
	})
	assert.Zero(t, allocs)
}

func BenchmarkMoveToFront(b *testing.B) {
	var l List[int]
	ns := nodes(1024)
	for _, n := range ns {
		l.PushBack(n)
	}
	b.ReportAllocs()
	for i := range b.N {
		l.MoveToFront(ns[(i*7)&1023])
	}
}

func TestForget(t *testing.T) {
	var l List[int]
	var a, b Node[int]
	l.PushFront(&a)
	l.PushFront(&b)
	a.Forget()
	if a.Linked() || a.Prev() != nil || a.Next() != nil {
		t.Fatal("a forgotten node must read as unlinked")
	}
	var m List[int]
	m.PushFront(&a) // a forgotten node may join another list
	if !a.In(&m) || m.Len() != 1 || m.Front() != &a {
		t.Fatal("a forgotten node did not join a new list")
	}
}
