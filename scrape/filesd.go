package scrape

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v2"
)

// fileWatcher keeps the targets of one file_sd_configs entry: it reads the
// files again when one of them changes (checked every poll) and every
// refresh_interval. A file that cannot be read or parsed keeps its last
// good targets, as in Prometheus.
type fileWatcher struct {
	m      *Manager
	p      *pool
	source string
	cfg    FileSDConfig
	poll   time.Duration

	sig   string
	files map[string][]group // last good groups per file
}

func (w *fileWatcher) run(ctx context.Context) {
	poll := time.NewTicker(w.poll)
	defer poll.Stop()
	refresh := time.NewTicker(time.Duration(w.cfg.RefreshInterval))
	defer refresh.Stop()
	for {
		force := false
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		case <-refresh.C:
			force = true
		}
		if !force && w.signature() == w.sig {
			continue
		}
		w.m.mu.Lock()
		if !w.p.gone && ctx.Err() == nil {
			w.load()
			w.m.syncPool(w.p, nil)
		}
		w.m.mu.Unlock()
	}
}

// paths expands the configured patterns.
func (w *fileWatcher) paths() []string {
	var out []string
	for _, pat := range w.cfg.Files {
		ms, _ := filepath.Glob(pat)
		out = append(out, ms...)
	}
	sort.Strings(out)
	return out
}

// signature summarises names, sizes and times of the files.
func (w *fileWatcher) signature() string {
	var b strings.Builder
	for _, p := range w.paths() {
		if fi, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "%s %d %d\n", p, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.String()
}

// load reads the files into the pool's groups. The caller holds m.mu (or
// the pool is not running yet).
func (w *fileWatcher) load() {
	w.sig = w.signature()
	if w.files == nil {
		w.files = map[string][]group{}
	}
	seen := map[string]bool{}
	for _, path := range w.paths() {
		seen[path] = true
		gs, err := readFileSD(path)
		if err != nil {
			w.m.opts.Logger.Warn("file_sd: keeping the last good targets", "job", w.p.sc.JobName, "err", Sanitize(err.Error(), DefaultSanitizeLen))
			continue
		}
		w.files[path] = gs
	}
	for path := range w.files {
		if !seen[path] {
			delete(w.files, path)
		}
	}
	var all []group
	paths := make([]string, 0, len(w.files))
	for p := range w.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		all = append(all, w.files[p]...)
	}
	w.p.groups[w.source] = all
}

// readFileSD reads one file_sd file: a list of {targets, labels} in JSON
// or YAML.
func readFileSD(path string) ([]group, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read file_sd file: %w", err)
	}
	var scs []StaticConfig
	switch filepath.Ext(path) {
	case ".json":
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		err = dec.Decode(&scs)
	default:
		err = yaml.UnmarshalStrict(b, &scs)
	}
	if err != nil {
		return nil, fmt.Errorf("parse file_sd file %s: %w", path, err)
	}
	gs := make([]group, 0, len(scs))
	for i, sc := range scs {
		for _, t := range sc.Targets {
			if err := checkAddress(t); err != nil {
				return nil, fmt.Errorf("file_sd file %s, group %d: target %q: %v", path, i, RedactTarget(t), err)
			}
		}
		lbls := map[string]string{"__meta_filepath": path}
		for k, v := range sc.Labels {
			lbls[k] = v
		}
		gs = append(gs, group{Targets: sc.Targets, Labels: lbls, Source: fmt.Sprintf("%s:%d", path, i)})
	}
	return gs, nil
}
