package remote

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/tui"
)

func warningsText(s *Source) string {
	var parts []string
	for _, w := range s.Warnings() {
		parts = append(parts, w.Source+": "+w.Text)
	}
	return strings.Join(parts, "\n")
}

// TestNotServed: a remote without targets, rules, alerts or metadata
// (Mimir has no /api/v1/targets) is not reported, which the console says
// in place; nothing of it is an empty list, and the remote is not
// unreachable for it.
func TestNotServed(t *testing.T) {
	f := newFakeAPI(t)
	f.setData("/api/v1/query", map[string]any{"resultType": "scalar", "result": []any{1700000000, "1"}})
	s := newTestSource(t, f, Options{})

	require.ErrorIs(t, s.TargetSource().(tui.Reporting).Reporting(), errNotYet, "before the first answer")
	s.Start()
	for name, src := range map[string]tui.Reporting{
		"targets": s.TargetSource().(tui.Reporting), "rules": s.RuleSource().(tui.Reporting), "alerts": s.AlertSource().(tui.Reporting),
	} {
		require.Eventually(t, func() bool { return errors.Is(src.Reporting(), tui.ErrNotReported) }, 10*time.Second, 10*time.Millisecond, name)
		require.ErrorContains(t, src.Reporting(), "it serves no /api/v1/"+name)
	}
	require.Empty(t, s.TargetSource().Targets())
	require.Empty(t, s.AlertSource().Alerts())
	_, err := s.Range(context.Background(), "up", time.Now().Add(-time.Minute), time.Now(), time.Second)
	require.ErrorContains(t, err, "is --source the API's base", "every engine serves query_range: a 404 is a wrong URL")
	_, err = s.Metadata(context.Background(), "")
	require.ErrorIs(t, err, tui.ErrNotReported)
	require.Empty(t, warningsText(s), "a remote that answers 404 answers")

	// What is not served is not asked again at every poll; the remote's
	// reachability is asked of the cheapest query instead.
	time.Sleep(300 * time.Millisecond)
	targets, _ := f.stats("/api/v1/targets")
	queries, _ := f.stats("/api/v1/query")
	require.Equal(t, 1, targets)
	require.Greater(t, queries, 3)
}

