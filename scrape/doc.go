// Package scrape pulls metrics from Prometheus exporters into the store.
package scrape
