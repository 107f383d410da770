// Package store is vigil's embedded time-series database.
package store
