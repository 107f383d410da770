package web

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// federated is one series' latest sample.
type federated struct {
	ls labels.Labels
	t  int64
	f  float64
}

// federate serves /federate as Prometheus does: for every series that a
// match[] selects, its latest sample within the lookback (5m) before now,
// unless that is a staleness marker (the text format has none); grouped
// by metric name as untyped families, with the samples' own timestamps;
// the config's external labels added where a series lacks them, and
// instance="" where it has no instance, so that the federating
// Prometheus does not give it its own. The body is Prometheus' text
// format 0.0.4, which every Prometheus reads; a metric or label name
// that format cannot carry has its other characters replaced by
// underscores, as Prometheus' encoder does for a client that did not ask
// for UTF-8 names.
func (a *api) federate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, fmt.Sprintf("error parsing form values: %v", err), http.StatusBadRequest)
		return
	}
	sets, err := exprParser.ParseMetricSelectors(r.Form["match[]"])
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := a.now()
	maxt := now.UnixMilli()
	mint := now.Add(-a.lookback).UnixMilli()
	q, err := a.queryable.Querier(mint, maxt)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer q.Close()

	ctx := r.Context()
	hints := &storage.SelectHints{Start: mint, End: maxt}
	var all []storage.SeriesSet
	for _, ms := range sets {
		all = append(all, q.Select(ctx, true, hints, ms...))
	}
	set := storage.NewMergeSeriesSet(all, 0, storage.ChainedSeriesMerge)
	var (
		vec []federated
		it  chunkenc.Iterator
	)
	for n := 1; set.Next(); n++ {
		if n%checkEvery == 0 && ctx.Err() != nil {
			http.Error(w, engineError(ctx.Err()).Error(), http.StatusServiceUnavailable)
			return
		}
		s := set.At()
		it = s.Iterator(it)
		var (
			t  int64
			f  float64
			ok bool
		)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			if vt != chunkenc.ValFloat {
				continue
			}
			if st, sf := it.At(); st <= maxt {
				t, f, ok = st, sf, true
			}
		}
		if err := it.Err(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if !ok || value.IsStaleNaN(f) {
			continue
		}
		vec = append(vec, federated{ls: s.Labels(), t: t, f: f})
	}
	if err := set.Err(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	slices.SortStableFunc(vec, func(x, y federated) int {
		return strings.Compare(x.ls.Get(labels.MetricName), y.ls.Get(labels.MetricName))
	})

	e := &encoder{max: a.opts.MaxResponseBytes}
	a.writeFederated(e, vec)
	if e.full() {
		http.Error(w, fmt.Sprintf("the federation answer would be larger than vigil's bound of %d bytes: match fewer series", a.opts.MaxResponseBytes), http.StatusUnprocessableEntity)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	a.write(w, r, http.StatusOK, e.b)
}

// writeFederated writes the samples in the text format.
func (a *api) writeFederated(e *encoder, vec []federated) {
	external := a.src.ExternalLabels
	needInstance := !external.Has(model.InstanceLabel)
	last := ""
	for _, s := range vec {
		name := s.ls.Get(labels.MetricName)
		if name == "" {
			continue // nameless: nothing to call it
		}
		name = textName(name)
		if name != last {
			e.raw("# TYPE ")
			e.raw(name)
			e.raw(" untyped\n")
			last = name
		}
		e.raw(name)
		e.byte('{')
		first := true
		label := func(n, v string) {
			if !first {
				e.byte(',')
			}
			first = false
			e.raw(textLabelName(n))
			e.raw(`="`)
			e.b = appendLabelValue(e.b, v)
			e.byte('"')
		}
		s.ls.Range(func(l labels.Label) {
			if l.Name != labels.MetricName && l.Value != "" {
				label(l.Name, l.Value)
			}
		})
		external.Range(func(l labels.Label) {
			if s.ls.Get(l.Name) == "" {
				label(l.Name, l.Value)
			}
		})
		if needInstance && s.ls.Get(model.InstanceLabel) == "" {
			label(model.InstanceLabel, "")
		}
		e.raw("} ")
		e.b = appendTextFloat(e.b, s.f)
		e.byte(' ')
		e.b = strconv.AppendInt(e.b, s.t, 10)
		e.byte('\n')
		if e.full() {
			return
		}
	}
}

// textName is a name the text format 0.0.4 can carry.
func textName(n string) string {
	if model.LegacyValidation.IsValidMetricName(n) {
		return n
	}
	return model.EscapeName(n, model.UnderscoreEscaping)
}

// textLabelName is a label name the text format 0.0.4 can carry: every
// character it cannot is an underscore, as is a leading digit.
func textLabelName(n string) string {
	if model.LegacyValidation.IsValidLabelName(n) {
		return n
	}
	b := []byte(n)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0) {
			b[i] = '_'
		}
	}
	return string(b)
}

// appendLabelValue escapes a label value for the text format.
func appendLabelValue(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendTextFloat writes a sample value as the text format has it.
func appendTextFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}
