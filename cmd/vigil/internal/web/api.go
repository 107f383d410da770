package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// errorType is the errorType of Prometheus' error responses; each has
// its HTTP status.
type errorType string

const (
	errorTimeout     errorType = "timeout"
	errorCanceled    errorType = "canceled"
	errorExec        errorType = "execution"
	errorBadData     errorType = "bad_data"
	errorInternal    errorType = "internal"
	errorUnavailable errorType = "unavailable"
	errorNotFound    errorType = "not_found"
)

// statusClientClosed is the code Prometheus answers a request its client
// gave up on with (nginx's).
const statusClientClosed = 499

func (t errorType) status() int {
	switch t {
	case errorBadData:
		return http.StatusBadRequest
	case errorExec:
		return http.StatusUnprocessableEntity
	case errorCanceled:
		return statusClientClosed
	case errorTimeout, errorUnavailable:
		return http.StatusServiceUnavailable
	case errorNotFound:
		return http.StatusNotFound
	default:
		return http.StatusInternalServerError
	}
}

type apiError struct {
	typ errorType
	err error
}

func (e *apiError) Error() string { return string(e.typ) + ": " + e.err.Error() }

func badData(err error) *apiError { return &apiError{errorBadData, err} }

// invalidParam is Prometheus' error for a parameter that does not parse.
func invalidParam(err error, name string) result {
	return result{err: badData(fmt.Errorf("invalid parameter %q: %w", name, err))}
}

// engineError maps an error of the engine (or of the store under it) to
// the API error Prometheus answers it with.
func engineError(err error) *apiError {
	var (
		canceled promql.ErrQueryCanceled
		timeout  promql.ErrQueryTimeout
		store    promql.ErrStorage
	)
	switch {
	case errors.As(err, &canceled):
		return &apiError{errorCanceled, err}
	case errors.As(err, &timeout):
		return &apiError{errorTimeout, err}
	case errors.As(err, &store):
		return &apiError{errorInternal, err}
	case errors.Is(err, context.Canceled):
		return &apiError{errorCanceled, err}
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{errorTimeout, err}
	}
	return &apiError{errorExec, err}
}

// jsonData is a response's data that writes itself.
type jsonData interface {
	appendJSON(e *encoder)
}

// marshaled is data written by encoding/json, for the small responses
// (targets, rules, status) whose shape is best said by a struct.
type marshaled struct{ v any }

func (m marshaled) appendJSON(e *encoder) {
	b, err := json.Marshal(m.v)
	if err != nil {
		e.err = err
		return
	}
	e.b = append(e.b, b...)
}

// result is what an endpoint answers: data, or an error; finalizer, when
// set, releases what the data points into, once it is written.
type result struct {
	data      jsonData
	err       *apiError
	warnings  annotations.Annotations
	finalizer func()
}

type apiFunc func(r *http.Request) result

// api serves /api/v1 and /federate.
type api struct {
	opts      Options
	src       Sources
	engine    *promql.Engine
	queryable storage.Queryable
	logger    *slog.Logger
	now       func() time.Time
	lookback  time.Duration // the engine's: how far back /federate looks
	gate      chan struct{} // --query.max-concurrency slots
}

// acquire takes one of the --query.max-concurrency slots that every
// request which reads the store holds until its answer is written: this,
// with the bound on each answer, is what bounds the memory the API can
// take. Waiting counts against the query timeout, as the wait in
// Prometheus' query queue does.
func (a *api) acquire(ctx context.Context) *apiError {
	select {
	case a.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &apiError{errorTimeout, promql.ErrQueryTimeout("query queue")}
		}
		return &apiError{errorCanceled, promql.ErrQueryCanceled("query queue")}
	}
}

func (a *api) release() { <-a.gate }

// handle serves f, within a concurrency slot when it reads the store.
func (a *api) handle(f apiFunc, readsStore bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if readsStore {
			ctx, cancel := context.WithTimeout(r.Context(), a.opts.QueryTimeout)
			defer cancel()
			if err := a.acquire(ctx); err != nil {
				a.respondError(w, err)
				return
			}
			defer a.release()
			r = r.WithContext(ctx)
		}
		res := f(r)
		if res.err != nil {
			if res.finalizer != nil {
				res.finalizer()
			}
			a.respondError(w, res.err)
			return
		}
		a.respond(w, r, res)
	}
}

// respond writes a success: the data, and the warnings and infos as
// Prometheus words them.
func (a *api) respond(w http.ResponseWriter, r *http.Request, res result) {
	size := 1024
	if h, ok := res.data.(interface{ sizeHint() int }); ok {
		// Sized once: growing a large answer by append's steps would
		// allocate several times its size.
		size = min(h.sizeHint(), a.opts.MaxResponseBytes) + 1024
	}
	e := &encoder{b: make([]byte, 0, size), max: a.opts.MaxResponseBytes}
	e.raw(`{"status":"success","data":`)
	res.data.appendJSON(e)
	if res.finalizer != nil {
		res.finalizer()
	}
	if e.err != nil {
		a.respondError(w, &apiError{errorInternal, fmt.Errorf("encode the response: %w", e.err)})
		return
	}
	if e.full() {
		a.respondError(w, &apiError{errorExec, fmt.Errorf(
			"the response would be larger than vigil's bound of %d bytes: ask for less (a narrower selector, a shorter range, a longer step or a limit)",
			a.opts.MaxResponseBytes)})
		return
	}
	warns, infos := res.warnings.AsStrings(r.FormValue("query"), 10, 10)
	if len(warns) > 0 {
		e.raw(`,"warnings":`)
		e.strings(warns)
	}
	if len(infos) > 0 {
		e.raw(`,"infos":`)
		e.strings(infos)
	}
	e.byte('}')
	w.Header().Set("Content-Type", "application/json")
	a.write(w, r, http.StatusOK, e.b)
}

// respondError writes Prometheus' error object with the status of its
// type.
func (a *api) respondError(w http.ResponseWriter, err *apiError) {
	e := &encoder{}
	e.raw(`{"status":"error","errorType":`)
	e.str(string(err.typ))
	e.raw(`,"error":`)
	e.str(err.err.Error())
	e.byte('}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(err.typ.status())
	if _, werr := w.Write(e.b); werr != nil {
		a.logger.Debug("web: write error response", "err", werr)
	}
}

// minGzip is the smallest body worth compressing.
const minGzip = 1024

// write sends a body, gzipped when the client takes it, as Prometheus
// compresses its API's answers.
func (a *api) write(w http.ResponseWriter, r *http.Request, code int, body []byte) {
	if len(body) < minGzip || !acceptsGzip(r) {
		w.WriteHeader(code)
		if _, err := w.Write(body); err != nil {
			a.logger.Debug("web: write response", "url", r.URL.Path, "err", err)
		}
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Add("Vary", "Accept-Encoding")
	w.WriteHeader(code)
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed) // a valid level never fails
	_, err := gz.Write(body)
	if cerr := gz.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		a.logger.Debug("web: write response", "url", r.URL.Path, "err", err)
	}
}

// acceptsGzip reports whether the request's Accept-Encoding names gzip
// without q=0.
func acceptsGzip(r *http.Request) bool {
	for _, h := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(h, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				q := strings.ReplaceAll(params, " ", "")
				return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
			}
		}
	}
	return false
}
