package pipeline

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/store"
)

// TestRefusedAlertWarning: alerts an Alertmanager refused show in the
// console's header, counted, with the last one named.
func TestRefusedAlertWarning(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `"invalid label set: invalid name \"bad-label\""`, http.StatusBadRequest)
	}))
	defer srv.Close()
	n, err := alert.NewNotifier(alert.NotifierOptions{Alertmanagers: []alert.AlertmanagerConfig{{URLs: []string{srv.URL}}}})
	require.NoError(t, err)
	defer n.Close()
	db := store.New(store.DefaultOptions())
	defer db.Close()
	p := &Pipeline{db: db, logger: slog.New(slog.DiscardHandler), notify: n}
	require.Empty(t, p.Warnings())
	n.Send(t.Context(), alert.NotifyAlert{Labels: labels.FromStrings("alertname", "Bad", "bad-label", "x")})
	require.Eventually(t, func() bool { return n.Stats().Refused == 1 }, 5*time.Second, 5*time.Millisecond)
	ws := p.Warnings()
	require.Len(t, ws, 1)
	require.Equal(t, "alertmanager", ws[0].Source)
	require.Equal(t, fmt.Sprintf(`alertmanager %s/api/v2/alerts refused 1 alerts; last Bad: label name "bad-label" is not [a-zA-Z_][a-zA-Z0-9_]*`, srv.URL), ws[0].Text)
}
