package scrape_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilterm/vigil/scrape"
)

// FuzzLoadConfig: any file, however broken, gives a config or errors with
// a place — never a panic, never an error without the file name.
func FuzzLoadConfig(f *testing.F) {
	for _, name := range []string{"getting-started.yml", "full.yml", "bad.yml"} {
		b, err := os.ReadFile(filepath.Join("../testdata/scrape", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("global: {scrape_interval: 1s, scrape_timeout: 2s}\n"))
	f.Add([]byte("scrape_configs: [{job_name: a, relabel_configs: [{action: hashmod}]}]\n"))
	f.Add([]byte("alerting: {alertmanagers: [{static_configs: [{targets: [a:1]}], path_prefix: /x}]}\n"))
	// One file per worker process, rewritten for each input: a temporary
	// directory per input costs more than the load itself.
	p := filepath.Join(f.TempDir(), "prometheus.yml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := scrape.LoadConfig(p)
		if err != nil {
			for _, e := range scrape.CheckConfig(p) {
				if !strings.HasPrefix(e.Error(), p) {
					t.Fatalf("error without the file: %v", e)
				}
			}
			return
		}
		for _, sc := range cfg.ScrapeConfigs {
			if sc.ScrapeTimeout > sc.ScrapeInterval || sc.ScrapeInterval <= 0 {
				t.Fatalf("accepted job %q with interval %v, timeout %v", sc.JobName, sc.ScrapeInterval, sc.ScrapeTimeout)
			}
		}
	})
}

// FuzzScrapeBody: any body fails the scrape or stores only valid series;
// the target's error is always safe for a terminal.
func FuzzScrapeBody(f *testing.F) {
	f.Add("text/plain; version=0.0.4", []byte("a{b=\"c\"} 1\n# HELP a x\n# TYPE a counter\n"))
	f.Add("application/openmetrics-text; version=1.0.0", []byte("# TYPE a counter\na_total 1 123\n# EOF\n"))
	f.Add("text/plain", []byte("a{b=\"\x1b[31m\"} NaN\na{b=\"\xff\"} 1\n"))
	f.Add("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited", []byte("\x10\x0a\x01a\x18\x00"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		db := newTestDB(t)
		l := scrape.NewTestFuncLoop(scrape.InternalTarget{Job: "fuzz", Instance: "x", Collect: func(context.Context, io.Writer) error { return nil }}, db)
		h := l.ScrapeBody(ct, body, t0)
		if scrape.Sanitize(h.LastError, 0) != h.LastError || scrape.Sanitize(h.LastWarning, 0) != h.LastWarning {
			t.Fatalf("unsanitised error %q / %q", h.LastError, h.LastWarning)
		}
		for _, ls := range db.series("") {
			ls.Range(func(l labels.Label) {
				if !utf8.ValidString(l.Name) || !utf8.ValidString(l.Value) || l.Value == "" {
					t.Fatalf("stored invalid series %q", ls.String())
				}
			})
		}
		// The same body again goes through the loop's cache by position:
		// the same outcome, no other series.
		before := len(db.series(""))
		if h2 := l.ScrapeBody(ct, body, t0.Add(time.Second)); h2.LastError != h.LastError {
			t.Fatalf("second scrape of the same body: error %q, first %q", h2.LastError, h.LastError)
		}
		if after := len(db.series("")); after != before {
			t.Fatalf("second scrape of the same body: %d series, first %d", after, before)
		}
		// The family types kept are bounded and clean, and the same body
		// keeps the same ones.
		types := l.FamilyTypes()
		if len(types) > scrape.MaxFamilyTypes {
			t.Fatalf("%d family types kept", len(types))
		}
		for name := range types {
			if !scrape.KeepFamilyName(name) {
				t.Fatalf("family name %q kept", name)
			}
		}
		l.ScrapeBody(ct, body, t0.Add(2*time.Second))
		if again := l.FamilyTypes(); !reflect.DeepEqual(again, types) {
			t.Fatalf("the same body: family types %v, then %v", types, again)
		}
		// Scraped on, the loop lets its lookup maps go: still the same.
		for i := 3; i < 8; i++ {
			if hi := l.ScrapeBody(ct, body, t0.Add(time.Duration(i)*time.Second)); hi.LastError != h.LastError {
				t.Fatalf("scrape %d of the same body: error %q, first %q", i+1, hi.LastError, h.LastError)
			}
		}
		if after := len(db.series("")); after != before {
			t.Fatalf("eighth scrape of the same body: %d series, first %d", after, before)
		}
	})
}

// FuzzSanitize: the output never holds a control character or invalid
// UTF-8, and is never longer than asked.
func FuzzSanitize(f *testing.F) {
	f.Add("a\x1b[31mb\x1b]0;t\x07c\u009b1m\xff", 5)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max % 1000
		out := scrape.Sanitize(s, max)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q: %q", s, out)
		}
		n := 0
		for _, r := range out {
			n++
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("control %U out of %q: %q", r, s, out)
			}
		}
		if max > 0 && n > max+1 {
			t.Fatalf("%d runes for max %d", n, max)
		}
	})
}

// FuzzStaticTarget: whatever a command-line target is, NewStaticConfig
// does not panic, never keeps credentials in a target (where they would
// become its instance label), and masks them in its error.
func FuzzStaticTarget(f *testing.F) {
	for _, s := range []string{"db1:9100", "[::1]:9100", "::1", ":0", "h:99999", "u:pw@h:1", "http://u:pw@h:1/m", "[::1", "h%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		cfg, err := scrape.NewStaticConfig([]string{target}, time.Second)
		if err != nil {
			// The credentials, as RedactTarget finds them.
			authority := target
			if i := strings.Index(authority, "://"); i >= 0 {
				authority = authority[i+3:]
			}
			if i := strings.IndexAny(authority, "/?#"); i >= 0 {
				authority = authority[:i]
			}
			if i := strings.LastIndex(authority, "@"); i > 0 {
				secret := authority[:i+1]
				if strings.Contains(err.Error(), secret) && !strings.Contains(scrape.RedactTarget(target), secret) {
					t.Fatalf("credentials of %q unmasked in the error %q", target, err)
				}
			}
			return
		}
		for _, sc := range cfg.ScrapeConfigs {
			for _, st := range sc.StaticConfigs {
				for _, a := range st.Targets {
					if strings.Contains(a, "@") {
						t.Fatalf("credentials kept in target %q", a)
					}
				}
			}
		}
	})
}
