//go:build slicelabels || dedupelabels

package store

import "github.com/prometheus/prometheus/model/labels"

// labelArena builds label sets with a labels.ScratchBuilder: the arena of
// labelarena.go writes stringlabels' representation, which these builds
// do not use.
type labelArena struct{ sb labels.ScratchBuilder }

func (a *labelArena) reset()                         { a.sb.Reset() }
func (a *labelArena) add(name, value string)         { a.sb.Add(name, value) }
func (a *labelArena) labels() (labels.Labels, error) { return a.sb.Labels(), nil }
func (a *labelArena) done()                          {}
