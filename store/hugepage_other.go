//go:build !linux

package store

// adviseHugePages is a Linux madvise hint; elsewhere it does nothing.
func adviseHugePages([]byte) (undo func()) { return func() {} }
