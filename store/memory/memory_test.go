package memory_test

import (
	"testing"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/store"
	"github.com/shardcache/shardcache/store/memory"
	"github.com/shardcache/shardcache/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := memory.New(shardcache.Config[string, []byte]{MaxEntries: 10000})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
