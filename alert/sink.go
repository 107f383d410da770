package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"golang.org/x/sys/unix"
)

// Format is how an EventWriter writes events.
type Format string

// The formats of --events.
const (
	FormatJSON Format = "json"
	FormatText Format = "text"
)

// ParseFormat parses an --events value; "none" and "" give ok=false.
func ParseFormat(s string) (f Format, ok bool, err error) {
	switch s {
	case "json":
		return FormatJSON, true, nil
	case "text":
		return FormatText, true, nil
	case "none", "":
		return "", false, nil
	}
	return "", false, fmt.Errorf("--events %q: use json, text or none", s)
}

// DefaultQueueSize is the default number of events a sink holds for a slow
// reader.
const DefaultQueueSize = 1024

// WriterOptions configure an EventWriter.
type WriterOptions struct {
	// QueueSize is how many events wait for a slow reader; 0 is
	// DefaultQueueSize. Past it events are dropped and counted.
	QueueSize int
	// Logger is told about dropped events (at most once per second) and the
	// reader going away; nil discards.
	Logger *slog.Logger
}

// EventWriter writes events to w (stdout) from its own goroutine, one line
// per event, flushed each time. Send never blocks: a full queue drops the
// event and counts it. When a write fails (the reader went away, EPIPE)
// the writer stops writing, Done is closed and Err tells why; events sent
// after that are counted as undelivered.
//
// On os.Stdout the program must call signal.Notify for syscall.SIGPIPE
// first: otherwise the Go runtime kills it at the first write to a broken
// pipe on fd 1, before Done can be seen (TestStdoutBrokenPipe).
type EventWriter struct {
	w      io.Writer
	format Format
	logger *slog.Logger
	queue  chan Event
	done   chan struct{}
	exited chan struct{}
	// watched is closed when the watch on the reader has ended; nil when
	// w is not a pipe or socket (see watchReader).
	watched chan struct{}

	dropped, undelivered, written atomic.Uint64
	lastDropLog                   atomic.Int64

	mu     sync.Mutex
	err    error
	closed bool
}

var _ Sink = (*EventWriter)(nil)

// NewEventWriter starts a writer; Close stops it.
func NewEventWriter(w io.Writer, format Format, o WriterOptions) *EventWriter {
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ew := &EventWriter{
		w:      w,
		format: format,
		logger: o.Logger,
		queue:  make(chan Event, o.QueueSize),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	go ew.loop()
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) != 0 {
			ew.watched = make(chan struct{})
			go ew.watchReader(int(f.Fd()))
		}
	}
	return ew
}

// watchReader stops the writer as soon as the reader of the pipe or
// socket fd goes away (poll reports POLLERR or POLLHUP on the write end),
// instead of at the next event's write, which may be hours later: a
// `vigil --headless | head -1` ends when head does.
func (ew *EventWriter) watchReader(fd int) {
	defer close(ew.watched)
	for {
		select {
		case <-ew.exited:
			return
		case <-ew.done:
			return
		default:
		}
		fds := []unix.PollFd{{Fd: int32(fd)}}
		n, err := unix.Poll(fds, 250)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
			ew.fail(fmt.Errorf("watch event reader: %w", syscall.EPIPE))
			return
		}
	}
}

// Send queues ev without blocking.
func (ew *EventWriter) Send(ev Event) {
	ew.mu.Lock()
	defer ew.mu.Unlock()
	if ew.closed || ew.err != nil {
		ew.undelivered.Add(1)
		return
	}
	select {
	case ew.queue <- ev:
	default:
		n := ew.dropped.Add(1)
		now := time.Now().Unix()
		if last := ew.lastDropLog.Load(); now > last && ew.lastDropLog.CompareAndSwap(last, now) {
			ew.logger.Warn("event reader is slow: events dropped", "dropped_total", n, "queue", cap(ew.queue))
		}
	}
}

