package scrape

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"
)

// scraper fetches one body. Two kinds exist: HTTP for exporters and a Go
// function for internal targets; the loop does not know which it has.
type scraper interface {
	// scrape writes the body into buf and returns its content type.
	scrape(ctx context.Context, buf *bytes.Buffer) (contentType string, err error)
}

var (
	_ scraper = (*httpScraper)(nil)
	_ scraper = (*funcScraper)(nil)
)

// errBodySizeLimit fails a scrape whose uncompressed body is over the limit.
var errBodySizeLimit = errors.New("body size limit exceeded")

type httpScraper struct {
	client      *http.Client
	url         string
	accept      string
	timeout     time.Duration
	compression bool
	bodyLimit   int64
	userAgent   string
}

// gzipReaders are gzip readers for scrapes to share. A reader holds its
// window and Huffman tables, and only the scrapes running at one moment
// need one, so one per loop would be memory held for nothing (cmd/compare
// measures a fleet of 100 targets). A channel and not a sync.Pool, which
// GC empties: it would allocate them again all the time
// (BenchmarkScrapeHTTP counts the allocations of a scrape).
var gzipReaders = make(chan *gzipReader, 8)

// gzipReader is a gzip.Reader with the buffered reader it reads through:
// given a reader that is not an io.ByteReader, gzip's Reset makes a new
// bufio.Reader every time.
type gzipReader struct {
	gz *gzip.Reader
	br *bufio.Reader
}

func getGzipReader(r io.Reader) (*gzipReader, error) {
	var z *gzipReader
	select {
	case z = <-gzipReaders:
		z.br.Reset(r)
		if err := z.gz.Reset(z.br); err != nil {
			putGzipReader(z)
			return nil, err
		}
	default:
		z = &gzipReader{br: bufio.NewReader(r)}
		gz, err := gzip.NewReader(z.br)
		if err != nil {
			return nil, err
		}
		z.gz = gz
	}
	return z, nil
}

func putGzipReader(z *gzipReader) {
	z.br.Reset(nil) // not to keep the response alive
	select {
	case gzipReaders <- z:
	default:
	}
}

func (s *httpScraper) scrape(ctx context.Context, buf *bytes.Buffer) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", s.accept)
	if s.compression {
		req.Header.Set("Accept-Encoding", "gzip")
	} else {
		req.Header.Set("Accept-Encoding", "identity")
	}
	req.Header.Set("User-Agent", s.userAgent)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(s.timeout.Seconds(), 'f', -1, 64))
	resp, err := s.client.Do(req)
	if err != nil {
		return "", shortHTTPError(ctx, err, s.timeout)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("server returned HTTP status %s", resp.Status)
	}
	limit := s.bodyLimit
	if limit <= 0 {
		limit = 1<<63 - 1
	}
	gzipped := resp.Header.Get("Content-Encoding") == "gzip"
	if !gzipped && resp.ContentLength > limit {
		// Said before it is sent: refused without reading it.
		return "", fmt.Errorf("%w: the body is %d bytes, over %d (body_size_limit)", errBodySizeLimit, resp.ContentLength, limit)
	}
	var body io.Reader = resp.Body
	if gzipped {
		gz, err := getGzipReader(resp.Body)
		if err != nil {
			return "", fmt.Errorf("read gzip body: %w", shortHTTPError(ctx, err, s.timeout))
		}
		defer func() {
			_ = gz.gz.Close()
			putGzipReader(gz)
		}()
		body = gz.gz
	}
	n, err := buf.ReadFrom(io.LimitReader(body, limit))
	if err != nil {
		return "", fmt.Errorf("read body after %d bytes: %w", n, shortHTTPError(ctx, err, s.timeout))
	}
	if n >= limit {
		// One more byte tells a body of exactly the limit from a longer one.
		var one [1]byte
		if m, _ := io.ReadFull(body, one[:]); m > 0 {
			return "", fmt.Errorf("%w: the body is larger than %d bytes (body_size_limit)", errBodySizeLimit, limit)
		}
	}
	return resp.Header.Get("Content-Type"), nil
}

// shortHTTPError turns client errors into what an operator needs: the URL
// is shown beside the error already, and a timeout says which one.
func shortHTTPError(ctx context.Context, err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timeout: no complete response within %s (scrape_timeout)", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err
}

// CollectFunc writes the body of an internal target in the Prometheus text
// format (0.0.4). It is called from the target's scrape loop with a context
// that ends at the scrape timeout.
type CollectFunc func(ctx context.Context, w io.Writer) error

type funcScraper struct {
	collect CollectFunc
	limit   int64
}

func (s *funcScraper) scrape(ctx context.Context, buf *bytes.Buffer) (ct string, err error) {
	// A bug in a collector fails its scrape, not vigil.
	defer func() {
		if r := recover(); r != nil {
			ct, err = "", fmt.Errorf("collector panicked: %v", r)
		}
	}()
	if err := s.collect(ctx, buf); err != nil {
		return "", err
	}
	if s.limit > 0 && int64(buf.Len()) > s.limit {
		return "", fmt.Errorf("%w: the body is larger than %d bytes", errBodySizeLimit, s.limit)
	}
	return "text/plain; version=0.0.4", nil
}
