package alert

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// fileNodes is where each part of a rule file is, read again from its YAML
// nodes to put a line and column on the errors rulefmt reports without one
// (a group's name, its labels, a duration that does not parse, a template).
// It is best effort: nodes that are not where a rule file has them are
// skipped.
type fileNodes struct {
	groups []groupNodes
}

type groupNodes struct {
	node      *yaml.Node // the group's mapping
	name      string
	values    map[string]*yaml.Node // field name → value
	labelKeys map[string]*yaml.Node // label name → its key
	rules     []ruleNodes
}

type ruleNodes struct {
	node           *yaml.Node // the rule's mapping
	name           string     // alert or record
	alert          bool
	values         map[string]*yaml.Node
	labelKeys      map[string]*yaml.Node
	annotationKeys map[string]*yaml.Node
}

func pos(n *yaml.Node) string { return fmt.Sprintf("%d:%d", n.Line, n.Column) }

// pairs calls f for each key and value of a mapping node.
func pairs(n *yaml.Node, f func(k, v *yaml.Node)) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		f(n.Content[i], n.Content[i+1])
	}
}

func keysOf(n *yaml.Node) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	pairs(n, func(k, _ *yaml.Node) { out[k.Value] = k })
	return out
}

func readNodes(content []byte) fileNodes {
	var doc yaml.Node
	var out fileNodes
	if yaml.Unmarshal(content, &doc) != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return out
	}
	pairs(doc.Content[0], func(k, v *yaml.Node) {
		if k.Value != "groups" || v.Kind != yaml.SequenceNode {
			return
		}
		for _, gn := range v.Content {
			g := groupNodes{node: gn, values: map[string]*yaml.Node{}}
			pairs(gn, func(k, v *yaml.Node) {
				g.values[k.Value] = v
				switch k.Value {
				case "name":
					g.name = v.Value
				case "labels":
					g.labelKeys = keysOf(v)
				case "rules":
					if v.Kind != yaml.SequenceNode {
						return
					}
					for _, rn := range v.Content {
						r := ruleNodes{node: rn, values: map[string]*yaml.Node{}}
						pairs(rn, func(k, v *yaml.Node) {
							r.values[k.Value] = v
							switch k.Value {
							case "alert":
								r.name, r.alert = v.Value, true
							case "record":
								if r.name == "" {
									r.name = v.Value
								}
							case "labels":
								r.labelKeys = keysOf(v)
							case "annotations":
								r.annotationKeys = keysOf(v)
							}
						})
						g.rules = append(g.rules, r)
					}
				}
			})
			out.groups = append(out.groups, g)
		}
	})
	return out
}
