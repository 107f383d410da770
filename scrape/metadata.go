package scrape

import (
	"context"
	"sort"
	"sync"
	"unicode/utf8"
	"unique"

	"github.com/prometheus/common/model"
)

// Metadata is what a target declares of a metric family, as Prometheus'
// /api/v1/metadata reports it. Only the type is kept (from the TYPE line);
// HELP and UNIT are not.
type Metadata struct {
	Type model.MetricType
}

// Bounds on what a target may make a loop remember of its TYPE lines: a
// target is untrusted (node_exporter declares about 300 families).
const (
	// MaxFamilyTypes is how many families of one target are kept; the
	// TYPE lines after that in a body are ignored.
	MaxFamilyTypes = 4096
	// MaxFamilyNameLen is the longest family name kept, in bytes.
	MaxFamilyNameLen = 256
)

// family is one TYPE line of a body. skip marks a line that was read but
// is not kept (its name is too long, or not clean text): it still holds
// its place, so that a body with the same lines is seen to be the same.
//
// Targets of one kind declare the same families, so a name is interned:
// every loop holds a handle to one copy of it, not a copy of its own
// (BenchmarkLoopMemory).
type family struct {
	name unique.Handle[string] // zero when skip
	typ  model.MetricType
	skip bool
}

// familyTypes are the metric family types a loop's target declares. The
// loop compares each TYPE entry of a body with the entry at the same place
// in the last good body (a target writes the same lines every time), and
// copies anything only when they differ. The last good body's entries are
// what it publishes: that slice is never written again, a change makes a
// new one. Neither a map beside it nor a second slice kept for the next
// change: each would cost every loop as much again (BenchmarkLoopMemory).
// The loop goroutine owns everything but pub.
type familyTypes struct {
	last    []family // the TYPE entries of the last good body, in order; published
	next    []family // those of the body being read, once it differs
	n       int      // TYPE entries of the body being read, up to MaxFamilyTypes
	changed bool     // the body being read differs from last so far
	adopted bool     // pub is another loop's: publish after the first good body

	mu  sync.Mutex
	pub []family // replaced whole, never changed in place
}

// begin starts a body.
func (f *familyTypes) begin() {
	f.n, f.changed = 0, false
}

// see takes a TYPE entry of the body being read.
func (f *familyTypes) see(name []byte, t model.MetricType) {
	if f.n >= MaxFamilyTypes {
		return
	}
	if !f.changed {
		if f.n < len(f.last) {
			l := &f.last[f.n]
			// The kept name was clean; only a skipped one is checked again.
			if l.typ == t && (!l.skip && l.name.Value() == string(name) || l.skip && !keepName(name)) {
				f.n++
				return
			}
		}
		f.changed = true
		f.next = append(f.next[:0], f.last[:f.n]...)
	}
	fam := family{typ: t, skip: !keepName(name)}
	if !fam.skip {
		fam.name = unique.Make(string(name))
	}
	f.next = append(f.next, fam)
	f.n++
}

// keepName reports whether a family name is kept: not too long, and
// clean text.
func keepName(name []byte) bool {
	return len(name) <= MaxFamilyNameLen && cleanName(name)
}

// end closes a body that was read whole; a body that failed leaves the
// last good one's types in place.
func (f *familyTypes) end() {
	if !f.changed {
		if f.n == len(f.last) && !f.adopted {
			return
		}
		f.next = append(f.next[:0], f.last[:f.n]...) // families went away
	}
	f.last, f.next = f.next, nil // last is published: never to be written again
	f.adopted = false
	f.mu.Lock()
	f.pub = f.last
	f.mu.Unlock()
}

// inherit shows what old published until this loop's first good scrape
// (a reload replaced old's loop).
func (f *familyTypes) inherit(old *familyTypes) {
	pub := old.published()
	f.mu.Lock()
	f.pub = pub
	f.mu.Unlock()
	f.adopted = true
}

// published returns the TYPE entries of the last good body, skipped ones
// included; the slice is not to be changed.
func (f *familyTypes) published() []family {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pub
}

// cleanName reports whether a family name is valid UTF-8 without control
// characters: what the console may compare with the names in the store.
func cleanName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 || r < 0x20 || r >= 0x7f && r < 0xa0 {
			return false
		}
		b = b[size:]
	}
	return true
}

// Metadata returns what the targets declare of metric families, by family
// name (as in the TYPE line: "node_cpu_seconds_total", or the histogram's
// "http_request_duration_seconds"), with one entry per distinct
// declaration, sorted, as Prometheus' /api/v1/metadata does. With metric
// set, only that family. It reads what the loops published after their
// last good scrape, so it is cheap and does not block on a scrape.
func (m *Manager) Metadata(ctx context.Context, metric string) (map[string][]Metadata, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var pubs [][]family
	m.mu.Lock()
	for _, p := range m.pools {
		for _, l := range p.loops {
			if pub := l.types.published(); len(pub) > 0 {
				pubs = append(pubs, pub)
			}
		}
	}
	m.mu.Unlock()
	out := map[string][]Metadata{}
	add := func(name string, t model.MetricType) {
		for _, md := range out[name] {
			if md.Type == t {
				return
			}
		}
		out[name] = append(out[name], Metadata{Type: t})
	}
	for _, pub := range pubs {
		for _, fam := range pub {
			if !fam.skip && (metric == "" || fam.name.Value() == metric) {
				add(fam.name.Value(), fam.typ)
			}
		}
	}
	for _, mds := range out {
		if len(mds) > 1 {
			sort.Slice(mds, func(i, j int) bool { return mds[i].Type < mds[j].Type })
		}
	}
	return out, nil
}