func (ew *EventWriter) loop() {
	defer close(ew.exited)
	var buf bytes.Buffer
	for ev := range ew.queue {
		buf.Reset()
		switch ew.format {
		case FormatText:
			appendText(&buf, ev)
		default:
			appendJSON(&buf, ev)
		}
		if _, err := ew.w.Write(buf.Bytes()); err != nil {
			ew.undelivered.Add(1)
			ew.fail(fmt.Errorf("write event: %w", err))
			// Count what is left; nobody reads it.
			for range ew.queue {
				ew.undelivered.Add(1)
			}
			return
		}
		if f, ok := ew.w.(interface{ Flush() error }); ok {
			if err := f.Flush(); err != nil {
				ew.undelivered.Add(1)
				ew.fail(fmt.Errorf("flush event: %w", err))
				for range ew.queue {
					ew.undelivered.Add(1)
				}
				return
			}
		}
		ew.written.Add(1)
	}
}

// fail stops the writer with err; only the first failure counts (the
// loop's write and the watch on the reader may both see the reader go).
func (ew *EventWriter) fail(err error) {
	ew.mu.Lock()
	first := ew.err == nil
	if first {
		ew.err = err
	}
	ew.mu.Unlock()
	if !first {
		return
	}
	if IsBrokenPipe(err) {
		ew.logger.Info("event reader has gone away", "err", err)
	} else {
		ew.logger.Warn("events no longer delivered", "err", err)
	}
	close(ew.done)
}

// Done is closed when the writer has stopped because a write failed.
func (ew *EventWriter) Done() <-chan struct{} { return ew.done }

// Err is why the writer stopped, nil while it works. IsBrokenPipe tells
// whether the reader went away.
func (ew *EventWriter) Err() error {
	ew.mu.Lock()
	defer ew.mu.Unlock()
	return ew.err
}

// Dropped is how many events a full queue refused.
func (ew *EventWriter) Dropped() uint64 { return ew.dropped.Load() }

// Undelivered is how many events were not written because the writer had
// stopped (or was closed).
func (ew *EventWriter) Undelivered() uint64 { return ew.undelivered.Load() }

// Written is how many events were written.
func (ew *EventWriter) Written() uint64 { return ew.written.Load() }

// Close writes what is queued and stops the writer, waiting at most
// timeout for a blocked reader (0 waits for ever); it returns Err.
func (ew *EventWriter) Close(timeout time.Duration) error {
	ew.mu.Lock()
	if !ew.closed {
		ew.closed = true
		close(ew.queue)
	}
	ew.mu.Unlock()
	if timeout <= 0 {
		<-ew.exited
	} else {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-ew.exited:
		case <-t.C:
			return errors.New("close event writer: the reader does not read")
		}
	}
	if ew.watched != nil {
		<-ew.watched // ends within one poll of exited
	}
	return ew.Err()
}

// IsBrokenPipe reports whether err means the reader has gone away.
func IsBrokenPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrClosedPipe)
}

// ChannelSink hands events to the console through a buffered channel. Send
// never blocks; what a full channel refuses is counted.
type ChannelSink struct {
	c       chan Event
	dropped atomic.Uint64
}

var _ Sink = (*ChannelSink)(nil)

// NewChannelSink makes a sink with room for size events (0 is
// DefaultQueueSize).
func NewChannelSink(size int) *ChannelSink {
	if size <= 0 {
		size = DefaultQueueSize
	}
	return &ChannelSink{c: make(chan Event, size)}
}

// Send queues ev without blocking.
func (s *ChannelSink) Send(ev Event) {
	select {
	case s.c <- ev:
	default:
		s.dropped.Add(1)
	}
}

// C is the channel to read events from. It is never closed.
func (s *ChannelSink) C() <-chan Event { return s.c }

// Dropped is how many events the full channel refused.
func (s *ChannelSink) Dropped() uint64 { return s.dropped.Load() }

// SinkFunc adapts a function to Sink; it must not block.
type SinkFunc func(Event)

// Send calls f.
func (f SinkFunc) Send(ev Event) { f(ev) }

