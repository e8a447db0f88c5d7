package shardcache

import (
	"errors"
	"runtime"
	"sync"

	"github.com/shardcache/shardcache/internal/frame"
)

// Saving is bound by memory latency: every entry, key and value it copies
// is a cache (and often a TLB) miss on data scattered over the heap, so one
// goroutine saves at a fraction of what the memory system can deliver.
// Large caches are therefore saved by several goroutines at once
// (saveWorkers). They still take the shards one at a time: the calling
// goroutine holds a shard's read lock while each worker copies the live
// entries of its share of the shard's table, then releases it while the
// workers encode their shares into finished blocks, which it writes in
// order. Memory stays at one shard's references, as with one goroutine,
// plus a few blocks per worker.

const (
	// maxSaveWorkers caps the goroutines that encode one save.
	maxSaveWorkers = 4
	// parallelSaveMin is the entry count from which a save uses more than
	// one goroutine; below it, starting them costs more than it saves.
	parallelSaveMin = 1 << 16
	// workerBlocks is how many block buffers a worker owns: the one it
	// fills, two in its channel and one being written.
	workerBlocks = 4
)

// saveWorkers returns how many goroutines encode a save of n entries.
func (c *Cache[K, V]) saveWorkers(n int) int {
	if n < parallelSaveMin {
		return 1
	}
	return max(1, min(runtime.GOMAXPROCS(0), maxSaveWorkers))
}

// saveTask is one worker's share of a shard: the slots of its table to
// copy, at clock time now, and the wall-clock offset to encode with.
type saveTask[K comparable, V any] struct {
	slots     []slot[K, V]
	now, wall int64
	hint      int // entries expected in slots
}

// saveMsg is what a worker hands the writer: a finished block of n
// records, the end of its share of a shard, or the error (or panic) that
// stopped it.
type saveMsg struct {
	block    []byte
	n        uint32
	shareEnd bool
	err      error
	panicked any // a value recovered from a panicking codec
}

// saveParallel saves with workers goroutines. For each shard in turn it
// takes the read lock, has worker j copy the j-th share of the table's
// slots, releases the lock once every worker has copied, and writes the
// blocks the workers then encode, worker 0's first: the same records in the
// same order as one goroutine writes, except that a block never spans two
// shares. A worker owns workerBlocks block buffers, which the writer hands
// back after writing them, and waits for one when all are in flight, so a
// save makes no garbage blocks. The first error stops every worker before
// saveParallel returns it; a codec panic is re-raised in the calling
// goroutine, as it would be with one goroutine.
func (c *Cache[K, V]) saveParallel(fw *frame.Writer, workers int) error {
	var (
		done   = make(chan struct{})
		tasks  = make([]chan saveTask[K, V], workers)
		outs   = make([]chan saveMsg, workers)
		spare  = make([]chan []byte, workers) // written blocks, back for reuse
		copied = make(chan struct{}, workers)
		wg     sync.WaitGroup
	)
	for j := range workers {
		tasks[j] = make(chan saveTask[K, V], 1)
		outs[j] = make(chan saveMsg, workerBlocks-2)
		spare[j] = make(chan []byte, workerBlocks) // never full: the writer never blocks on it
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.saveWorker(tasks[j], outs[j], spare[j], copied, done)
		}()
	}
	stop := func() {
		close(done)
		wg.Wait()
	}
	for i := range c.shards {
		now, wall := c.wallOffset()
		c.shards[i].readSlots(func(slots []slot[K, V], entries int) {
			for j := range workers {
				lo, hi := len(slots)*j/workers, len(slots)*(j+1)/workers
				tasks[j] <- saveTask[K, V]{slots: slots[lo:hi], now: now, wall: wall, hint: entries/workers + 1}
			}
			for range workers {
				<-copied // copying reads memory only: it cannot fail or block
			}
		})
		for j := range workers {
			for {
				m := <-outs[j]
				if m.panicked != nil {
					stop()
					panic(m.panicked)
				}
				if m.err != nil {
					stop()
					return m.err
				}
				if m.shareEnd {
					break
				}
				if err := fw.WriteBlock(m.block, m.n); err != nil {
					stop()
					return writeErr(err)
				}
				spare[j] <- m.block
			}
		}
	}
	stop()
	return nil
}

// saveWorker runs one worker of saveParallel: for each task it copies its
// share of a shard (while the writer holds the shard's read lock), reports
// on copied, then encodes the share into blocks sent on out and ends it
// with a shareEnd message. It returns when done is closed or after sending
// an error.
func (c *Cache[K, V]) saveWorker(tasks <-chan saveTask[K, V], out chan<- saveMsg, spare <-chan []byte, copied chan<- struct{}, done <-chan struct{}) {
	send := func(m saveMsg) bool {
		select {
		case out <- m:
			return true
		case <-done:
			return false
		}
	}
	defer func() {
		if r := recover(); r != nil {
			send(saveMsg{panicked: r})
		}
	}()
	owned := 1 // the encoder's first buffer
	enc := c.newShardEncoder(func(b []byte, n uint32) ([]byte, error) {
		if !send(saveMsg{block: b, n: n}) {
			return nil, errSaveStopped
		}
		if owned < workerBlocks {
			select {
			case b = <-spare:
				return b, nil
			default:
				owned++
				return nil, nil // flush allocates one
			}
		}
		select {
		case b = <-spare:
			return b, nil
		case <-done:
			return nil, errSaveStopped
		}
	})
	for {
		var t saveTask[K, V]
		select {
		case t = <-tasks:
		case <-done:
			return
		}
		enc.copy(t.slots, t.now, t.hint)
		copied <- struct{}{}
		err := enc.encode(t.wall)
		if err == nil {
			err = enc.flush()
		}
		if err != nil {
			send(saveMsg{err: err})
			return
		}
		if !send(saveMsg{shareEnd: true}) {
			return
		}
	}
}

// errSaveStopped ends a worker whose save was abandoned; it never reaches
// the caller, who returns the error that stopped the save.
var errSaveStopped = errors.New("shardcache: save stopped")
