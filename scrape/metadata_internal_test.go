package scrape

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store"
)

const (
	ctText = "text/plain; version=0.0.4"
	ctOM   = "application/openmetrics-text; version=1.0.0"
)

// typesBody is a body that declares the families as "name type" pairs,
// one sample each (histograms and summaries get their _count).
func typesBody(fams ...string) string {
	var b strings.Builder
	for _, f := range fams {
		name, typ, _ := strings.Cut(f, " ")
		fmt.Fprintf(&b, "# HELP %s Help.\n# TYPE %s %s\n", name, name, typ)
		switch typ {
		case "histogram", "summary":
			fmt.Fprintf(&b, "%s_count 1\n%s_sum 2\n", name, name)
		default:
			fmt.Fprintf(&b, "%s 1\n", name)
		}
	}
	return b.String()
}

// TestFamilyTypes: a loop records the type of each family its target's
// TYPE lines declare, republishes only when the lines change, keeps the
// last good body's on a failed scrape, and bounds what a target makes it
// keep.
func TestFamilyTypes(t *testing.T) {
	db := store.New(store.Options{Retention: -1})
	defer db.Close()
	l := benchLoop(db, nil)
	ts := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC).UnixMilli()
	scrape := func(ct, body string) error {
		ts += 1000
		app := db.Appender()
		_, err := l.append(app, []byte(body), ct, ts)
		if err != nil {
			_ = app.Rollback()
			return err
		}
		return app.Commit()
	}
	pubID := func() uintptr { return reflect.ValueOf(l.types.published()).Pointer() }

	require.Nil(t, typeMap(l.types.published()), "nothing before the first body")
	body := typesBody("node_forks counter", "queue_items_total gauge", "http_request_duration_seconds histogram", "up_ish untyped")
	require.NoError(t, scrape(ctText, body))
	want := map[string]model.MetricType{
		"node_forks": "counter", "queue_items_total": "gauge",
		"http_request_duration_seconds": "histogram", "up_ish": "unknown",
	}
	require.Equal(t, want, typeMap(l.types.published()))
	id := pubID()

	for range 3 {
		require.NoError(t, scrape(ctText, body))
	}
	require.Equal(t, id, pubID(), "the same TYPE lines: nothing rebuilt")

	// A body that fails leaves the last good body's types.
	require.Error(t, scrape(ctText, typesBody("node_forks gauge")+"bad line {\n"))
	require.Equal(t, want, typeMap(l.types.published()))
	require.Equal(t, id, pubID())

	// A changed type, a family gone: published again.
	require.NoError(t, scrape(ctText, typesBody("node_forks counter", "queue_items_total counter")))
	require.Equal(t, map[string]model.MetricType{"node_forks": "counter", "queue_items_total": "counter"}, typeMap(l.types.published()))
	require.NoError(t, scrape(ctText, typesBody("node_forks counter")))
	require.Equal(t, map[string]model.MetricType{"node_forks": "counter"}, typeMap(l.types.published()))
	id = pubID()
	require.NoError(t, scrape(ctText, typesBody("node_forks counter")))
	require.Equal(t, id, pubID())

	// OpenMetrics names the family without _total.
	require.NoError(t, scrape(ctOM, "# TYPE jobs counter\njobs_total 3\n# EOF\n"))
	require.Equal(t, map[string]model.MetricType{"jobs": "counter"}, typeMap(l.types.published()))

	// A target that declares too much: the first MaxFamilyTypes are kept.
	var many []string
	for i := range MaxFamilyTypes + 10 {
		many = append(many, fmt.Sprintf("f%d gauge", i))
	}
	require.NoError(t, scrape(ctText, typesBody(many...)))
	pub := typeMap(l.types.published())
	require.Len(t, pub, MaxFamilyTypes)
	require.Contains(t, pub, "f0")
	require.NotContains(t, pub, fmt.Sprint("f", MaxFamilyTypes))

	// A name too long is read but not kept, and holds its place.
	long := strings.Repeat("x", MaxFamilyNameLen+1)
	require.NoError(t, scrape(ctText, typesBody(long+" counter", "short counter")))
	require.Equal(t, map[string]model.MetricType{"short": "counter"}, typeMap(l.types.published()))
	id = pubID()
	require.NoError(t, scrape(ctText, typesBody(long+" counter", "short counter")))
	require.Equal(t, id, pubID())
}

// TestFamilyTypesPublishedStays: what a loop published (Metadata may be
// reading it) is never written again, however the bodies after it change.
func TestFamilyTypesPublishedStays(t *testing.T) {
	var f familyTypes
	body := func(names ...string) {
		f.begin()
		for _, n := range names {
			f.see([]byte(n), model.MetricTypeGauge)
		}
		f.end()
	}
	body("a", "b")
	old := f.published()
	before := slices.Clone(old)
	for _, names := range [][]string{{"c", "d"}, {"e"}, {"f", "g", "h"}, {"a"}, {}} {
		body(names...)
		require.Equal(t, before, old, "after %q", names)
	}
	require.Empty(t, typeMap(f.published()))
}

// TestFamilyTypesSee holds see and end to names no parser lets through
// today (UTF-8 metric names are quoted, and may come to hold anything).
func TestFamilyTypesSee(t *testing.T) {
	var f familyTypes
	f.begin()
	for _, name := range []string{"ok_total", "esc\x1b[31m", "c1\u009b", "bad\xff", "", "ünïcode.name"} {
		f.see([]byte(name), model.MetricTypeCounter)
	}
	f.end()
	require.Equal(t, map[string]model.MetricType{"ok_total": "counter", "ünïcode.name": "counter"}, typeMap(f.published()))
}

// BenchmarkFamilyTypes is what the TYPE lines of an unchanged body cost
// a scrape: node_exporter's 282 families, as the loop sees them.
func BenchmarkFamilyTypes(b *testing.B) {
	body, err := os.ReadFile("../testdata/fleet/node_exporter.prom.txt")
	require.NoError(b, err)
	type decl struct {
		name []byte
		typ  model.MetricType
	}
	var decls []decl
	for _, line := range bytes.Split(body, []byte("\n")) {
		if f := bytes.Fields(line); len(f) == 4 && string(f[1]) == "TYPE" {
			decls = append(decls, decl{f[2], model.MetricType(f[3])})
		}
	}
	var f familyTypes
	b.ReportAllocs()
	for b.Loop() {
		f.begin()
		for _, d := range decls {
			f.see(d.name, d.typ)
		}
		f.end()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(decls)), "ns/family")
}

// FamilyTypes is what the loop publishes of its target's TYPE lines.
func (t *TestLoop) FamilyTypes() map[string]model.MetricType { return typeMap(t.l.types.published()) }

// typeMap is the type of each family kept, the last declaration winning;
// nil for none.
func typeMap(fams []family) map[string]model.MetricType {
	if fams == nil {
		return nil
	}
	m := map[string]model.MetricType{}
	for _, f := range fams {
		if !f.skip {
			m[f.name.Value()] = f.typ
		}
	}
	return m
}

// KeepFamilyName exposes the check on family names, for the fuzz test.
func KeepFamilyName(name string) bool { return keepName([]byte(name)) }
