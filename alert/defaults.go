package alert

import (
	_ "embed"
	"fmt"
)

//go:embed default_rules.yml
var defaultRules []byte

// DefaultRulesYAML returns the built-in rule file, for `vigil check rules`
// and for operators who want to start their own from it.
func DefaultRulesYAML() []byte { return append([]byte(nil), defaultRules...) }

// DefaultGroups returns the built-in node rules (target down, CPU busy,
// memory and filesystems almost full, filesystems filling up, load per CPU,
// network errors, clock skew), used when no rule is given. Each rule fires
// only where its series exist.
func DefaultGroups() []GroupConfig {
	gs, err := ParseGroups(FileDefault, defaultRules)
	if err != nil {
		// The file is embedded and tested: this is a build defect.
		panic(fmt.Sprintf("built-in rules: %v", err))
	}
	return gs
}
