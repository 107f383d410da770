package scrape

import (
	"fmt"
	"sort"
	"strings"
)

// Scrape protocols, as Prometheus names them in scrape_protocols.
const (
	ProtoPrometheusProto      = "PrometheusProto"
	ProtoOpenMetricsText0_0_1 = "OpenMetricsText0.0.1"
	ProtoOpenMetricsText1_0_0 = "OpenMetricsText1.0.0"
	ProtoPrometheusText0_0_4  = "PrometheusText0.0.4"
	ProtoPrometheusText1_0_0  = "PrometheusText1.0.0"
)

// protocolHeaders maps each scrape protocol to its media type for the
// Accept header and the parser.
var protocolHeaders = map[string]string{
	ProtoPrometheusProto:      "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
	ProtoOpenMetricsText1_0_0: "application/openmetrics-text;version=1.0.0",
	ProtoOpenMetricsText0_0_1: "application/openmetrics-text;version=0.0.1",
	ProtoPrometheusText1_0_0:  "text/plain;version=1.0.0",
	ProtoPrometheusText0_0_4:  "text/plain;version=0.0.4",
}

// DefaultScrapeProtocols is what Prometheus asks for when protobuf is not
// enabled. Put PrometheusProto first in scrape_protocols to get protobuf.
var DefaultScrapeProtocols = []string{
	ProtoOpenMetricsText1_0_0,
	ProtoOpenMetricsText0_0_1,
	ProtoPrometheusText1_0_0,
	ProtoPrometheusText0_0_4,
}

func knownProtocols() string {
	var ks []string
	for k := range protocolHeaders {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// acceptHeader asks for protocols in their order of preference, as
// Prometheus' Accept header does, and for anything else last.
func acceptHeader(protocols []string) string {
	var vals []string
	weight := len(protocolHeaders) + 1
	for _, p := range protocols {
		v := protocolHeaders[p]
		if p == ProtoPrometheusText1_0_0 || p == ProtoOpenMetricsText1_0_0 {
			v += ";escaping=allow-utf-8"
		}
		vals = append(vals, fmt.Sprintf("%s;q=0.%d", v, weight))
		weight--
	}
	vals = append(vals, fmt.Sprintf("*/*;q=0.%d", weight))
	return strings.Join(vals, ",")
}
