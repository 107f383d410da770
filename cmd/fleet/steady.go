package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Steady is what target i of a -steady fleet does, exactly: the figures
// a console must show for it once it has two samples. -expect writes them
// for every target, keyed by address, for tests that check a console's
// figures against the truth.
type Steady struct {
	CPUBusyPercent         float64 `json:"cpu_busy_percent"`        // every CPU, every second
	MemoryUsedPercent      float64 `json:"memory_used_percent"`     // 1 - MemAvailable/MemTotal
	FilesystemUsedPercent  float64 `json:"filesystem_used_percent"` // 1 - avail/size of every filesystem
	ReceiveBytesPerSecond  float64 `json:"receive_bytes_per_second"`
	TransmitBytesPerSecond float64 `json:"transmit_bytes_per_second"`
	DiskReadBytesPerSecond float64 `json:"disk_read_bytes_per_second"`
	DiskWriteBytesPerSec   float64 `json:"disk_written_bytes_per_second"`
	DiskBusyPercent        float64 `json:"disk_busy_percent"` // node_disk_io_time_seconds_total a second
}

// steadyOf is target i's steady figures. The shares step through a
// permutation of a hundred values (7, 13, 29 and 17 are prime to 100),
// so that among a hundred targets no two are equally busy: the busiest
// is target 57, at 94.1%.
func steadyOf(i int) Steady {
	perm := func(p int) float64 { return float64(i*p%100) / 100 }
	rx := 1000 * float64(1+i*17%100)
	read := 1e4 * float64(1+i%10)
	return Steady{
		CPUBusyPercent:         100 * (0.05 + 0.9*perm(7)),
		MemoryUsedPercent:      100 * (0.2 + 0.7*perm(13)),
		FilesystemUsedPercent:  100 * (0.1 + 0.8*perm(29)),
		ReceiveBytesPerSecond:  rx,
		TransmitBytesPerSecond: rx / 4,
		DiskReadBytesPerSecond: read,
		DiskWriteBytesPerSec:   2 * read,
		DiskBusyPercent:        float64(1 + i%10),
	}
}

// makeSteady turns t into a steady target: its CPUs busy a fixed share,
// memory and filesystems at fixed fills, the network and disk counters
// growing at fixed rates, every other counter at its recorded rate since
// boot without a random factor, and every other gauge at its recorded
// value.
func (t *target) makeSteady() {
	s := steadyOf(t.index)
	t.steady = true
	t.busy = s.CPUBusyPercent / 100
	for c := range t.cpus {
		t.cpus[c] = t.busy
	}
	memTotal := 0.0
	for _, l := range t.lines {
		if name(l.prefix) == "node_memory_MemTotal_bytes" {
			memTotal = l.base
		}
	}
	sizes := map[string]float64{} // filesystem labels → size
	for _, l := range t.lines {
		if name(l.prefix) == "node_filesystem_size_bytes" {
			sizes[labelsOf(l.prefix)] = l.base
		}
	}
	avail := 1 - s.FilesystemUsedPercent/100
	for i := range t.lines {
		l := &t.lines[i]
		if l.model == gauge || l.model == falling {
			l.model, l.value = constant, l.base
		}
		dev := labelValue(l.prefix, "device")
		perSec := map[string]float64{
			"node_network_receive_bytes_total":  s.ReceiveBytesPerSecond,
			"node_network_transmit_bytes_total": s.TransmitBytesPerSecond,
			"node_disk_read_bytes_total":        s.DiskReadBytesPerSecond,
			"node_disk_written_bytes_total":     s.DiskWriteBytesPerSec,
			"node_disk_io_time_seconds_total":   s.DiskBusyPercent / 100,
		}
		n := name(l.prefix)
		switch {
		case n == "node_memory_MemAvailable_bytes" && memTotal > 0:
			l.model, l.value = constant, memTotal*(1-s.MemoryUsedPercent/100)
		case n == "node_memory_MemFree_bytes" && memTotal > 0:
			l.model, l.value = constant, memTotal*(1-s.MemoryUsedPercent/100)/2
		case n == "node_filesystem_avail_bytes":
			l.model, l.value = constant, sizes[labelsOf(l.prefix)]*avail
		case n == "node_filesystem_free_bytes":
			l.model, l.value = constant, sizes[labelsOf(l.prefix)]*avail
		case perSec[n] > 0 && (dev == "eth0" || dev == "vda"):
			// The recording's one interface and one disk that count.
			l.model, l.rate = linear, perSec[n]
		}
		l.base = l.value
	}
}

// name is the metric name of a recorded series prefix.
func name(prefix string) string {
	if i := strings.IndexAny(prefix, "{ "); i >= 0 {
		return prefix[:i]
	}
	return prefix
}

// labelsOf is the label part of a recorded series prefix.
func labelsOf(prefix string) string {
	if i := strings.IndexByte(prefix, '{'); i >= 0 {
		return strings.TrimSpace(prefix[i:])
	}
	return ""
}

// writeExpect writes the steady figures of every target that answers, by
// address, as JSON.
func writeExpect(path string, addrs map[int]string) error {
	out := map[string]Steady{}
	for i, a := range addrs {
		out[a] = steadyOf(i)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write -expect: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write -expect: %w", err)
	}
	return nil
}
