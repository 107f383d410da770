package alert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// MaxSilences is how many local silences a Manager holds at once; past it
// Silence refuses new ones (ErrTooManySilences) until some expire.
const MaxSilences = 10_000

// silencePrune is how long an expired silence is kept before it is
// forgotten. Expiry itself is exact (an alert is silenced while ts <
// until); the margin only lets groups whose evaluations run a little
// behind each other agree on an expiry.
const silencePrune = time.Hour

// ErrTooManySilences: Silence was asked for a new silence while
// MaxSilences were in force.
var ErrTooManySilences = errors.New("too many local silences")

// silences are the Manager's local silences: until when the alert with a
// given label set is muted. Safe for concurrent use; the groups read it
// while evaluating and the console writes it.
type silences struct {
	mu sync.Mutex
	m  map[string]Silenced // by labels.Bytes
}

func (s *silences) set(ls labels.Labels, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := string(ls.Bytes(nil))
	if until.IsZero() {
		delete(s.m, k)
		return nil
	}
	if _, ok := s.m[k]; !ok && len(s.m) >= MaxSilences {
		return fmt.Errorf("silence %s: %w (%d)", ls, ErrTooManySilences, MaxSilences)
	}
	if s.m == nil {
		s.m = map[string]Silenced{}
	}
	s.m[k] = Silenced{Labels: ls, Until: until}
	return nil
}

// until is when the silence of ls ends if it is in force at ts, else zero.
func (s *silences) until(ls labels.Labels, ts time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) == 0 {
		return time.Time{}
	}
	u := s.m[string(ls.Bytes(nil))].Until
	if !ts.Before(u) {
		return time.Time{}
	}
	return u
}

// get is the until of ls, in force or not; zero when there is none.
func (s *silences) get(ls labels.Labels) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[string(ls.Bytes(nil))].Until
}

// prune forgets silences that ended silencePrune before ts.
func (s *silences) prune(ts time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, sl := range s.m {
		if !ts.Before(sl.Until.Add(silencePrune)) {
			delete(s.m, k)
		}
	}
}

// Silence mutes the alert whose labels are exactly ls (as in Alert.Labels,
// alertname included, external labels not) until until; a zero until, or
// one in the past, lifts the silence. An alert that is not active yet is
// silenced when it comes, if that is before until.
//
// A local silence is the operator's mute, not an Alertmanager silence:
//
//   - the alert goes through the state machine, the ALERTS series and
//     Alertmanager as before;
//   - its events say so (Event.SilencedUntil, "silenced" and
//     "silencedUntil" in the JSON line), and when the silence starts,
//     changes or ends while the alert is pending or firing, the next
//     evaluation sends an event in the alert's unchanged state that says
//     what the silence now is;
//   - Alerts reports it (Alert.SilencedUntil), so the console shows it.
//
// The ctx is for the interface's sake (a remote source could stand
// behind it): the Manager's silences are in memory. SilenceFile keeps
// them across a restart, in the data directory.
func (m *Manager) Silence(ctx context.Context, ls labels.Labels, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return m.silences.set(ls, until)
}

// SilencedUntil is when the local silence of the alert with labels ls ends,
// if it is in force at ts; zero otherwise.
func (m *Manager) SilencedUntil(ls labels.Labels, ts time.Time) time.Time {
	return m.silences.until(ls, ts)
}

// A Silenced is a local silence: the alert with exactly these labels is
// muted until Until.
type Silenced struct {
	Labels labels.Labels
	Until  time.Time
}

// Silences returns the silences in force at ts, ordered by labels.
func (m *Manager) Silences(ts time.Time) []Silenced {
	return m.silences.inForce(ts)
}

func (s *silences) inForce(ts time.Time) []Silenced {
	s.mu.Lock()
	out := make([]Silenced, 0, len(s.m))
	for _, sl := range s.m {
		if ts.Before(sl.Until) {
			out = append(out, sl)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Silenced) int { return labels.Compare(a.Labels, b.Labels) })
	return out
}
