// Package tui is vigil's terminal console.
package tui
