// Package remotewrite sends every sample the store accepts to the remotes
// of prometheus.yml's remote_write (Prometheus, Mimir, Thanos Receive,
// VictoriaMetrics, …) and loses none on the way: what a receiver cannot
// take yet waits in a bounded spool in the data directory, across restarts
// and SIGKILL, and is sent in order when it is back.
//
// # What it owns
//
// A Writer has the spool and one sender per remote. Writer.Append is the
// store's Options.OnCommit: each commit's accepted samples (scraped series
// with their staleness markers, vigil's own series, recording-rule
// results, ALERTS and ALERTS_FOR_STATE: everything the store takes)
// become one record of the spool, written before the commit returns.
// ApplyConfig sets the remotes (at start and on SIGHUP); Status says what
// each is doing, for vigil's own metrics and the console.
//
// The spool is a directory (SpoolDirName in the data directory, 0700) of
// segments, files of records (0600), a new one started each 1/16 of the
// bound and at each start. A record holds one commit: its header carries
// the body's length, sample count and CRC-32C; the body, compressed with
// snappy, defines the series the segment has not seen yet (ids from 0) and
// then each sample as its series' id, its timestamp's delta and its value
// XORed with the series' last one (record.go says where each byte goes).
// Each remote has a cursor file, replaced atomically (store/fileutil)
// after each chunk the receiver took: where in the spool the remote is.
// A segment is removed once every remote's cursor is past it.
//
// A remote's sender reads a chunk from its cursor on (up to shards ×
// max_samples_per_send samples, never across two segments, or what came
// within batch_send_deadline), splits it by series over the shards, sends
// the shards at once, and moves the cursor once every shard is through.
// The number of shards doubles (up to max_shards) while the remote is
// more than two batch_send_deadlines behind after full chunks that went
// through without retries, that is while the receiver takes samples
// slower than vigil spools them, and halves (down to min_shards) once it
// is within one deadline. Before sending, sample_age_limit, the external labels (a series'
// own label of the same name wins) and write_relabel_configs apply, as in
// Prometheus.
//
// The wire is Prometheus': Remote-Write 1.0 (prompb.WriteRequest) by
// default, 2.0 (io.prometheus.write.v2.Request, with each series' type
// from the targets' TYPE lines) when protobuf_message asks for it, snappy
// (klauspost/compress, which the spool's records use too: on top of the
// ids, deltas and XORed values zstd saved little more, for its encoder's
// memory and code; BenchmarkSpoolAppend measures the bytes). A 2.0 request that the receiver answers with 415,
// or with 2xx but none of 2.0's written-samples headers (how Prometheus
// 2.42 and VictoriaMetrics 1.79 answer: they read the body as 1.0 and
// store nothing), is sent again as 1.0, and so is everything after it
// until a reload or a restart; a warning says so. With metadata_config's
// send (the default), 1.0 remotes get the families' types in requests of
// their own every send_interval.
//
// # What it promises
//
//   - Every sample the store accepts is sent to each remote (unless its
//     write_relabel_configs or sample_age_limit leave it out), each
//     series' samples in the order the store took them, once, or counted
//     as dropped: never lost without a count.
//   - A 5xx, a 429 (unless retry_on_http_429 is false; vigil's default is
//     true, Prometheus' false) and a failed connection are tried again
//     with backoff from min_backoff to max_backoff, after Retry-After when
//     the receiver gives one (capped at 5 minutes). The samples wait in
//     the spool meanwhile, however long.
//   - Any other 4xx drops the request's samples: counted as failed, with
//     the receiver's message (one printable line, 512 bytes at most) in
//     the log and in Status.
//   - The spool holds at most its bound (--remote-write-spool, 1 GiB):
//     past it the oldest segment goes, and each remote that had not read
//     it counts its samples as dropped (reason spool_full). Memory does
//     not grow with the spool: a sender holds one chunk.
//   - SIGKILL: a record is written (write(2)) before the commit that made
//     it returns, so everything the store accepted is in the spool. The
//     cursor is replaced after each chunk; a kill between the receiver's
//     answer and that replacement sends the chunk again after the restart
//     (receivers take a sample they already hold with the same value;
//     Prometheus 2.42 refuses a request in which a series goes back in
//     time, and its samples count as failed although they are there).
//   - Power loss: the segment being written is fsynced every two seconds
//     and when it ends, a cursor on each write. A record torn by the loss
//     is cut off at the next start (the segment's checksums are verified
//     to its end); the samples of those last seconds are lost.
//   - A damaged record (a checksum that does not match) is never sent: the
//     rest of its segment is dropped and counted (reason damaged), since
//     later records refer to series it defined.
//   - A reload (ApplyConfig) keeps each remote's queue by name (the name,
//     or the URL without credentials): a remote whose config changed goes
//     on from its cursor with the new one (the request it had in flight
//     may go again); a remote no longer configured is forgotten, and the
//     samples it had not sent are logged as dropped. A restart that no
//     longer configures a remote does the same.
//   - Close gives each remote whose receiver answers FlushDeadline to send
//     what is queued; the rest waits in the spool for the next start.
//
// With no data directory (--data-dir "") the spool is in memory, bounded
// the same way, and lost on exit: the log says so when the first remote
// is configured, and Status (InMemory) tells the console.
//
// Ordering needs one writer per series, which vigil has (a scrape loop per
// target, a rule group per rule); see store.Options.OnCommit.
package remotewrite
