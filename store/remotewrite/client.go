package remotewrite

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The Remote-Write headers (the 1.0 and 2.0 specifications).
const (
	versionHeader         = "X-Prometheus-Remote-Write-Version"
	writtenSamplesHeader  = "X-Prometheus-Remote-Write-Samples-Written"
	writtenHistogramsHdr  = "X-Prometheus-Remote-Write-Histograms-Written"
	writtenExemplarsHdr   = "X-Prometheus-Remote-Write-Exemplars-Written"
	contentTypeV1         = "application/x-protobuf"
	contentTypeV2         = "application/x-protobuf;proto=io.prometheus.write.v2.Request"
	maxErrorBody          = 512 // bytes of a refusal's body kept for the operator
	maxDrainedBody        = 64 << 10
	defaultRetryAfterCeil = 5 * time.Minute
)

// client posts encoded requests to one remote. The protobuf messages come
// from Prometheus' prompb (1.0) and prompb/io/prometheus/write/v2 (2.0),
// snappy from klauspost/compress; this is the HTTP exchange of the
// specifications, kept here because the queue decides what a failure
// means (retry, fall back, drop) and when to try again.
type client struct {
	url       string
	hc        *http.Client
	headers   map[string]string
	timeout   time.Duration
	userAgent string
}

// result is what a post came to.
type result struct {
	status     int           // 0 when no answer came
	err        error         // a transport error, or the refusal with the receiver's message
	retryAfter time.Duration // Retry-After, when given
	// written is the 2.0 written-samples header; confirmed says one of
	// the written-* headers was there.
	written   int
	confirmed bool
}

func (r result) ok() bool { return r.err == nil && r.status/100 == 2 }

// retryable: no answer, a 5xx, or a 429 when the config says so.
func (r result) retryable(on429 bool) bool {
	return r.status == 0 || r.status/100 == 5 || (on429 && r.status == http.StatusTooManyRequests)
}

// post sends one snappy-compressed request body.
func (c *client) post(ctx context.Context, proto Protocol, body []byte) result {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return result{err: err}
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("User-Agent", c.userAgent)
	if proto == V2 {
		req.Header.Set("Content-Type", contentTypeV2)
		req.Header.Set(versionHeader, "2.0.0")
	} else {
		req.Header.Set("Content-Type", contentTypeV1)
		req.Header.Set(versionHeader, "0.1.0")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	r := result{status: resp.StatusCode}
	if v := resp.Header.Get(writtenSamplesHeader); v != "" {
		r.confirmed = true
		r.written, _ = strconv.Atoi(v)
	}
	if resp.Header.Get(writtenHistogramsHdr) != "" || resp.Header.Get(writtenExemplarsHdr) != "" {
		r.confirmed = true
	}
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainedBody))
		return r
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainedBody))
	r.err = fmt.Errorf("HTTP %s: %s", resp.Status, cleanMessage(string(msg)))
	r.retryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	return r
}

// retryAfter reads a Retry-After header: seconds or an HTTP date. It is
// capped, as a receiver is untrusted.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(h); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), defaultRetryAfterCeil)
}

// cleanMessage makes a receiver's message fit for a log line and the
// console: one line, printable runes only.
func cleanMessage(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			return ' '
		case !unicode.IsPrint(r) || r == unicode.ReplacementChar:
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
