package scrape

import (
	"reflect"
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// unsupported names the Prometheus features vigil refuses, with what to do.
var unsupported = map[string]string{
	"remote_read":                        "vigil reads only its own store",
	"storage":                            "use the --retention and --max-series flags",
	"tracing":                            "vigil does not export traces",
	"otlp":                               "vigil does not receive OTLP",
	"runtime":                            "vigil does not tune the Go runtime from its config",
	"scrape_config_files":                "put the scrape configs in this file",
	"alert_relabel_configs":              "relabel alerts in Alertmanager",
	"target_limit":                       "vigil scrapes every target of a job",
	"keep_dropped_targets":               "vigil does not keep dropped targets",
	"native_histogram_bucket_limit":      "vigil stores float samples only",
	"native_histogram_min_bucket_factor": "vigil stores float samples only",
	"scrape_classic_histograms":          "vigil stores float samples only; classic histograms are always kept",
	"always_scrape_classic_histograms":   "vigil stores float samples only; classic histograms are always kept",
	"convert_classic_histograms_to_nhcb": "vigil stores float samples only",
	"query_log_file":                     "vigil has no query log",
	"scrape_failure_log_file":            "scrape errors are shown on the Targets view",
	"sigv4":                              "vigil has no cloud SDKs: use basic_auth, authorization or oauth2",
	"azuread":                            "vigil has no cloud SDKs: use basic_auth, authorization or oauth2",
	"google_iam":                         "vigil has no cloud SDKs: use basic_auth, authorization or oauth2",
	"round_robin_dns":                    "vigil connects to the address its resolver gives first",
	"failed_request_logging":             "vigil logs each failed remote_write request's error",
	"convert_nhcb_to_classic":            "vigil stores float samples only",
}

// checkKeys reports unknown and unsupported keys in n, a node for type t,
// and in everything below it.
func (l *loader) checkKeys(n *yaml.Node, t reflect.Type, where string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice {
			for _, item := range n.Content {
				l.checkKeys(item, t.Elem(), where)
			}
		}
	case yaml.MappingNode:
		if t.Kind() != reflect.Struct {
			return
		}
		fields := yamlFields(t)
		if len(fields) == 0 {
			return // a type with its own YAML form (labels and the like)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" { // <<: *anchor merges a mapping of the same kind
				l.checkKeys(v, reflect.SliceOf(t), where)
				l.checkKeys(v, t, where)
				continue
			}
			ft, ok := fields[k.Value]
			if ok {
				l.checkKeys(v, ft, k.Value)
				continue
			}
			switch why, known := unsupported[k.Value]; {
			case known:
				l.errorf(k, "%s is not supported by vigil: %s (supported in %s: %s)", k.Value, why, where, supported(fields))
			case strings.HasSuffix(k.Value, "_sd_configs"):
				l.errorf(k, "%s is not supported by vigil: service discovery is static_configs and file_sd_configs only", k.Value)
			default:
				l.errorf(k, "unknown key %q in %s (supported: %s)", k.Value, where, supported(fields))
			}
		}
	}
}

func supported(fields map[string]reflect.Type) string {
	var ks []string
	for k := range fields {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	if len(ks) > 12 {
		return strings.Join(ks[:12], ", ") + ", …"
	}
	return strings.Join(ks, ", ")
}

// yamlFields maps the YAML keys of struct t (with inlined structs) to their
// types. A struct without yaml tags gets an empty map: it decodes itself.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("yaml")
		if !ok {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if slices.Contains(strings.Split(opts, ","), "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					fields[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}
