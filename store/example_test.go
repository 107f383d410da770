package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/vigilterm/vigil/store"
)

// A store is written through Appenders and read by the PromQL engine.
func Example() {
	db := store.New(store.DefaultOptions())
	defer db.Close()

	start := time.Unix(1_700_000_000, 0)
	up := labels.FromStrings("__name__", "node_load1", "instance", "db1:9100", "job", "node")
	for i := range 5 {
		a := db.Appender() // one transaction per scrape
		if _, err := a.Append(0, up, start.Add(time.Duration(i)*15*time.Second).UnixMilli(), float64(i)); err != nil {
			panic(err)
		}
		if err := a.Commit(); err != nil {
			panic(err)
		}
	}

	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e6, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	q, err := engine.NewInstantQuery(context.Background(), db, nil, `max_over_time(node_load1[1m])`, start.Add(time.Minute))
	if err != nil {
		panic(err)
	}
	defer q.Close()
	fmt.Println(q.Exec(context.Background()).String())

	st := db.Stats()
	fmt.Println(st.Series, "series,", st.Samples, "samples")
	// Output:
	// {instance="db1:9100", job="node"} => 4 @[1700000060000]
	// 1 series, 5 samples
}

// Open keeps the store in a data dir; a second Open of it fails.
func ExampleOpen() {
	dir, cleanup := tempDir()
	defer cleanup()

	db, err := store.Open(dir, store.DefaultOptions())
	if err != nil {
		panic(err)
	}
	if w := db.Stats().Restore.Warning(); w != "" {
		fmt.Println("warning:", w) // a damaged snapshot: shown, not fatal
	}
	_, err = store.Open(dir, store.DefaultOptions())
	var locked *store.LockedError
	fmt.Println(errors.Is(err, store.ErrLocked), errors.As(err, &locked) && locked.PID > 0)
	if err := db.Close(); err != nil { // writes the last snapshot
		panic(err)
	}
	// Output:
	// true true
}

func tempDir() (string, func()) {
	dir, err := os.MkdirTemp("", "vigil-example-")
	if err != nil {
		panic(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}
