// Package store is vigil's embedded time-series database: an in-memory,
// compressed ring buffer of recent samples that the PromQL engine queries
// directly and that survives restarts through snapshots.
//
// # What it owns
//
// Series are identified by their labels.Labels. Each keeps its samples in
// Gorilla-compressed chunks from Prometheus' tsdb/chunkenc, cut at 120
// samples, or sooner when a chunk would span more than a quarter of the
// retention (a 10m retention at a 5s interval would otherwise hold between
// one and two 10-minute chunks per series, and memory would swing by a chunk
// instead of staying flat). The encoding is EncXOR2, which holds real
// node_exporter scrapes in fewer bytes than EncXOR, chunk headers included,
// at the same append cost (BenchmarkCompression, BenchmarkAppend): it packs
// timestamp deltas by byte and gives staleness markers a 5-bit code. Many of
// those bytes were the jitter of values printed as decimals, such as
// node_scrape_collector_duration_seconds' 0.000532127, whose binary
// mantissas never end. So a chunk may hold its values times a power of ten,
// as integers, when every one of them comes back to the bit on division, or
// on multiplying by the inverse (its scale, a byte before its chunkenc
// bytes; see scale.go), which takes most of that jitter's cost away in
// either encoding. BenchmarkCompression measures the bytes a sample with and
// without scaling, BenchmarkCompressionBreakdown where they go. A series'
// chunks form a ring, the oldest dropped once wholly older than the store's
// newest sample minus Options.Retention (measured from the data, not the
// wall clock, so a restored store keeps what it had): when the series cuts
// its next chunk, or at the next collection for a series that stopped. Once
// half of the oldest chunk is past the retention it is re-encoded without
// those samples (once per chunk), so a series holds the retention and at
// most half a chunk more, not a whole one: the ring's memory stays near what
// it was when it first filled (BenchmarkRingSoak). A series with nothing
// left inside the retention leaves the store and its index.
// Options.MaxSeries bounds the number of series: past it new series are
// refused and counted, existing ones go on. The series vigil needs to
// alert at all, written by Appender.AppendReserved (each target's up and
// other synthetic scrape series, ALERTS, ALERTS_FOR_STATE, vigil's own
// metrics), are a reserve outside that bound, counted apart
// (Stats.ReservedSeries): a full store never hides a target going down.
//
// Series live in 256 lock stripes chosen by label hash (as Prometheus'
// stripeSeries); a series ref carries its stripe and its slot in the
// stripe, so finding a series by ref is a slice index, and an id that is
// never reused, so a stale ref (the series was collected) falls back to the
// labels.
// An inverted index with its own lock answers =, !=, =~ and !~ matchers,
// label names and label values; only creating and collecting series write
// it, so appends to existing series never wait for a query.
//
// # What it promises
//
//   - Append is safe from many goroutines. An Appender is one transaction:
//     nothing is visible before Commit, Rollback drops it all.
//   - Out-of-order samples (ErrOutOfOrder), samples at the newest timestamp
//     with another value (ErrDuplicate), samples past the retention
//     (ErrTooOld) and new ordinary series beyond MaxSeries
//     (ErrTooManySeries) are refused with those errors and counted in
//     Stats, never merged. The same sample appended twice is accepted once,
//     as in Prometheus.
//   - Staleness markers (value.StaleNaN) are stored bit for bit and honoured
//     by queries, as in Prometheus.
//   - Options.OnCommit, when set, sees every sample a Commit accepted, in
//     append order, and no other: how remote write (store/remotewrite)
//     forwards what the store holds.
//   - DB implements storage.Queryable: a Select copies what it needs under
//     each series' stripe lock for a moment and evaluates outside it, so a
//     query never blocks scraping for more than that.
//   - Memory is bounded by retention × series, plus half a chunk per
//     series (a chunk spans at most a quarter of the retention); for a
//     series that stopped, plus about 1/16 of the retention (collection
//     runs each time the newest sample moves on by that much).
//
// A sample far in the future moves the retention window with it: the store
// trusts the timestamps it is given (vigil's scrape loop stamps samples with
// the scrape time).
//
// # Snapshots
//
// A DB from Open keeps its data in a directory (0700) with a lock file
// (LOCK, flock(2)ed, holding the owner's pid: a second Open fails with a
// *LockedError naming it) and one snapshot, vigil.snapshot (0600), written
// every Options.SnapshotInterval and on Close. A snapshot replaces the old
// one atomically (store/fileutil): a crash at any moment leaves the old
// snapshot or the new one, never a mix; stale temporary files are removed
// on Open.
// Each stripe's chunk list and open head chunks are copied under its lock
// and encoded after, so appends go on while a snapshot is written. A failed
// write (read-only or full disk) leaves the store running and the old
// snapshot intact; the error is in Stats().LastSnapshot.
//
// The file's format, its versions and what a reader does with a damaged
// file are written down once, in docs/snapshot-format.md. A restore reads
// the file into one buffer and decodes it on several goroutines; the
// restored chunks point into that buffer, which lives until the last of
// them leaves the ring: for one retention after a start the store holds up
// to the snapshot's size on top of its own. When a snapshot holds more
// series than MaxSeries, which of them are loaded is not defined.
//
// Restoring drops what is past the retention, measured from the header's
// newest sample. A damaged file never fails Open and is never loaded
// silently: what verified is loaded (the format's page says what that is),
// the file is renamed to vigil.snapshot.damaged-<UTC time>, and
// Stats().Restore says how many series and samples were lost
// (RestoreReport.Warning is the line for the operator). OpenSnapshot reads
// the same file without the lock and without writing anything, for `vigil
// query` beside a running vigil; its Options.Retention applies as for Open,
// so pass a long or negative one to load everything the snapshot holds. It
// fails with ErrNoSnapshot when there is none.
//
// A checksum proves chunk bytes are what was written, not that the writer
// was sound: should a chunk not decode, queries over it end in an iterator
// error rather than wrong samples (FuzzDecodeSeriesRecord holds the decoder
// and the restore to that).
//
// A data dir on a read-only file system still opens: the snapshot is
// loaded, an existing lock file is locked read-only, and each snapshot
// attempt fails and is reported. A full disk fails the snapshot the same
// way; the temporary file is removed and the old snapshot stays.
package store
