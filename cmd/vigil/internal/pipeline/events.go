package pipeline

import (
	"context"

	"github.com/vigilterm/vigil/alert"
	"github.com/vigilterm/vigil/tui"
)

// EventRelay hands the alert events of an alert.ChannelSink to the
// console as tui.AlertEvent, one at a time: while the console has not
// taken the last one, the sink's buffer fills and then drops and counts,
// as it would with the console reading it directly.
type EventRelay struct {
	out    chan tui.AlertEvent
	cancel context.CancelFunc
	done   chan struct{}
}

// RelayEvents starts relaying in (a ChannelSink's C) until Close or until
// in is closed.
func RelayEvents(in <-chan alert.Event) *EventRelay {
	ctx, cancel := context.WithCancel(context.Background())
	r := &EventRelay{out: make(chan tui.AlertEvent), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-in:
				if !ok {
					return
				}
				select {
				case r.out <- consoleEvent(e):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return r
}

// C is what tui.Options.AlertEvents reads. It is never closed.
func (r *EventRelay) C() <-chan tui.AlertEvent { return r.out }

// Close stops the relay and waits for it; an event it held is dropped.
// It is safe to call more than once.
func (r *EventRelay) Close() {
	r.cancel()
	<-r.done
}
