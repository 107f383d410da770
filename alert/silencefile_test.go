package alert

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/store"
)

func silenceManager(t testing.TB) *Manager {
	t.Helper()
	db := store.New(store.DefaultOptions())
	t.Cleanup(func() { _ = db.Close() })
	logger := slog.New(slog.DiscardHandler)
	m, err := NewManager(nil, Options{Queryable: db, Appendable: db, Engine: promql.NewEngine(DefaultEngineOptions(logger)), Logger: logger})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// TestSilencesSurviveRestart: a silence set from the console is in the
// data directory at once (0600), and the next vigil starts with it; one
// lifted or over is not brought back.
func TestSilencesSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), SilencesFileName)
	ctx := context.Background()
	now := time.Now()
	load := labels.FromStrings("alertname", "LoadHigh", "instance", "web1:9100", "job", "node")
	disk := labels.FromStrings("alertname", "DiskFull", "instance", "db\x1b[2J:9100", "job", "node")
	gone := labels.FromStrings("alertname", "Gone", "job", "node")

	first := NewSilenceFile(silenceManager(t), path)
	require.NoError(t, first.Silence(ctx, load, now.Add(4*time.Hour)))
	require.NoError(t, first.Silence(ctx, disk, now.Add(15*time.Minute)))
	require.NoError(t, first.Silence(ctx, gone, now.Add(time.Hour)))
	require.NoError(t, first.Silence(ctx, gone, time.Time{})) // lifted
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	leftovers, err := filepath.Glob(path + ".*.tmp")
	require.NoError(t, err)
	require.Empty(t, leftovers)

	// A save that a crash stopped before its rename left its temporary
	// file; the next start sweeps it.
	stale := path + ".123456.tmp"
	require.NoError(t, os.WriteFile(stale, []byte("[{"), 0o600))

	second := silenceManager(t)
	n, err := NewSilenceFile(second, path).Restore(now)
	require.NoFileExists(t, stale)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.True(t, second.SilencedUntil(load, now).Equal(now.Add(4*time.Hour).UTC()), "%v", second.SilencedUntil(load, now))
	require.False(t, second.SilencedUntil(disk, now).IsZero())
	require.True(t, second.SilencedUntil(gone, now).IsZero())

	// Twenty minutes on, the 15-minute silence is over: not restored.
	third := silenceManager(t)
	n, err = NewSilenceFile(third, path).Restore(now.Add(20 * time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.True(t, third.SilencedUntil(disk, now.Add(20*time.Minute)).IsZero())

	// No file: nothing, and no error.
	n, err = NewSilenceFile(silenceManager(t), filepath.Join(t.TempDir(), SilencesFileName)).Restore(now)
	require.NoError(t, err)
	require.Zero(t, n)
}

// TestSilencesFileDamaged: a damaged entry loses that entry, with an error
// that names the file and the entry; bytes that are not JSON lose the
// file, with the line and column.
func TestSilencesFileDamaged(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), SilencesFileName)
	until := now.Add(time.Hour).Format(time.RFC3339)
	body := `[
  {"labels": {"alertname": "A", "job": "node"}, "until": "` + until + `"},
  {"labels": {"alertname": "B"}, "until": "` + until + `", "by": "someone"},
  {"labels": {"alertname": "C"}, "until": "tomorrow"},
  {"labels": {}, "until": "` + until + `"},
  {"labels": {"alertname": "D", "": "x"}, "until": "` + until + `"},
  {"labels": {"alertname": "E"}, "until": "2020-01-01T00:00:00Z"}
]`
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	m := silenceManager(t)
	n, err := NewSilenceFile(m, path).Restore(now)
	require.Equal(t, 1, n)
	require.False(t, m.SilencedUntil(labels.FromStrings("alertname", "A", "job", "node"), now).IsZero())
	require.Error(t, err)
	for _, want := range []string{path + ": entry 2: json: unknown field \"by\"", "entry 3: ", "entry 4: no labels", "entry 5: labels"} {
		require.ErrorContains(t, err, want)
	}
	require.NotContains(t, err.Error(), "entry 1:")
	require.NotContains(t, err.Error(), "entry 6:", "a silence that is over is no error")

	require.NoError(t, os.WriteFile(path, []byte("[\n  {\"labels\": {\"alertname\": \"A\"},\n  oops\n]"), 0o600))
	n, err = NewSilenceFile(silenceManager(t), path).Restore(now)
	require.Zero(t, n)
	require.ErrorContains(t, err, path+": line 3, column 3: invalid character 'o'")
}

// FuzzParseSilences: whatever the file holds, reading it does not panic,
// keeps only valid silences in force, within MaxSilences, and what
// it keeps is written and read back the same.
func FuzzParseSilences(f *testing.F) {
	f.Add([]byte(`[{"labels": {"alertname": "A"}, "until": "2030-01-01T00:00:00Z"}]`))
	f.Add([]byte(`[{"labels": {"alertname": "A", "x": "\u001b[2J"}, "until": "2030-01-01T00:00:00+02:00"}, {"labels": null}]`))
	f.Add([]byte(`{"labels": {}}`))
	f.Add([]byte(`[1, "a", null, {"until": 5}]`))
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, _ := parseSilences(b, now)
		require.LessOrEqual(t, len(ss), MaxSilences)
		for _, s := range ss {
			require.False(t, s.Labels.IsEmpty())
			require.True(t, now.Before(s.Until))
		}
		path := filepath.Join(t.TempDir(), SilencesFileName)
		require.NoError(t, writeSilences(path, ss))
		again, err := readSilences(path, now)
		require.NoError(t, err)
		require.Len(t, again, len(ss))
		for i := range ss {
			require.True(t, labels.Equal(ss[i].Labels, again[i].Labels), "%s != %s", ss[i].Labels, again[i].Labels)
			require.True(t, ss[i].Until.Equal(again[i].Until))
		}
	})
}

// TestSilencesFileFormat pins the file's format, which an operator may
// read or edit: an array of labels and an RFC 3339 until.
func TestSilencesFileFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), SilencesFileName)
	until := time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC)
	require.NoError(t, writeSilences(path, []Silenced{{Labels: labels.FromStrings("alertname", "A", "job", "node"), Until: until}}))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var got []map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	require.Equal(t, []map[string]any{{"labels": map[string]any{"alertname": "A", "job": "node"}, "until": "2026-12-05T16:00:00Z"}}, got)
}
