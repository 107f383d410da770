package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrTooLarge is the error of a call whose answer is larger than
// Options.MaxBytes.
var ErrTooLarge = errors.New("the remote's answer is too large")

// limitTransport bounds the body of every answer, records its status for
// the caller that asked (withStatus) and tells the Source how each
// request went, for the header's "unreachable since".
type limitTransport struct {
	next     http.RoundTripper
	maxBytes int64
	observe  func(ctx context.Context, status int, err error)
}

type statusKey struct{}

// withStatus returns a context whose request's HTTP status is written to
// *status: how a caller of client_golang's API, which keeps the response
// to itself, tells a 404 (not served) from another failure.
func withStatus(ctx context.Context, status *int) context.Context {
	return context.WithValue(ctx, statusKey{}, status)
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if p, ok := req.Context().Value(statusKey{}).(*int); ok {
		*p = status
	}
	t.observe(req.Context(), status, err)
	if err != nil {
		return nil, err
	}
	if t.maxBytes > 0 {
		if resp.ContentLength > t.maxBytes {
			resp.Body.Close()
			return nil, t.tooLarge()
		}
		resp.Body = &limitedBody{rc: resp.Body, left: t.maxBytes, err: t.tooLarge()}
	}
	return resp, nil
}

// CloseIdleConnections closes the idle connections of the transport
// below, as http.Client asks of its transport.
func (t *limitTransport) CloseIdleConnections() {
	if ci, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

func (t *limitTransport) tooLarge() error {
	return fmt.Errorf("%w: more than %s, the most the console reads of one answer: narrow the query (a selector, topk, sum by)", ErrTooLarge, formatBytes(t.maxBytes))
}

// limitedBody fails a read past its limit, rather than end early as
// io.LimitReader would: a cut JSON body must not look whole.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	err  error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, b.err
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