// TestEmptyAnswers: VictoriaMetrics answers metadata with nothing, and
// rules and alerts with empty lists when it has no -vmalert.proxyURL: not
// reported either.
func TestEmptyAnswers(t *testing.T) {
	f := newFakeAPI(t)
	f.setData("/api/v1/targets", map[string]any{"activeTargets": []any{}, "droppedTargets": []any{}})
	f.setData("/api/v1/rules", map[string]any{"groups": []any{}})
	f.setData("/api/v1/alerts", map[string]any{"alerts": []any{}})
	f.setData("/api/v1/metadata", map[string]any{})
	s := newTestSource(t, f, Options{})
	s.Start()
	for _, src := range []tui.Reporting{s.TargetSource().(tui.Reporting), s.RuleSource().(tui.Reporting), s.AlertSource().(tui.Reporting)} {
		require.Eventually(t, func() bool { return errors.Is(src.Reporting(), tui.ErrNotReported) }, 10*time.Second, 10*time.Millisecond)
	}
	require.ErrorContains(t, s.AlertSource().(tui.Reporting).Reporting(), "it lists no rules and no alerts")
	_, err := s.Metadata(context.Background(), "")
	require.ErrorIs(t, err, tui.ErrNotReported)
	require.ErrorContains(t, err, "its metadata is empty")

	// Rules that arrive later are read: the remote is asked again.
	f.setData("/api/v1/rules", rulesData(alertingRule("TargetDown", alert("db1:9100", "firing"))))
	s2 := newTestSource(t, f, Options{})
	s2.Start()
	require.Eventually(t, func() bool { return len(s2.RuleSource().Rules()) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, s2.RuleSource().(tui.Reporting).Reporting())
	require.NoError(t, s2.AlertSource().(tui.Reporting).Reporting(), "with rules, no alerts would be all quiet")
}

// TestTargets: Prometheus' targets in the console's types; the samples
// and series the API does not give come from the scrapes' own series,
// and are not known (-1) where the remote has none.
func TestTargets(t *testing.T) {
	f := newFakeAPI(t)
	f.setData("/api/v1/targets", map[string]any{"activeTargets": []any{
		promTarget("db1:9100", "up", ""), promTarget("db2:9100", "down", "connection refused"), promTarget("db3:9100", "unknown", ""),
	}})
	f.set("/api/v1/query", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		switch r.Form.Get("query") {
		case samplesExpr:
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"__name__":"scrape_samples_scraped","instance":"db1:9100","job":"node"},"value":[1700000000,"1421"]},
				{"metric":{"__name__":"scrape_samples_scraped","instance":"db2:9100","job":"node"},"value":[1700000000,"0"]}]}}`)
		case seriesExpr:
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"__name__":"scrape_samples_post_metric_relabeling","instance":"db1:9100","job":"node"},"value":[1700000000,"1400"]}]}}`)
		default:
			http.Error(w, "unexpected query", http.StatusBadRequest)
		}
	})
	s := newTestSource(t, f, Options{})
	s.Start()
	require.Eventually(t, func() bool { return len(s.TargetSource().Targets()) == 3 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, s.TargetSource().(tui.Reporting).Reporting())
	ts := s.TargetSource().Targets()
	require.Equal(t, tui.Target{
		Job: "node", Instance: "db1:9100", URL: "http://db1:9100/metrics", Labels: labels.FromStrings("instance", "db1:9100", "job", "node"),
		Health: tui.TargetUp, LastScrape: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), LastDuration: 12 * time.Millisecond,
		LastSamples: 1421, Series: 1400, ScrapeInterval: 15 * time.Second, ScrapeTimeout: 10 * time.Second,
	}, ts[0])
	require.Equal(t, tui.TargetDown, ts[1].Health)
	require.Equal(t, "connection refused", ts[1].LastError)
	require.Equal(t, 0, ts[1].LastSamples)
	require.Equal(t, -1, ts[1].Series, "no series of the scrapes: not known")
	require.Equal(t, tui.TargetUnknown, ts[2].Health)
	require.Equal(t, -1, ts[2].LastSamples)

	// The API's request: active targets only (the dropped ones of a
	// Kubernetes Prometheus run to megabytes).
	var query string
	f.set("/api/v1/targets", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		query = r.URL.RawQuery
		f.mu.Unlock()
		fmt.Fprint(w, `{"status":"success","data":{"activeTargets":[]}}`)
	})
	require.Eventually(t, func() bool { f.mu.Lock(); defer f.mu.Unlock(); return query != "" }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, "state=active", query)
}

// TestBounds: an answer larger than MaxBytes fails its call, with or
// without a Content-Length, and says why; one with more series than
// MaxSeries is cut, and the header says so.
func TestBounds(t *testing.T) {
	f := newFakeAPI(t)
	big := `{"status":"success","data":{"resultType":"vector","result":[` +
		strings.Repeat(`{"metric":{"__name__":"x","pad":"`+strings.Repeat("a", 1000)+`"},"value":[1700000000,"1"]},`, 2000) +
		`{"metric":{},"value":[1700000000,"1"]}]}}`
	f.set("/api/v1/query", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
		}
		_, _ = w.Write([]byte(big))
	})
	s := newTestSource(t, f, Options{MaxBytes: 1 << 20})
	_, err := s.Instant(context.Background(), "x", time.Now())
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorContains(t, err, "more than 1 MiB, the most the console reads of one answer: narrow the query")

	var series []string
	for i := range 30 {
		series = append(series, fmt.Sprintf(`{"metric":{"__name__":"up","instance":"h%02d"},"value":[1700000000,"1"]}`, i))
	}
	f.set("/api/v1/query", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[`+strings.Join(series, ",")+`]}}`)
	})
	s = newTestSource(t, f, Options{MaxSeries: 10})
	v, err := s.Instant(context.Background(), "up", time.Now())
	require.NoError(t, err)
	require.Len(t, v.(promql.Vector), 10)
	require.Contains(t, warningsText(s), `remote query of "up" cut to its first 10 series: narrow it`)

	// Without MaxSeries (vigil query), nothing is cut.
	s = newTestSource(t, f, Options{MaxSeries: -1})
	v, err = s.Instant(context.Background(), "up", time.Now())
	require.NoError(t, err)
	require.Len(t, v.(promql.Vector), 30)
	require.Empty(t, warningsText(s))
}

// TestChunkedTooLarge: a body without a length is cut as it is read.
func TestChunkedTooLarge(t *testing.T) {
	f := newFakeAPI(t)
	f.set("/api/v1/query", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[`)
		for i := range 100000 {
			if i > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, `{"metric":{"i":"%d"},"value":[1700000000,"1"]}`, i)
			if i%1000 == 0 {
				w.(http.Flusher).Flush()
			}
		}
		fmt.Fprint(w, `]}}`)
	})
	s := newTestSource(t, f, Options{MaxBytes: 64 << 10})
	_, err := s.Instant(context.Background(), "x", time.Now())
	require.ErrorIs(t, err, ErrTooLarge)
}

// TestUnreachable: when the remote stops answering, the header says so
// and since when, what was read stays, and the header clears when the
// remote is back.
func TestUnreachable(t *testing.T) {
	f := newFakeAPI(t)
	f.setData("/api/v1/targets", map[string]any{"activeTargets": []any{promTarget("db1:9100", "up", "")}})
	f.setData("/api/v1/rules", rulesData(alertingRule("TargetDown")))
	now := time.Date(2026, 11, 24, 10, 4, 5, 0, time.UTC)
	s := newTestSource(t, f, Options{Now: func() time.Time { return now }, Location: time.UTC})
	s.Start()
	require.Eventually(t, func() bool { return len(s.TargetSource().Targets()) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.Empty(t, warningsText(s))

	f.stop()
	require.Eventually(t, func() bool { return strings.Contains(warningsText(s), "unreachable") }, 10*time.Second, 10*time.Millisecond)
	require.Contains(t, warningsText(s), "remote "+f.url().String()+" unreachable since 10:04:05: ")
	require.Contains(t, warningsText(s), "connection refused")
	since, _ := s.Unreachable()
	require.Equal(t, now, since)
	require.Len(t, s.TargetSource().Targets(), 1, "what was read stays")
	require.NoError(t, s.TargetSource().(tui.Reporting).Reporting())

	f.restart()
	require.Eventually(t, func() bool { return warningsText(s) == "" }, 10*time.Second, 10*time.Millisecond)
	since, _ = s.Unreachable()
	require.True(t, since.IsZero())
}

// TestNeverReached: a remote that never answered leaves the lists not
// known, saying why, rather than empty.
func TestNeverReached(t *testing.T) {
	f := newFakeAPI(t)
	f.stop()
	s := newTestSource(t, f, Options{})
	s.Start()
	require.Eventually(t, func() bool { return strings.Contains(warningsText(s), "unreachable") }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		err := s.TargetSource().(tui.Reporting).Reporting()
		return err != nil && strings.Contains(err.Error(), "not known")
	}, 10*time.Second, 10*time.Millisecond)
	require.NotErrorIs(t, s.TargetSource().(tui.Reporting).Reporting(), tui.ErrNotReported)
}

// TestSlowRemote: a remote that takes longer than the timeout to answer
// is asked one request of a kind at a time, never a pile of them; the
// header says it does not answer; the lists answer at once all along.
func TestSlowRemote(t *testing.T) {
	f := newFakeAPI(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
		http.Error(w, "late", http.StatusServiceUnavailable)
	}
	f.set("/api/v1/targets", slow)
	f.set("/api/v1/rules", slow)
	s := newTestSource(t, f, Options{Poll: time.Millisecond, Timeout: 50 * time.Millisecond})
	s.Start()
	require.Eventually(t, func() bool { return strings.Contains(warningsText(s), "no answer within 50ms") }, 10*time.Second, 5*time.Millisecond)
	for range 100 {
		done := make(chan struct{})
		go func() {
			_ = s.TargetSource().Targets()
			_ = s.AlertSource().Alerts()
			_ = s.RuleSource().Rules()
			_ = s.Warnings()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a list waited on the remote")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, p := range []string{"/api/v1/targets", "/api/v1/rules"} {
		calls, most := f.stats(p)
		require.Greater(t, calls, 2, p)
		require.Equal(t, 1, most, "%s: requests piled up", p)
	}
}

// TestSecretsNeverShown: passwords, tokens and secret headers of the
// client config appear in no error, warning or log, even when the remote
// echoes them back.
func TestSecretsNeverShown(t *testing.T) {
	const password, token, header = "hunter2-pass", "s3cr3t-token-xyz", "header-secret-42"
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
	for _, tc := range []struct {
		name, config string
	}{
		{"basic auth", "basic_auth: {username: ops, password: " + password + "}\nhttp_headers: {X-Scope-OrgID: {secrets: [" + header + "]}}\n"},
		{"bearer file", "authorization: {credentials_file: " + tokenFile + "}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfgFile := filepath.Join(dir, "source.yml")
			require.NoError(t, os.WriteFile(cfgFile, []byte(tc.config), 0o600))
			cfg, err := LoadClientConfig(cfgFile)
			require.NoError(t, err)

			f := newFakeAPI(t)
			echo := func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"you sent %s and %s"}`, r.Header.Get("Authorization"), r.Header.Get("X-Scope-OrgID"))
			}
			for _, p := range []string{"/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels", "/api/v1/label/job/values", "/api/v1/metadata", "/api/v1/targets", "/api/v1/rules", "/api/v1/alerts"} {
				f.set(p, echo)
			}
			var log syncBuffer
			s := newTestSource(t, f, Options{Client: &cfg, Logger: newTextLogger(&log)})
			s.Start()

			var texts []string
			_, err = s.Instant(context.Background(), "up", time.Now())
			require.ErrorContains(t, err, "you sent", "the remote's error is shown")
			texts = append(texts, err.Error())
			_, err = s.Range(context.Background(), "up", time.Now().Add(-time.Minute), time.Now(), time.Second)
			texts = append(texts, err.Error())
			_, err = s.Series(context.Background(), time.Now().Add(-time.Minute), time.Now(), 10, labels.MustNewMatcher(labels.MatchEqual, "job", "x"))
			texts = append(texts, err.Error())
			_, err = s.LabelValues(context.Background(), "job", time.Now().Add(-time.Minute), time.Now())
			texts = append(texts, err.Error())
			_, err = s.Metadata(context.Background(), "")
			texts = append(texts, err.Error())
			require.Eventually(t, func() bool { return strings.Contains(warningsText(s), "remote targets") }, 10*time.Second, 10*time.Millisecond)
			require.Eventually(t, func() bool { return strings.Contains(warningsText(s), "remote rules") }, 10*time.Second, 10*time.Millisecond)
			texts = append(texts, warningsText(s))
			for _, src := range []tui.Reporting{s.TargetSource().(tui.Reporting), s.RuleSource().(tui.Reporting), s.AlertSource().(tui.Reporting)} {
				if err := src.Reporting(); err != nil {
					texts = append(texts, err.Error())
				}
			}

			// The remote gone: its errors, the log's lines.
			f.stop()
			require.Eventually(t, func() bool { return strings.Contains(warningsText(s), "unreachable") }, 10*time.Second, 10*time.Millisecond)
			texts = append(texts, warningsText(s))
			s.Close()
			texts = append(texts, log.String())

			all := strings.Join(texts, "\n")
			require.Contains(t, all, "<secret>", "the remote did echo what it was sent")
			for _, secret := range []string{password, token, header, base64.StdEncoding.EncodeToString([]byte("ops:" + password))} {
				require.NotContains(t, all, secret)
			}
		})
	}
}

// TestAlertEvents: the alerts the poller sees change are the event log's
// events; a resolved alert stays listed; silences are the console's.
func TestAlertEvents(t *testing.T) {
	f := newFakeAPI(t)
	f.setData("/api/v1/rules", rulesData(alertingRule("TargetDown")))
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newTestSource(t, f, Options{Now: clock})
	s.Start()
	require.Eventually(t, func() bool { return len(s.RuleSource().Rules()) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, s.AlertSource().(tui.Reporting).Reporting())

	next := func() tui.AlertEvent {
		t.Helper()
		select {
		case e := <-s.Events():
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
		}
		return tui.AlertEvent{}
	}
	f.setData("/api/v1/rules", rulesData(alertingRule("TargetDown", alert("db1:9100", "pending"))))
	e := next()
	require.Equal(t, tui.StatePending, e.State)
	require.Equal(t, "TargetDown", e.Rule)
	require.Equal(t, "targets", e.Group)
	require.Equal(t, "db1:9100", e.Labels.Get("instance"))
	require.Equal(t, now, e.Time)

	f.setData("/api/v1/rules", rulesData(alertingRule("TargetDown", alert("db1:9100", "firing"))))
	require.Equal(t, tui.StateFiring, next().State)
	as := s.AlertSource().Alerts()
	require.Len(t, as, 1)
	require.Equal(t, 1, s.RuleSource().Rules()[0].Firing)

	until := now.Add(15 * time.Minute)
	require.NoError(t, s.Silence(context.Background(), as[0].Labels, until))
	require.Equal(t, until, s.AlertSource().Alerts()[0].SilencedUntil)

	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	f.setData("/api/v1/rules", rulesData(alertingRule("TargetDown")))
	e = next()
	require.Equal(t, tui.StateResolved, e.State)
	require.Equal(t, now, e.EndsAt)
	require.Equal(t, until, e.SilencedUntil, "the event of a silenced alert says so")
	as = s.AlertSource().Alerts()
	require.Len(t, as, 1, "a resolved alert stays listed")
	require.Equal(t, tui.StateResolved, as[0].State)
	require.Equal(t, now, as[0].ResolvedAt)

	require.NoError(t, s.Silence(context.Background(), as[0].Labels, time.Time{}))
	require.True(t, s.AlertSource().Alerts()[0].SilencedUntil.IsZero(), "a zero until lifts the silence")

	mu.Lock()
	now = now.Add(resolvedRetention + time.Minute)
	mu.Unlock()
	require.Eventually(t, func() bool { return len(s.AlertSource().Alerts()) == 0 }, 10*time.Second, 10*time.Millisecond, "resolved alerts go after 15 minutes")
}

// TestParseURL: what --source takes and refuses.
func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "http://prom:9090", want: "http://prom:9090"},
		{in: "https://mimir.example/prometheus/", want: "https://mimir.example/prometheus"},
		{in: "http://ops:hunter2@prom:9090", err: "credentials in the URL would show in ps"},
		{in: "prom:9090", err: "want an http or https URL"},
		{in: "ftp://prom", err: "want an http or https URL"},
		{in: "http://", err: "no host"},
		{in: "http://prom:9090/?x=1", err: "a query or fragment"},
		{in: "http://a b", err: "not a URL"},
	} {
		u, err := ParseURL(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			require.NotContains(t, err.Error(), "hunter2")
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, u.String())
	}
}

// TestLoadClientConfig: a bad file says what and where.
func TestLoadClientConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "source.yml")
	require.NoError(t, os.WriteFile(file, []byte("basic_auth:\n  username: ops\nbearer_tokn: x\n"), 0o600))
	_, err := LoadClientConfig(file)
	require.ErrorContains(t, err, "source config "+file+": ")
	require.ErrorContains(t, err, "line 3")

	require.NoError(t, os.WriteFile(file, nil, 0o600))
	cfg, err := LoadClientConfig(file)
	require.NoError(t, err)
	require.True(t, cfg.FollowRedirects, "an empty file is the default config")

	_, err = LoadClientConfig(filepath.Join(dir, "missing.yml"))
	require.ErrorContains(t, err, "missing.yml")
}
