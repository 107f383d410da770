package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	toolkit "github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/prometheus/promql"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/scrape"
)

// Server is vigil's HTTP API. Its life: New, Start, Close.
type Server struct {
	opts    Options
	api     *api
	handler http.Handler
	logger  *slog.Logger

	srv      *http.Server
	ln       net.Listener
	served   chan struct{} // closed when Serve returned
	ctx      context.Context
	cancel   context.CancelFunc // ends every request's context
	inflight sync.WaitGroup
	closing  atomic.Bool
	closed   sync.Once
}

// shutdownGrace is how long Close lets the requests in flight finish
// before it cancels them.
const shutdownGrace = 2 * time.Second

// New makes the server; Start listens. The options are checked as Check
// does.
func New(o Options, src Sources, logger *slog.Logger) (*Server, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if src.Targets == nil {
		src.Targets = noTargets{}
	}
	if src.Rules == nil {
		src.Rules = noRules{}
	}
	if src.Metrics == nil {
		src.Metrics = func(context.Context, io.Writer) error { return nil }
	}
	if src.Now == nil {
		src.Now = time.Now
	}
	lookback := src.EngineOptions.LookbackDelta
	if lookback <= 0 {
		lookback = 5 * time.Minute // the engine's own default
	}
	s := &Server{opts: o, logger: logger}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.api = &api{
		opts:      o,
		src:       src,
		engine:    promql.NewEngine(NewEngineOptions(src.EngineOptions, o)),
		queryable: src.Queryable,
		logger:    logger,
		now:       src.Now,
		lookback:  lookback,
		gate:      make(chan struct{}, o.MaxConcurrency),
	}
	s.handler = s.routes()
	return s, nil
}

// Handler is the server's handler, without TLS or authentication: what
// Start serves behind the web config.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on Options.ListenAddress and serves in a goroutine of the
// server's, with the web config's TLS and basic auth (exporter-toolkit).
// A port that is taken is an error here, not later.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.ListenAddress)
	if err != nil {
		return fmt.Errorf("--web.listen-address: %w", err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		// A client that reads its answer slowly holds a slot of
		// --query.max-concurrency: not for longer than this.
		WriteTimeout: s.opts.QueryTimeout + time.Minute,
		IdleTimeout:  2 * time.Minute,
		// net/http logs a client's TLS handshake errors, which are the
		// client's business, on stderr by default: under the console
		// that would draw over it.
		ErrorLog:    slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
		BaseContext: func(net.Listener) context.Context { return s.ctx },
	}
	addrs := []string{ln.Addr().String()}
	systemd := false
	file := s.opts.ConfigFile
	flags := &toolkit.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: &systemd, WebConfigFile: &file}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		if err := toolkit.Serve(ln, s.srv, flags, s.logger); err != nil && !errors.Is(err, http.ErrServerClosed) {
			// The web config changed for the worse since Check: close
			// the port rather than leave clients waiting on it.
			_ = ln.Close()
			s.logger.Error("web: the API server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return nil
}

// Addr is the address the server listens on, once started.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops listening, lets the requests in flight finish for a
// moment, cancels those that have not, and waits for them all. It is
// safe to call more than once, and without Start.
func (s *Server) Close() error {
	var err error
	s.closed.Do(func() {
		s.closing.Store(true)
		if s.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			if err = s.srv.Shutdown(ctx); err != nil {
				s.cancel()
				err = s.srv.Close()
			}
			cancel()
			<-s.served
		}
		s.cancel()
		s.inflight.Wait()
	})
	return err
}

// routes are the endpoints. GET and POST are taken where Prometheus takes
// both; a known path asked with another method gets 405, an unknown one
// under /api/v1 Prometheus' not_found error. Nothing writes, deletes or
// administers anything.
func (s *Server) routes() http.Handler {
	a := s.api
	mux := http.NewServeMux()
	known := map[string]string{} // path → allowed methods
	add := func(path string, getPost bool, h http.HandlerFunc) {
		mux.Handle("GET "+path, h) // GET takes HEAD too
		known[path] = "GET, HEAD"
		if getPost {
			mux.Handle("POST "+path, h)
			known[path] = "GET, HEAD, POST"
		}
	}
	add("/api/v1/query", true, a.handle(a.query, true))
	add("/api/v1/query_range", true, a.handle(a.queryRange, true))
	add("/api/v1/series", true, a.handle(a.series, true))
	add("/api/v1/labels", true, a.handle(a.labelNames, true))
	add("/api/v1/label/{name}/values", false, a.handle(a.labelValues, true))
	add("/api/v1/metadata", false, a.handle(a.metricMetadata, false))
	add("/api/v1/targets", false, a.handle(a.targets, false))
	add("/api/v1/rules", false, a.handle(a.rules, false))
	add("/api/v1/alerts", false, a.handle(a.alerts, false))
	add("/api/v1/status/buildinfo", false, a.handle(a.buildInfo, false))
	add("/api/v1/status/runtimeinfo", false, a.handle(a.runtimeInfo, false))
	add("/federate", false, a.gated(a.federate))
	add("/metrics", false, a.metrics)
	add("/-/healthy", false, healthy)
	add("/-/ready", false, s.ready)
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		allow, ok := known[r.URL.Path]
		if !ok && strings.HasPrefix(r.URL.Path, "/api/v1/label/") && strings.HasSuffix(r.URL.Path, "/values") {
			allow, ok = known["/api/v1/label/{name}/values"]
		}
		if ok && !strings.Contains(allow, r.Method) {
			w.Header().Set("Allow", allow)
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		a.respondError(w, &apiError{errorNotFound, fmt.Errorf(
			"vigil does not serve %s: its API is read-only, with the endpoints docs/api.md lists", r.URL.Path)})
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "vigil serves Prometheus' HTTP API under /api/v1/, /federate and /metrics.\n")
	})
	return s.track(mux)
}

// track counts the requests in flight, for Close to wait for.
func (s *Server) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Done()
		h.ServeHTTP(w, r)
	})
}

// gated serves h within a concurrency slot, answering in plain text when
// none comes free in time (for /federate, whose answer is not JSON).
func (a *api) gated(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), a.opts.QueryTimeout)
		defer cancel()
		if err := a.acquire(ctx); err != nil {
			http.Error(w, err.err.Error(), err.typ.status())
			return
		}
		defer a.release()
		h(w, r.WithContext(ctx))
	}
}

type noTargets struct{}

func (noTargets) Targets() []scrape.TargetHealth { return nil }
func (noTargets) Metadata(context.Context, string) (map[string][]scrape.Metadata, error) {
	return nil, nil
}

type noRules struct{}

func (noRules) Alerts() []alert.Alert     { return nil }
func (noRules) Rules() []alert.RuleStatus { return nil }

var (
	_ TargetSource = (*scrape.Manager)(nil)
	_ RuleSource   = (*alert.Manager)(nil)
)