// eventJSON is the wire form of an event (DESIGN.md).
type eventJSON struct {
	Time        string            `json:"time"`
	State       State             `json:"state"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Value       jsonFloat         `json:"value"`
	StartsAt    string            `json:"startsAt"`
	EndsAt      string            `json:"endsAt,omitempty"`
	// Added to DESIGN.md's format, only when a local silence is in force.
	Silenced      bool   `json:"silenced,omitempty"`
	SilencedUntil string `json:"silencedUntil,omitempty"`
}

type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// timeFormat is RFC 3339 in UTC with milliseconds when there are any.
const timeFormat = "2006-01-02T15:04:05.999Z07:00"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

// MarshalEvent returns the JSON line of ev, without the newline.
func MarshalEvent(ev Event) []byte {
	var buf bytes.Buffer
	appendJSON(&buf, ev)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func appendJSON(buf *bytes.Buffer, ev Event) {
	j := eventJSON{
		Time:        formatTime(ev.Time),
		State:       ev.State,
		Labels:      ev.Labels.Map(),
		Annotations: ev.Annotations.Map(),
		Value:       jsonFloat(ev.Value),
		StartsAt:    formatTime(ev.StartsAt),
	}
	if ev.State == StateResolved {
		j.EndsAt = formatTime(ev.EndsAt)
	}
	if !ev.SilencedUntil.IsZero() {
		j.Silenced, j.SilencedUntil = true, formatTime(ev.SilencedUntil)
	}
	// Not HTML-escaped: the line is read by people and jq, where
	// "up > 0" reads better than "up \u003e 0". Control characters are
	// still escaped by the encoder, and C1 ones by escapeC1.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		// Only strings and numbers: cannot happen.
		panic(fmt.Sprintf("marshal event: %v", err))
	}
	buf.Write(escapeC1(b.Bytes())) // Encode ends the line
}

// escapeC1 escapes DEL and the C1 controls (U+0080–U+009F), which
// encoding/json leaves raw and a terminal may obey (U+009B is CSI).
func escapeC1(b []byte) []byte {
	need := false
	for i := 0; i < len(b); i++ {
		if b[i] == 0x7f || (b[i] == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f) {
			need = true
			break
		}
	}
	if !need {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == 0x7f:
			out = append(out, `\u007f`...)
		case b[i] == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f:
			out = fmt.Appendf(out, `\u%04x`, b[i+1])
			i++
		default:
			out = append(out, b[i])
		}
	}
	return out
}

// appendText writes one readable line: time, state, alert name and labels,
// value, summary, since when, and until when it is silenced locally.
// Everything from a target is quoted (strconv.Quote), so no
// control character reaches a terminal.
func appendText(buf *bytes.Buffer, ev Event) {
	buf.WriteString(formatTime(ev.Time))
	fmt.Fprintf(buf, " %-8s ", stateWord(ev.State))
	buf.WriteString(quoteName(ev.Labels.Get(labels.AlertName)))
	buf.WriteByte('{')
	first := true
	ev.Labels.Range(func(l labels.Label) {
		if l.Name == labels.AlertName {
			return
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.WriteString(quoteName(l.Name))
		buf.WriteByte('=')
		buf.WriteString(strconv.Quote(l.Value))
	})
	buf.WriteString("} value=")
	buf.WriteString(formatValue(ev.Value))
	if s := ev.Annotations.Get("summary"); s != "" {
		buf.WriteString(" summary=")
		buf.WriteString(strconv.Quote(s))
	}
	if !ev.StartsAt.IsZero() {
		buf.WriteString(" since=")
		buf.WriteString(formatTime(ev.StartsAt))
	}
	if !ev.SilencedUntil.IsZero() {
		buf.WriteString(" silenced-until=")
		buf.WriteString(formatTime(ev.SilencedUntil))
	}
	buf.WriteByte('\n')
}

func stateWord(s State) string {
	switch s {
	case StateFiring:
		return "FIRING"
	case StatePending:
		return "PENDING"
	case StateResolved:
		return "RESOLVED"
	}
	return strconv.Quote(string(s))
}

// quoteName leaves a plain name as it is and quotes anything else.
func quoteName(s string) string {
	for _, r := range s {
		if !(r == '_' || r == ':' || isAlnum(r)) {
			return strconv.Quote(s)
		}
	}
	return s
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
