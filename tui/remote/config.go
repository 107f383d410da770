package remote

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/prometheus/common/config"
)

// LoadClientConfig reads the HTTP client config of a remote
// (--source-config): Prometheus' HTTPClientConfig in YAML, as a scrape
// config or remote_read block holds it (basic_auth, authorization,
// oauth2, tls_config, proxy_url, http_headers, follow_redirects,
// enable_http2). Relative file names in it are relative to the file. An
// empty file is the default config.
func LoadClientConfig(file string) (config.HTTPClientConfig, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return config.HTTPClientConfig{}, fmt.Errorf("source config: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return config.DefaultHTTPClientConfig, nil
	}
	cfg, _, err := config.LoadHTTPConfigFile(file)
	if err != nil {
		// yaml's errors name the line; the file is ours to name.
		return config.HTTPClientConfig{}, fmt.Errorf("source config %s: %w", file, err)
	}
	return *cfg, nil
}

// ParseURL checks the URL of a remote API (--source): http or https, a
// host, and no credentials, which belong in the client config (where they
// are not on the command line for ps to show, and are kept out of every
// message). A path is kept as the API's prefix (Mimir's /prometheus).
func ParseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url's error quotes the whole URL, credentials and all.
		return nil, errors.New("--source: not a URL: use http://HOST:PORT[/PREFIX]")
	}
	if u.User != nil {
		return nil, fmt.Errorf("--source %s: credentials in the URL would show in ps: put them in --source-config (basic_auth or authorization)", u.Redacted())
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--source %s: want an http or https URL, as http://HOST:PORT[/PREFIX]", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("--source %s: no host in the URL", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--source %s: a query or fragment has no place in the API's URL", u.Redacted())
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// secrets are the secret values cfg holds, or that the files it names
// hold now: what no message may show. Longest first, so that a secret
// that holds another is replaced whole.
func secrets(cfg config.HTTPClientConfig) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	file := func(name string) {
		if name == "" {
			return
		}
		if b, err := os.ReadFile(name); err == nil {
			add(string(b))
		}
	}
	if a := cfg.BasicAuth; a != nil {
		user, pass := a.Username, string(a.Password)
		if b, err := os.ReadFile(a.UsernameFile); a.UsernameFile != "" && err == nil {
			user = strings.TrimSpace(string(b))
		}
		if b, err := os.ReadFile(a.PasswordFile); a.PasswordFile != "" && err == nil {
			pass = strings.TrimSpace(string(b))
		}
		add(pass)
		if pass != "" {
			// The Authorization header carries it in base64, which a
			// remote's error could echo.
			add(base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)))
		}
	}
	if a := cfg.Authorization; a != nil {
		add(string(a.Credentials))
		file(a.CredentialsFile)
	}
	add(string(cfg.BearerToken))
	file(cfg.BearerTokenFile)
	if o := cfg.OAuth2; o != nil {
		add(string(o.ClientSecret))
		file(o.ClientSecretFile)
		add(string(o.ClientCertificateKey))
		if o.ProxyURL.URL != nil {
			if p, ok := o.ProxyURL.User.Password(); ok {
				add(p)
			}
		}
	}
	add(string(cfg.TLSConfig.Key))
	if cfg.ProxyURL.URL != nil && cfg.ProxyURL.User != nil {
		if p, ok := cfg.ProxyURL.User.Password(); ok {
			add(p)
		}
	}
	for _, vs := range cfg.ProxyConnectHeader {
		for _, v := range vs {
			add(string(v))
		}
	}
	if h := cfg.HTTPHeaders; h != nil {
		for _, hd := range h.Headers {
			for _, v := range hd.Secrets {
				add(string(v))
			}
			for _, f := range hd.Files {
				file(f)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// redactor replaces every secret in a text with <secret>.
type redactor struct{ r *strings.Replacer }

func newRedactor(secrets []string) redactor {
	if len(secrets) == 0 {
		return redactor{}
	}
	var pairs []string
	for _, s := range secrets {
		pairs = append(pairs, s, "<secret>")
	}
	return redactor{strings.NewReplacer(pairs...)}
}

func (r redactor) text(s string) string {
	if r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// err returns err with every secret replaced in its text; errors.Is and
// errors.As still see what it wraps.
func (r redactor) err(err error) error {
	if err == nil || r.r == nil {
		return err
	}
	return &redactedError{msg: r.text(err.Error()), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
