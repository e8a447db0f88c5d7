package admin

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardcache/shardcache/server"
)

// collector turns server.Stats into Prometheus metrics at scrape time, so
// the command path records into plain atomics and never into the
// client library.
type collector struct {
	srv *server.Server

	commands, commandSeconds, commandFailed, commandRejected    *prometheus.Desc
	hits, misses, evictions, expirations, keys, bytes, maxBytes *prometheus.Desc
	clients, connections, rejectedConns, errors                 *prometheus.Desc
	snapDuration, snapAge, snapOK, snapSaves, changes, loading  *prometheus.Desc
}

func newCollector(srv *server.Server) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("shardcached_"+name, help, labels, nil)
	}
	return &collector{
		srv:             srv,
		commands:        d("command_duration_seconds", "Time commands took, by command, as a histogram.", "command", "protocol"),
		commandSeconds:  d("command_seconds_total", "Total time spent in each command.", "command", "protocol"),
		commandFailed:   d("command_failed_total", "Commands that ran and answered an error.", "command", "protocol"),
		commandRejected: d("command_rejected_total", "Commands refused before running (arity, auth, OOM).", "command", "protocol"),
		hits:            d("keyspace_hits_total", "Reads that found their key."),
		misses:          d("keyspace_misses_total", "Reads that did not find their key."),
		evictions:       d("evicted_keys_total", "Keys evicted to respect maxmemory."),
		expirations:     d("expired_keys_total", "Keys removed because their TTL passed."),
		keys:            d("keys", "Keys held."),
		bytes:           d("used_memory_bytes", "Memory the keyspace accounts for (keys, values, per-entry overhead)."),
		maxBytes:        d("maxmemory_bytes", "The maxmemory bound; 0: none."),
		clients:         d("connected_clients", "Clients connected now."),
		connections:     d("connections_received_total", "Connections accepted."),
		rejectedConns:   d("rejected_connections_total", "Connections refused (maxclients, protected mode)."),
		errors:          d("error_replies_total", "Error replies, by error prefix.", "prefix"),
		snapDuration:    d("snapshot_last_duration_seconds", "How long the last snapshot took."),
		snapAge:         d("snapshot_age_seconds", "Seconds since the last successful snapshot (or the start)."),
		snapOK:          d("snapshot_last_ok", "1 if the last snapshot succeeded."),
		snapSaves:       d("snapshots_saved_total", "Snapshots written."),
		changes:         d("changes_since_last_save", "Writes not yet in a snapshot."),
		loading:         d("loading", "1 while a snapshot loads."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.commands, c.commandSeconds, c.commandFailed, c.commandRejected,
		c.hits, c.misses, c.evictions, c.expirations, c.keys, c.bytes, c.maxBytes,
		c.clients, c.connections, c.rejectedConns, c.errors,
		c.snapDuration, c.snapAge, c.snapOK, c.snapSaves, c.changes, c.loading} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.srv.Stats()
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, cs := range st.Commands {
		buckets := make(map[float64]uint64, len(cs.Bounds))
		for i, b := range cs.Bounds {
			buckets[b] = cs.Buckets[i]
		}
		ch <- prometheus.MustNewConstHistogram(c.commands, cs.Calls, cs.Duration.Seconds(), buckets, cs.Name, cs.Protocol.String())
		counter(c.commandSeconds, cs.Duration.Seconds(), cs.Name, cs.Protocol.String())
		counter(c.commandFailed, float64(cs.Failed), cs.Name, cs.Protocol.String())
		counter(c.commandRejected, float64(cs.Rejected), cs.Name, cs.Protocol.String())
	}
	counter(c.hits, float64(st.KeyspaceHits))
	counter(c.misses, float64(st.KeyspaceMisses))
	counter(c.evictions, float64(st.Evictions))
	counter(c.expirations, float64(st.Expirations))
	gauge(c.keys, float64(st.Keys))
	gauge(c.bytes, float64(st.UsedMemory))
	gauge(c.maxBytes, float64(st.MaxMemory))
	gauge(c.clients, float64(st.ConnectedClients))
	counter(c.connections, float64(st.ConnectionsReceived))
	counter(c.rejectedConns, float64(st.RejectedConnections))
	for p, n := range st.ErrorReplies {
		counter(c.errors, float64(n), p)
	}
	gauge(c.snapDuration, st.LastSaveDuration.Seconds())
	gauge(c.snapAge, time.Since(st.LastSave).Seconds())
	ok := 0.0
	if st.LastSaveOK {
		ok = 1
	}
	gauge(c.snapOK, ok)
	counter(c.snapSaves, float64(st.SnapshotsSaved))
	gauge(c.changes, float64(st.ChangesSinceLastSave))
	loading := 0.0
	if st.Loading {
		loading = 1
	}
	gauge(c.loading, loading)
}
