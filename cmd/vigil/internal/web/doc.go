// Package web is vigil's HTTP API: Prometheus' read-only API, so that
// Grafana, promtool, a central Prometheus (by federation) and another
// vigil can read a running vigil as they read a Prometheus.
//
// It owns the server (Server: New, Start, Close), which is off unless
// --web.listen-address gives it an address, and its endpoints, each with
// Prometheus' parameters, JSON shapes and error object
// ({"status":"error","errorType":"bad_data","error":"…"} with the HTTP
// status Prometheus gives that type):
//
//   - /api/v1/query and /api/v1/query_range (GET and POST), on an engine
//     of the server's own with the --query.* limits (NewEngineOptions
//     says why it is not the rules' engine);
//   - /api/v1/series, /api/v1/labels (GET and POST) and
//     /api/v1/label/NAME/values, on the store;
//   - /api/v1/metadata and /api/v1/targets, from the scrapes;
//     /api/v1/rules and /api/v1/alerts, from the rules;
//   - /api/v1/status/buildinfo and /api/v1/status/runtimeinfo, which
//     Grafana asks for;
//   - /federate with match[], in the text format; /metrics, vigil's own
//     metrics; /-/healthy and /-/ready.
//
// It promises:
//
//   - nothing writes, deletes or administers: any other path under
//     /api/v1 is Prometheus' not_found error;
//   - no request makes vigil grow without bound. At most
//     --query.max-concurrency requests read the store at once (query,
//     query_range, series, labels, label values, federate), each holding
//     its slot until its answer is written; waiting for one counts against
//     --query.timeout, and a request that waits too long gets Prometheus'
//     "query timed out in query queue". A query holds at most
//     --query.max-samples samples and runs at most --query.timeout, as in
//     Prometheus. Every answer is built whole before it is sent, at most
//     Options.MaxResponseBytes of it: a larger one is refused with an
//     execution error (422) that says what to ask for instead, never cut
//     off. Request bodies are bounded by net/http's form parsing (10 MB).
//   - What comes from targets (label names and values, errors) is
//     JSON-escaped as encoding/json escapes it and otherwise sent as it
//     is; in /federate, label values are escaped as the text format
//     wants.
//   - A listen address other machines can reach is refused without a web
//     config (Options.Check); with one, TLS and basic auth (bcrypt) are
//     exporter-toolkit's, which re-reads the file on each request as
//     every Prometheus exporter does.
//
// Where vigil's answers differ from Prometheus', because it keeps less:
// targets have no discovered labels ({}) and no dropped targets; metadata
// has types but no help or unit; alerts have no keepFiringSince; a rule
// group's evaluationTime is the sum of its rules'. Query statistics
// (stats=all), exemplars, CORS headers and the other status endpoints
// are not served.
package web
