package remotewrite

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// fakeReceiver decodes what it is sent, 1.0 and 2.0, and answers as told:
// it stands in for the receivers' failures (429, 5xx, 4xx, a 1.0-only
// receiver) that real ones cannot be made to show on demand.
type fakeReceiver struct {
	*httptest.Server

	mu sync.Mutex
	// answer, when set, decides the answer to a request before it is
	// stored; 0 stores it and answers 204 (with the 2.0 headers).
	answer func(n int, r *http.Request) (status int, header http.Header)
	// v1Only answers 2.0 as Prometheus 2.42 does: 204, nothing stored,
	// no written-samples headers.
	v1Only   bool
	requests int
	protos   []string
	samples  map[string][]prompb.Sample // by series labels
	types    map[string]writev2.Metadata_MetricType
	metadata []prompb.MetricMetadata
}

func newFakeReceiver(t *testing.T) *fakeReceiver {
	f := &fakeReceiver{samples: map[string][]prompb.Sample{}, types: map[string]writev2.Metadata_MetricType{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeReceiver) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	ct := r.Header.Get("Content-Type")
	f.protos = append(f.protos, ct)
	if f.answer != nil {
		if status, h := f.answer(f.requests, r); status != 0 {
			for k, v := range h {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			io.WriteString(w, "refused\x1b[31m by the fake\nreceiver")
			return
		}
	}
	body, _ := io.ReadAll(r.Body)
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if ct == contentTypeV2 {
		if f.v1Only {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		var req writev2.Request
		if err := req.Unmarshal(raw); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n := 0
		var sb labels.ScratchBuilder
		for _, ts := range req.Timeseries {
			l, err := ts.ToLabels(&sb, req.Symbols)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			for _, s := range ts.Samples {
				f.samples[l.String()] = append(f.samples[l.String()], prompb.Sample{Value: s.Value, Timestamp: s.Timestamp})
				n++
			}
			f.types[l.Get(labels.MetricName)] = ts.Metadata.Type
		}
		w.Header().Set(writtenSamplesHeader, strconv.Itoa(n))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, ts := range req.Timeseries {
		b := labels.NewScratchBuilder(len(ts.Labels))
		for _, l := range ts.Labels {
			b.Add(l.Name, l.Value)
		}
		key := b.Labels().String()
		f.samples[key] = append(f.samples[key], ts.Samples...)
	}
	f.metadata = append(f.metadata, req.Metadata...)
	w.WriteHeader(http.StatusNoContent)
}

// got returns what the receiver stored, by series.
func (f *fakeReceiver) got() map[string][]prompb.Sample {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]prompb.Sample{}
	for k, v := range f.samples {
		out[k] = append([]prompb.Sample(nil), v...)
	}
	return out
}

func (f *fakeReceiver) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range f.samples {
		n += len(v)
	}
	return n
}

// sameBits compares sample values bit for bit (staleness markers are NaNs).
func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }
