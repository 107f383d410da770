package alert_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilterm/vigil/alert"
)

// TestStdoutBrokenPipe runs an EventWriter on a real standard output read
// by something like `head -n 1`. The Go runtime kills a program that writes
// to a broken pipe on fd 1 with SIGPIPE unless it asked for the signal:
// with signal.Notify(…, SIGPIPE) the writer sees EPIPE, closes Done, and
// the program can take its final snapshot and exit 0.
func TestStdoutBrokenPipe(t *testing.T) {
	if mode := os.Getenv("VIGIL_ALERT_PIPE_CHILD"); mode != "" {
		pipeChild(mode)
		return
	}
	for _, tc := range []struct {
		mode     string
		exitCode int
		signaled bool
	}{
		{mode: "notify", exitCode: 0},
		{mode: "default", signaled: true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestStdoutBrokenPipe$")
			cmd.Env = append(os.Environ(), "VIGIL_ALERT_PIPE_CHILD="+tc.mode)
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			line, err := bufio.NewReader(out).ReadBytes('\n')
			require.NoError(t, err)
			require.True(t, json.Valid(line), "%q", line)
			require.NoError(t, out.Close()) // `head -n 1` exits

			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("the writer did not notice the reader going away")
			}
			var ee *exec.ExitError
			if tc.signaled {
				require.True(t, errors.As(err, &ee), "%v", err)
				ws := ee.Sys().(syscall.WaitStatus)
				require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGPIPE, "%v", err)
				return
			}
			require.NoError(t, err)
		})
	}
}

func pipeChild(mode string) {
	if mode == "notify" {
		signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	}
	var out io.Writer = os.Stdout
	if mode == "default" {
		// The hazard is in the write: hide the file from the writer's
		// watch on its reader, which would otherwise stop it before it
		// writes to the broken pipe.
		out = struct{ io.Writer }{os.Stdout}
	}
	w := alert.NewEventWriter(out, alert.FormatJSON, alert.WriterOptions{})
	ev := testEvent(alert.StateFiring, 1)
	for {
		w.Send(ev)
		select {
		case <-w.Done():
			if alert.IsBrokenPipe(w.Err()) {
				os.Exit(0) // the final snapshot would go here
			}
			os.Exit(3)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
