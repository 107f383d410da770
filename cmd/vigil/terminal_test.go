package main

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPlanIO(t *testing.T) {
	pipeR, pipeW, err := os.Pipe()
	require.NoError(t, err)
	defer pipeR.Close()
	defer pipeW.Close()
	fakeTTY, err := os.CreateTemp(t.TempDir(), "tty")
	require.NoError(t, err)
	defer fakeTTY.Close()
	ttyOK := func() (*os.File, error) { return fakeTTY, nil }
	noTTY := func() (*os.File, error) { return nil, errors.New("no /dev/tty") }

	tests := []struct {
		name    string
		opts    options
		openTTY func() (*os.File, error)
		want    ioPlan
		wantErr error
	}{
		{
			name:    "piped stdout: console on /dev/tty, json events on stdout",
			openTTY: ttyOK,
			want:    ioPlan{tui: true, tuiIn: fakeTTY, tuiOut: fakeTTY, ownsTTY: true, events: "json", logs: "file"},
		},
		{
			name:    "piped stdout, text events asked for",
			opts:    options{events: "text"},
			openTTY: ttyOK,
			want:    ioPlan{tui: true, tuiIn: fakeTTY, tuiOut: fakeTTY, ownsTTY: true, events: "text", logs: "file"},
		},
		{
			name:    "no terminal at all and no --headless",
			openTTY: noTTY,
			wantErr: errNoTerminal,
		},
		{
			name:    "headless: no console, logs on stderr, json events",
			opts:    options{headless: true},
			openTTY: noTTY,
			want:    ioPlan{events: "json", logs: "stderr"},
		},
		{
			name:    "headless with events off",
			opts:    options{headless: true, events: "none"},
			openTTY: noTTY,
			want:    ioPlan{events: "none", logs: "stderr"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := planIO(&tc.opts, pipeR, pipeW, tc.openTTY)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
