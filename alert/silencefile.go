package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilterm/vigil/store/fileutil"
)

// SilencesFileName is the file in vigil's data directory that keeps the
// console's local silences across restarts: a JSON array of
// {"labels": {name: value, ...}, "until": RFC 3339 time}, rewritten whole
// (temporary file, fsync, rename) whenever a silence is set or lifted.
// An operator may read or edit it while vigil is stopped.
const SilencesFileName = "silences.json"

// maxSilencesFile bounds what is read of the file: MaxSilences silences
// of a few hundred bytes each.
const maxSilencesFile = 16 << 20

type silenceRecord struct {
	Labels map[string]string `json:"labels"`
	Until  time.Time         `json:"until"`
}

// SilenceFile keeps a Manager's local silences in a file, so that they
// survive a restart: Restore sets the saved ones before the Manager
// starts, and Silence, the console's Silencer, sets one and saves them
// all. A crash while saving leaves the old file or the new one, whole.
type SilenceFile struct {
	m    *Manager
	path string
	mu   sync.Mutex // one save at a time
}

// NewSilenceFile keeps m's silences in the file at path (usually
// SilencesFileName in the data directory).
func NewSilenceFile(m *Manager, path string) *SilenceFile {
	return &SilenceFile{m: m, path: path}
}

// Silence sets the silence in the Manager (Manager.Silence), then saves
// every silence in force. A silence that could not be saved still holds
// until vigil stops; the error says so.
func (f *SilenceFile) Silence(ctx context.Context, ls labels.Labels, until time.Time) error {
	if err := f.m.Silence(ctx, ls, until); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := writeSilences(f.path, f.m.Silences(time.Now())); err != nil {
		return fmt.Errorf("the silence holds until vigil stops, but was not saved: %w", err)
	}
	return nil
}

// Restore sets the saved silences still in force at now in the Manager;
// call it before Start, so that no event goes out unsilenced. It returns
// how many it set, and an error for each part of the file that could not
// be read, which loses only that part. A missing file is no silences and
// no error.
func (f *SilenceFile) Restore(now time.Time) (int, error) {
	// A crash in a save may have left its temporary file; this vigil
	// owns the data directory now, so nothing else writes one.
	sweepErr := fileutil.RemoveTemps(f.path)
	ss, err := readSilences(f.path, now)
	err = errors.Join(sweepErr, err)
	n := 0
	for _, s := range ss {
		if serr := f.m.Silence(context.Background(), s.Labels, s.Until); serr != nil {
			return n, errors.Join(err, serr)
		}
		n++
	}
	return n, err
}

// writeSilences replaces the file at path with ss, atomically: a crash
// leaves the old file or the new one, whole.
func writeSilences(path string, ss []Silenced) error {
	recs := make([]silenceRecord, 0, len(ss))
	for _, s := range ss {
		recs = append(recs, silenceRecord{Labels: s.Labels.Map(), Until: s.Until.UTC()})
	}
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	return fileutil.WriteFile(path, append(b, '\n'))
}

// readSilences reads the silences file at path: those still in force at
// now, and an error for each part that could not be read, which loses
// only that part. A missing file is no silences and no error.
func readSilences(path string, now time.Time) ([]Silenced, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSilencesFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxSilencesFile {
		return nil, fmt.Errorf("%s: larger than %d bytes; not read", path, maxSilencesFile)
	}
	ss, errs := parseSilences(b, now)
	for i, err := range errs {
		errs[i] = fmt.Errorf("%s: %w", path, err)
	}
	return ss, errors.Join(errs...)
}

// parseSilences reads the file's bytes: the silences in force at now, at
// most MaxSilences of them, and an error for each entry that is not a
// silence (the others are kept), or one error for bytes that are not a
// JSON array at all.
func parseSilences(b []byte, now time.Time) ([]Silenced, []error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, []error{jsonError(b, err)}
	}
	var (
		out  []Silenced
		errs []error
	)
	for i, r := range raw {
		var rec silenceRecord
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			errs = append(errs, fmt.Errorf("entry %d: %w", i+1, err))
			continue
		}
		ls := labels.FromMap(rec.Labels)
		switch {
		case ls.IsEmpty():
			errs = append(errs, fmt.Errorf("entry %d: no labels", i+1))
			continue
		case !ls.IsValid(model.UTF8Validation):
			errs = append(errs, fmt.Errorf("entry %d: labels %s are not valid", i+1, ls))
			continue
		case !now.Before(rec.Until):
			continue // over: nothing to restore
		case len(out) == MaxSilences:
			errs = append(errs, fmt.Errorf("entry %d and after: more than %d silences", i+1, MaxSilences))
			return out, errs
		}
		out = append(out, Silenced{Labels: ls, Until: rec.Until})
	}
	return out, errs
}

// jsonError places a JSON syntax or type error at its line and column.
func jsonError(b []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset - 1 // the offset is after the byte that is wrong
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(b)) {
		return err
	}
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(b[:off], '\n')
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}
