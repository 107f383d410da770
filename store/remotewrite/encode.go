package remotewrite

import (
	"strings"

	"github.com/klauspost/compress/s2"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// TypeFunc tells the type the targets declare for a metric family
// (MetricTypeUnknown when none does).
type TypeFunc func(family string) model.MetricType

// familyType finds the type of the family a series' metric name belongs
// to: the name itself, or the name less a suffix that histograms,
// summaries and counters add.
func familyType(types TypeFunc, name string) model.MetricType {
	if types == nil {
		return model.MetricTypeUnknown
	}
	if t := types(name); t != model.MetricTypeUnknown && t != "" {
		return t
	}
	for _, suffix := range []string{"_total", "_bucket", "_count", "_sum", "_created", "_info"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if t := types(base); t != "" {
				return t
			}
		}
	}
	return model.MetricTypeUnknown
}

// encoder builds request bodies. One per shard: it keeps its buffers from
// request to request.
type encoder struct {
	v1     prompb.WriteRequest
	v2     writev2.Request
	sym    writev2.SymbolsTable
	labels []prompb.Label
	refs   []uint32
	// index is each series id's place in the request being built: a
	// map, since a request holds a few thousand series of a segment's
	// hundreds of thousands.
	index map[uint32]int32
	pb    []byte
	out   []byte
}

func newEncoder() *encoder {
	return &encoder{sym: writev2.NewSymbolTable(), index: map[uint32]int32{}}
}

// place returns where series id is in the request, and false when it is
// not there yet (then the caller puts it at i).
func (e *encoder) place(id uint32, i int) (int, bool) {
	if j, ok := e.index[id]; ok {
		return int(j), true
	}
	e.index[id] = int32(i)
	return i, false
}

// encode returns the snappy-compressed request for samples, one time series
// a series with its samples in order. ext are the external labels to add
// (a series' own label of the same name wins); nil when the samples' labels
// already hold them. The result is the encoder's until its next call.
func (e *encoder) encode(proto Protocol, samples []sample, ext []labels.Label, types TypeFunc) ([]byte, error) {
	clear(e.index)
	var err error
	if proto == V2 {
		err = e.encodeV2(samples, ext, types)
	} else {
		err = e.encodeV1(samples, ext)
	}
	if err != nil {
		return nil, err
	}
	e.out = s2.EncodeSnappy(e.out[:cap(e.out)], e.pb)
	return e.out, nil
}

func (e *encoder) encodeV1(samples []sample, ext []labels.Label) error {
	e.v1.Timeseries = e.v1.Timeseries[:0]
	e.v1.Metadata = e.v1.Metadata[:0]
	e.labels = e.labels[:0]
	for _, s := range samples {
		i, ok := e.place(s.id, len(e.v1.Timeseries))
		if !ok {
			if i < cap(e.v1.Timeseries) {
				e.v1.Timeseries = e.v1.Timeseries[:i+1]
			} else {
				e.v1.Timeseries = append(e.v1.Timeseries, prompb.TimeSeries{})
			}
			start := len(e.labels)
			forMerged(s.lset, ext, func(name, value string) {
				e.labels = append(e.labels, prompb.Label{Name: name, Value: value})
			})
			ts := &e.v1.Timeseries[i]
			ts.Labels = e.labels[start:len(e.labels):len(e.labels)]
			ts.Samples = ts.Samples[:0]
		}
		ts := &e.v1.Timeseries[i]
		ts.Samples = append(ts.Samples, prompb.Sample{Value: s.v, Timestamp: s.t})
	}
	return e.marshal(&e.v1)
}

func (e *encoder) encodeV2(samples []sample, ext []labels.Label, types TypeFunc) error {
	e.v2.Timeseries = e.v2.Timeseries[:0]
	e.sym.Reset()
	e.refs = e.refs[:0]
	for _, s := range samples {
		i, ok := e.place(s.id, len(e.v2.Timeseries))
		if !ok {
			if i < cap(e.v2.Timeseries) {
				e.v2.Timeseries = e.v2.Timeseries[:i+1]
			} else {
				e.v2.Timeseries = append(e.v2.Timeseries, writev2.TimeSeries{})
			}
			start := len(e.refs)
			forMerged(s.lset, ext, func(name, value string) {
				e.refs = append(e.refs, e.sym.Symbolize(name), e.sym.Symbolize(value))
			})
			ts := &e.v2.Timeseries[i]
			ts.LabelsRefs = e.refs[start:len(e.refs):len(e.refs)]
			ts.Samples = ts.Samples[:0]
			ts.Metadata = writev2.Metadata{Type: writev2.FromMetadataType(familyType(types, s.lset.Get(labels.MetricName)))}
		}
		ts := &e.v2.Timeseries[i]
		ts.Samples = append(ts.Samples, writev2.Sample{Value: s.v, Timestamp: s.t})
	}
	e.v2.Symbols = e.sym.Symbols()
	return e.marshal(&e.v2)
}

// encodeMetadata returns the 1.0 request that carries the families' types.
func (e *encoder) encodeMetadata(md []prompb.MetricMetadata) ([]byte, error) {
	e.v1.Timeseries = e.v1.Timeseries[:0]
	e.v1.Metadata = md
	err := e.marshal(&e.v1)
	e.v1.Metadata = nil
	if err != nil {
		return nil, err
	}
	e.out = s2.EncodeSnappy(e.out[:cap(e.out)], e.pb)
	return e.out, nil
}

type sizedMarshaler interface {
	Size() int
	MarshalToSizedBuffer([]byte) (int, error)
}

func (e *encoder) marshal(m sizedMarshaler) error {
	n := m.Size()
	if cap(e.pb) < n {
		e.pb = make([]byte, n)
	}
	e.pb = e.pb[:n]
	_, err := m.MarshalToSizedBuffer(e.pb)
	return err
}

// forMerged calls f for each label of l with ext merged in, in name order:
// an external label is added when l has none of its name.
func forMerged(l labels.Labels, ext []labels.Label, f func(name, value string)) {
	i := 0
	l.Range(func(lb labels.Label) {
		for i < len(ext) && ext[i].Name < lb.Name {
			f(ext[i].Name, ext[i].Value)
			i++
		}
		if i < len(ext) && ext[i].Name == lb.Name {
			i++
		}
		f(lb.Name, lb.Value)
	})
	for ; i < len(ext); i++ {
		f(ext[i].Name, ext[i].Value)
	}
}
