package scrape

import (
	"fmt"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
)

// newEntry builds the stored labels of a series the loop has not seen in
// this form: target labels merged in, metric relabeling, then the checks
// and limits. Two forms of the same series share one entry.
func (l *loop) newEntry(sample labels.Labels) (*entry, bool, error) {
	lset := l.sampleLabels(sample)
	if lset.IsEmpty() {
		return l.series.addDropped(), false, nil
	}
	if err := l.checkLabels(lset); err != nil {
		return nil, false, err
	}
	ce, isNew := l.series.add(lset)
	return ce, isNew, nil
}

// sampleLabels merges the target labels into a sample's, as honor_labels
// says (else the sample's clashing ones are kept as exported_…), drops
// empty labels and applies metric_relabel_configs. It returns no labels
// for a sample that relabeling drops.
func (l *loop) sampleLabels(sample labels.Labels) labels.Labels {
	lb := l.lb
	lb.Reset(sample)
	target := l.t.labels
	if l.opts.honorLabels {
		target.Range(func(tl labels.Label) {
			if sample.Get(tl.Name) == "" {
				lb.Set(tl.Name, tl.Value)
			}
		})
	} else {
		var conflicts []labels.Label
		target.Range(func(tl labels.Label) {
			if v := sample.Get(tl.Name); v != "" {
				conflicts = append(conflicts, labels.Label{Name: tl.Name, Value: v})
			}
			lb.Set(tl.Name, tl.Value)
		})
		for _, c := range conflicts {
			name := model.ExportedLabelPrefix + c.Name
			for lb.Get(name) != "" {
				name = model.ExportedLabelPrefix + name
			}
			lb.Set(name, c.Value)
		}
	}
	lb.Range(func(x labels.Label) {
		if x.Value == "" {
			lb.Del(x.Name)
		}
	})
	if len(l.opts.metricRelabel) > 0 && !relabel.ProcessBuilder(lb, l.opts.metricRelabel...) {
		return labels.EmptyLabels()
	}
	return lb.Labels()
}

// checkLabels fails a scrape with a series that has no name, labels that
// are not valid UTF-8, or that breaks label_limit,
// label_name_length_limit or label_value_length_limit.
func (l *loop) checkLabels(lset labels.Labels) error {
	name := lset.Get(model.MetricNameLabel)
	if name == "" {
		return fmt.Errorf("a series has no metric name after relabeling: %.100s", lset.String())
	}
	if !lset.IsValid(model.UTF8Validation) {
		return fmt.Errorf("invalid label set (names and values must be valid UTF-8): %.100q", lset.String())
	}
	if n := l.opts.labelLimit; n > 0 && lset.Len() > n {
		return fmt.Errorf("label_limit exceeded (metric: %.50s, number of labels: %d, limit: %d)", name, lset.Len(), n)
	}
	var err error
	lset.Range(func(x labels.Label) {
		if err != nil {
			return
		}
		if n := l.opts.nameLenLimit; n > 0 && len(x.Name) > n {
			err = fmt.Errorf("label_name_length_limit exceeded (metric: %.50s, label name: %.50s, length: %d, limit: %d)", name, x.Name, len(x.Name), n)
		}
		if n := l.opts.valueLenLimit; n > 0 && len(x.Value) > n {
			err = fmt.Errorf("label_value_length_limit exceeded (metric: %.50s, label name: %.50s, value: %.50q, length: %d, limit: %d)", name, x.Name, x.Value, len(x.Value), n)
		}
	})
	return err
}
