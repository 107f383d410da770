package web

import (
	"bytes"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/common/model"
)

// buildInfo is the data of /api/v1/status/buildinfo: vigil's version (not
// a Prometheus version it is not) and the Go it was built with; the
// fields a Go build does not record are empty.
type buildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

func (a *api) buildInfo(*http.Request) result {
	bi := buildInfo{Version: a.src.Version, GoVersion: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				bi.Revision = s.Value
			case "vcs.time":
				bi.BuildDate = s.Value
			}
		}
	}
	return result{data: marshaled{bi}}
}

// runtimeInfo is the data of /api/v1/status/runtimeinfo. vigil has no
// write-ahead log to find corrupt, so corruptionCount is 0; GOGC and
// GODEBUG are the environment's, as Prometheus reports them.
type runtimeInfo struct {
	StartTime           time.Time `json:"startTime"`
	CWD                 string    `json:"CWD"`
	Hostname            string    `json:"hostname"`
	ServerTime          time.Time `json:"serverTime"`
	ReloadConfigSuccess bool      `json:"reloadConfigSuccess"`
	LastConfigTime      time.Time `json:"lastConfigTime"`
	CorruptionCount     int64     `json:"corruptionCount"`
	GoroutineCount      int       `json:"goroutineCount"`
	GOMAXPROCS          int       `json:"GOMAXPROCS"`
	GOMEMLIMIT          int64     `json:"GOMEMLIMIT"`
	GOGC                string    `json:"GOGC"`
	GODEBUG             string    `json:"GODEBUG"`
	StorageRetention    string    `json:"storageRetention"`
}

func (a *api) runtimeInfo(*http.Request) result {
	ri := runtimeInfo{
		StartTime:        a.src.StartTime,
		ServerTime:       a.now().UTC(),
		GoroutineCount:   runtime.NumGoroutine(),
		GOMAXPROCS:       runtime.GOMAXPROCS(0),
		GOMEMLIMIT:       debug.SetMemoryLimit(-1), // a negative limit only reads it
		GOGC:             os.Getenv("GOGC"),
		GODEBUG:          os.Getenv("GODEBUG"),
		StorageRetention: model.Duration(a.src.Retention).String(),
	}
	ri.CWD, _ = os.Getwd()
	ri.Hostname, _ = os.Hostname()
	ri.ReloadConfigSuccess = true
	if a.src.Config != nil {
		ri.ReloadConfigSuccess, ri.LastConfigTime = a.src.Config()
	}
	return result{data: marshaled{ri}}
}

// healthy serves /-/healthy: vigil answers, so it is.
func healthy(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("vigil is Healthy.\n"))
}

// ready serves /-/ready. The server starts once the store is restored and
// the scrapes and rules run, and stops before they do, so while it
// answers vigil is ready; a request that comes in as it shuts down gets
// 503, as Prometheus answers while it is not ready.
func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.closing.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("Service Unavailable"))
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("vigil is Ready.\n"))
}

// metrics serves /metrics: vigil's own metrics, what job "vigil" scrapes.
func (a *api) metrics(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	if err := a.src.Metrics(r.Context(), &b); err != nil {
		a.logger.Warn("web: collect own metrics", "err", err)
		http.Error(w, "collect vigil's metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	a.write(w, r, http.StatusOK, b.Bytes())
}
