package scrape

import (
	"fmt"
	"strings"
)

// ByteSize is a size in bytes written like Prometheus' body_size_limit:
// a number with an optional unit, B, KB/KiB, MB/MiB, GB/GiB, TB/TiB (all
// powers of 1024, as in Prometheus).
type ByteSize int64

// UnmarshalYAML parses a size.
func (b *ByteSize) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	n, err := ParseByteSize(s)
	if err != nil {
		return err
	}
	*b = n
	return nil
}

// ParseByteSize parses "10MB", "512KiB", "1024" and the like.
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("invalid size %q: want a number and a unit such as 10MB", s)
	}
	var n int64
	for _, c := range s[:i] {
		n = n*10 + int64(c-'0')
		if n > 1<<50 {
			return 0, fmt.Errorf("invalid size %q: too large", s)
		}
	}
	mult := map[string]int64{"": 1, "B": 1, "KB": 1 << 10, "KIB": 1 << 10, "MB": 1 << 20, "MIB": 1 << 20,
		"GB": 1 << 30, "GIB": 1 << 30, "TB": 1 << 40, "TIB": 1 << 40}[strings.ToUpper(s[i:])]
	if mult == 0 {
		return 0, fmt.Errorf("invalid size %q: unknown unit %q (use B, KB, MB, GB or TB)", s, s[i:])
	}
	return ByteSize(n * mult), nil
}
