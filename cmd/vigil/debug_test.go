package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/scrape"
	"github.com/vigilterm/vigil/scrape/peertest"
)

func TestServeDebug(t *testing.T) {
	self := scrape.InternalTarget{Job: "vigil", Instance: "vigil",
		Collect: func(_ context.Context, w io.Writer) error {
			_, err := io.WriteString(w, "vigil_store_series 42\n")
			return err
		}}
	addr := peertest.FreePort(t)
	stop, err := serveDebug(addr, self, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer stop()

	get := func(path string) string {
		resp, err := http.Get("http://" + addr + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	require.Equal(t, "vigil_store_series 42\n", get("/metrics"))
	require.True(t, strings.HasPrefix(get("/debug/pprof/goroutine?debug=1"), "goroutine profile: total "))

	_, err = serveDebug(addr, self, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "debug listener")
}
