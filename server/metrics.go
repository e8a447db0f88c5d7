package server

import "time"

// Stats is a point-in-time view of the server's counters, for the admin
// server's /metrics. Counters are exact; fields are read one by one, so
// under load they are not one atomic snapshot.
type Stats struct {
	Commands []CommandStats // every command that has been called, by Redis's stats name

	KeyspaceHits, KeyspaceMisses uint64
	Evictions, Expirations       uint64
	Keys                         int
	UsedMemory, MaxMemory        int64

	ConnectedClients    int64
	ConnectionsReceived uint64
	RejectedConnections uint64
	CommandsProcessed   uint64
	ErrorReplies        map[string]uint64 // by prefix: ERR, WRONGPASS, OOM, ...

	Loading                  bool
	ChangesSinceLastSave     int64
	LastSave                 time.Time // of the last successful snapshot, or the start
	LastSaveOK               bool
	LastSaveDuration         time.Duration
	SnapshotsSaved           uint64
	BackgroundSaveInProgress bool
}

// CommandStats is one command's calls and latency histogram.
type CommandStats struct {
	Name             string
	Protocol         Protocol // the API the calls came in on
	Calls            uint64
	Duration         time.Duration // total time in the command
	Failed, Rejected uint64
	// Buckets[i] counts calls that took at most Bounds[i] seconds
	// (cumulative, as Prometheus histograms are); Calls counts all.
	Buckets []uint64
	Bounds  []float64
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	cs := s.cache.Stats()
	st := Stats{
		KeyspaceHits:             s.keyspaceHits.Load(),
		KeyspaceMisses:           s.keyspaceMisses.Load(),
		Evictions:                cs.Evictions,
		Expirations:              cs.Expirations,
		Keys:                     cs.Entries,
		UsedMemory:               cs.Cost,
		MaxMemory:                s.set.maxMemory.Load(),
		ConnectedClients:         s.clients.n.Load(),
		ConnectionsReceived:      s.connectionsReceived.Load(),
		RejectedConnections:      s.rejectedConns.Load(),
		CommandsProcessed:        s.commandsProcessed.Load(),
		ErrorReplies:             map[string]uint64{},
		Loading:                  s.persist.loading.Load(),
		ChangesSinceLastSave:     s.dirty.Load(),
		LastSave:                 time.Unix(s.persist.lastSave.Load(), 0),
		LastSaveOK:               s.persist.lastStatusOK.Load(),
		LastSaveDuration:         time.Duration(s.persist.lastDuration.Load()),
		SnapshotsSaved:           s.persist.saves.Load(),
		BackgroundSaveInProgress: s.persist.running.Load(),
	}
	s.eachErrorStat(func(p string, n uint64) { st.ErrorReplies[p] = n })
	bounds := make([]float64, latencyBuckets)
	for i := range bounds {
		bounds[i] = bucketBound(i)
	}
	s.eachCommandStats(func(name string, set *cmdStatsSet) {
		for p := range set {
			c := &set[p]
			calls := c.calls.Load()
			if calls == 0 && c.rejected.Load() == 0 && c.failed.Load() == 0 {
				continue
			}
			b := make([]uint64, latencyBuckets)
			var cum uint64
			for i := range b {
				cum += c.buckets[i].Load()
				b[i] = cum
			}
			st.Commands = append(st.Commands, CommandStats{
				Name: name, Protocol: Protocol(p), Calls: calls, Duration: time.Duration(c.usec.Load()) * time.Microsecond,
				Failed: c.failed.Load(), Rejected: c.rejected.Load(), Buckets: b, Bounds: bounds,
			})
		}
	})
	return st
}
