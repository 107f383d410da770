package alert_test

import (
	"bufio"
	"encoding/json"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
)

func testEvent(state alert.State, v float64) alert.Event {
	ev := alert.Event{
		Time:        time.Date(2026, 11, 24, 10, 0, 5, 123e6, time.UTC),
		State:       state,
		Labels:      labels.FromStrings("alertname", "HostHighLoad", "instance", "db1:9100", "job", "node", "severity", "warning"),
		Annotations: labels.FromStrings("summary", "load 4.2 on db1:9100"),
		Value:       v,
		StartsAt:    time.Date(2026, 11, 24, 9, 59, 5, 0, time.UTC),
	}
	if state == alert.StateResolved {
		ev.EndsAt = ev.Time
	}
	return ev
}

// silenced is ev with a local silence until an hour after the design
// example's time.
func silenced(ev alert.Event) alert.Event {
	ev.SilencedUntil = time.Date(2026, 11, 24, 11, 0, 5, 0, time.UTC)
	return ev
}

func TestMarshalEvent(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   alert.Event
		want string
	}{
		{"design example", testEvent(alert.StateFiring, 4.2),
			`{"time":"2026-11-24T10:00:05.123Z","state":"firing","labels":{"alertname":"HostHighLoad","instance":"db1:9100","job":"node","severity":"warning"},"annotations":{"summary":"load 4.2 on db1:9100"},"value":4.2,"startsAt":"2026-11-24T09:59:05Z"}`},
		{"resolved has endsAt", testEvent(alert.StateResolved, 1),
			`{"time":"2026-11-24T10:00:05.123Z","state":"resolved","labels":{"alertname":"HostHighLoad","instance":"db1:9100","job":"node","severity":"warning"},"annotations":{"summary":"load 4.2 on db1:9100"},"value":1,"startsAt":"2026-11-24T09:59:05Z","endsAt":"2026-11-24T10:00:05.123Z"}`},
		{"silenced locally adds silenced and silencedUntil", silenced(testEvent(alert.StateFiring, 4.2)),
			`{"time":"2026-11-24T10:00:05.123Z","state":"firing","labels":{"alertname":"HostHighLoad","instance":"db1:9100","job":"node","severity":"warning"},"annotations":{"summary":"load 4.2 on db1:9100"},"value":4.2,"startsAt":"2026-11-24T09:59:05Z","silenced":true,"silencedUntil":"2026-11-24T11:00:05Z"}`},
		{"silenced and resolved", silenced(testEvent(alert.StateResolved, 1)),
			`{"time":"2026-11-24T10:00:05.123Z","state":"resolved","labels":{"alertname":"HostHighLoad","instance":"db1:9100","job":"node","severity":"warning"},"annotations":{"summary":"load 4.2 on db1:9100"},"value":1,"startsAt":"2026-11-24T09:59:05Z","endsAt":"2026-11-24T10:00:05.123Z","silenced":true,"silencedUntil":"2026-11-24T11:00:05Z"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, string(alert.MarshalEvent(tc.ev)))
		})
	}
	// Read by people and jq: PromQL and templates keep < > & as written.
	ev := testEvent(alert.StateFiring, 1)
	ev.Annotations = labels.FromStrings("summary", "up > 0 && load < 4")
	require.Contains(t, string(alert.MarshalEvent(ev)), `"summary":"up > 0 && load < 4"`)

	for v, want := range map[float64]string{math.NaN(): `"value":"NaN"`, math.Inf(1): `"value":"+Inf"`, math.Inf(-1): `"value":"-Inf"`, 1e-9: `"value":1e-09`} {
		require.Contains(t, string(alert.MarshalEvent(testEvent(alert.StatePending, v))), want)
	}
}

// TestMarshalEventHostile: labels from a target cannot break the stream or
// reach a terminal as control sequences.
func TestMarshalEventHostile(t *testing.T) {
	ev := testEvent(alert.StateFiring, 1)
	ev.Labels = labels.FromStrings("alertname", "X", "evil", "\x1b]0;pwned\x07\x1b[2J\u009b31m\x7f\xff\xfe\n{\"", "k\u2028", "v")
	b := alert.MarshalEvent(ev)
	for _, c := range b {
		require.False(t, c < 0x20 || c == 0x7f, "raw control byte %#x in %q", c, b)
	}
	require.NotContains(t, string(b), "\u009b")
	require.NotContains(t, string(b), "\u2028")
	var back map[string]any
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, "\x1b]0;pwned\x07\x1b[2J\u009b31m\x7f\ufffd\ufffd\n{\"", back["labels"].(map[string]any)["evil"])
}

func TestEventWriterText(t *testing.T) {
	var sb syncBuffer
	w := alert.NewEventWriter(&sb, alert.FormatText, alert.WriterOptions{})
	ev := testEvent(alert.StateFiring, 4.2)
	ev.Labels = labels.FromStrings("alertname", "HostHighLoad", "instance", "db1\x1b[31m")
	w.Send(ev)
	w.Send(silenced(ev))
	require.NoError(t, w.Close(time.Second))
	line := `2026-11-24T10:00:05.123Z FIRING   HostHighLoad{instance="db1\x1b[31m"} value=4.2 summary="load 4.2 on db1:9100" since=2026-11-24T09:59:05Z`
	require.Equal(t, line+"\n"+line+" silenced-until=2026-11-24T11:00:05Z\n", sb.String())
}

// TestEventWriterSilenced: on stdout, the line of a locally silenced alert
// is DESIGN.md's with "silenced" and "silencedUntil" added at the end.
func TestEventWriterSilenced(t *testing.T) {
	var sb syncBuffer
	w := alert.NewEventWriter(&sb, alert.FormatJSON, alert.WriterOptions{})
	w.Send(testEvent(alert.StateFiring, 4.2))
	w.Send(silenced(testEvent(alert.StateFiring, 4.2)))
	require.NoError(t, w.Close(time.Second))
	lines := strings.Split(strings.TrimSuffix(sb.String(), "\n"), "\n")
	require.Len(t, lines, 2)
	require.Equal(t, strings.TrimSuffix(lines[0], "}")+`,"silenced":true,"silencedUntil":"2026-11-24T11:00:05Z"}`, lines[1])
	var ev struct {
		State         string    `json:"state"`
		Silenced      bool      `json:"silenced"`
		SilencedUntil time.Time `json:"silencedUntil"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &ev))
	require.Equal(t, "firing", ev.State)
	require.True(t, ev.Silenced)
	require.Equal(t, time.Date(2026, 11, 24, 11, 0, 5, 0, time.UTC), ev.SilencedUntil)
}

