package store

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func TestSlab(t *testing.T) {
	var s slab[chunk]
	defer s.done()
	a := s.take(3)
	b := s.take(2)
	require.Len(t, a, 3)
	require.Equal(t, 3, cap(a), "capped, so an append cannot reach the next piece")
	a = append(a, chunk{maxt: 7})
	require.Equal(t, chunk{}, b[0], "the neighbour is untouched")
	b[1].maxt = 9
	require.Equal(t, int64(0), a[0].maxt)

	n := slabBytes / int(unsafe.Sizeof(chunk{})) / 2 // half a slab of chunks: an allocation of its own
	big := s.take(n)
	require.Len(t, big, n)
	c := s.take(1)
	require.Equal(t, chunk{}, c[0])
	require.Empty(t, s.take(0))
}
