// Package alert evaluates Prometheus alerting rules over the store.
package alert