// TestEventWriterBrokenPipe: the reader goes away (`| head -n 1`): the
// writer reports EPIPE on Done and counts what it could not deliver.
func TestEventWriterBrokenPipe(t *testing.T) {
	r, wf, err := os.Pipe()
	require.NoError(t, err)
	defer wf.Close()
	w := alert.NewEventWriter(wf, alert.FormatJSON, alert.WriterOptions{})
	w.Send(testEvent(alert.StatePending, 1))
	line, err := bufio.NewReader(r).ReadString('\n')
	require.NoError(t, err)
	require.True(t, json.Valid([]byte(line)))
	require.NoError(t, r.Close())

	for i := 0; ; i++ {
		w.Send(testEvent(alert.StateFiring, 2))
		select {
		case <-w.Done():
		case <-time.After(10 * time.Millisecond):
			require.Less(t, i, 500, "writer did not notice the closed pipe")
			continue
		}
		break
	}
	require.True(t, alert.IsBrokenPipe(w.Err()), "%v", w.Err())
	w.Send(testEvent(alert.StateResolved, 3))
	// The watch on the reader may stop the writer while the firing event
	// is still being written: count once the writer is closed.
	require.True(t, alert.IsBrokenPipe(w.Close(time.Second)))
	require.GreaterOrEqual(t, w.Undelivered(), uint64(2))
	require.Equal(t, uint64(1), w.Written())
}

// TestEventWriterSlowReader: a reader that does not read never blocks Send;
// what overflows the queue is counted, the rest arrives once it reads.
func TestEventWriterSlowReader(t *testing.T) {
	pr, pw := io.Pipe()
	w := alert.NewEventWriter(pw, alert.FormatJSON, alert.WriterOptions{QueueSize: 4})
	start := time.Now()
	for range 100 {
		w.Send(testEvent(alert.StateFiring, 1))
	}
	require.Less(t, time.Since(start), 5*time.Second) // generous: only a deadlock fails
	// Four wait, perhaps one more is being written, the rest are dropped.
	dropped := w.Dropped()
	require.True(t, dropped == 95 || dropped == 96, "dropped %d", dropped)

	var got []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			got = append(got, sc.Text())
		}
	}()
	require.NoError(t, w.Close(0))
	require.NoError(t, pw.Close())
	wg.Wait()
	require.Len(t, got, 100-int(dropped))
}

func TestChannelSink(t *testing.T) {
	s := alert.NewChannelSink(2)
	for range 3 {
		s.Send(testEvent(alert.StateFiring, 1))
	}
	require.Equal(t, uint64(1), s.Dropped())
	require.Equal(t, alert.StateFiring, (<-s.C()).State)
}

type syncBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}

// TestEventWriterReaderGoneWithoutEvents: a reader of the pipe that goes
// away stops the writer at once, not at the next event, which may be
// hours later (vigil --headless | head -1).
func TestEventWriterReaderGoneWithoutEvents(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer w.Close()
	ew := alert.NewEventWriter(w, alert.FormatJSON, alert.WriterOptions{})
	select {
	case <-ew.Done():
		t.Fatal("done while the reader is there")
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, r.Close())
	select {
	case <-ew.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the writer did not notice that its reader went away")
	}
	require.True(t, alert.IsBrokenPipe(ew.Err()), "err %v", ew.Err())
	require.Zero(t, ew.Undelivered(), "no event was lost")
	require.True(t, alert.IsBrokenPipe(ew.Close(time.Second)))
}
