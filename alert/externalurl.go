package alert

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ParseExternalURL checks the URL vigil is reached at (--web.external-url,
// Prometheus' flag) and returns it as Options.ExternalURL takes it: with
// the path's trailing slashes trimmed, as Prometheus trims them, so that
// $externalURL and generator URLs ("…/graph?g0.expr=…") have one slash
// between them. It must be an absolute http or https URL.
func ParseExternalURL(s string) (string, error) {
	if strings.HasPrefix(s, `"`) || strings.HasPrefix(s, "'") || strings.HasSuffix(s, `"`) || strings.HasSuffix(s, "'") {
		return "", errors.New("the URL must not begin or end with quotes")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL: want one such as http://vigil.example:9090/", s)
	}
	p := strings.TrimRight(u.Path, "/")
	if p != "" && !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	u.Path, u.RawPath = p, ""
	return u.String(), nil
}
