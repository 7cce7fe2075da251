package guard

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Absolute URLs come in two kinds, trusted differently.
//
// Links that leave the server in messages (confirmation e-mails and SMS, queued in
// reports.outbox) use MessageBase: the configured public URL (-public-url), else the server's
// listen address. Never the request: a request with "Host: evil.example" would otherwise make the
// city send a real message pointing elsewhere.
//
// Self links in answers (OGC API, TileJSON, the tile catalog, Open311 discovery and media URLs,
// follow_url) use RequestBase: the public URL when configured; otherwise the host the client
// asked for (it only goes back to that client), with https only over TLS or, behind a trusted
// proxy (-trust-proxy), when X-Forwarded-Proto says so.

// MessageBase is the site's address for links in messages sent out; "" (relative links) when
// neither PublicURL nor ListenURL is set.
func (g *Guard) MessageBase() string {
	if u := g.config.PublicURL; u != "" {
		return strings.TrimSuffix(u, "/")
	}
	return strings.TrimSuffix(g.config.ListenURL, "/")
}

// RequestBase is the scheme and host for self links in an answer to r.
func (g *Guard) RequestBase(r *http.Request) string {
	if u := g.config.PublicURL; u != "" {
		return strings.TrimSuffix(u, "/")
	}
	scheme := "http"
	if r.TLS != nil || (g.config.TrustForwardedFor && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// ParsePublicURL checks a -public-url value: http or https, a host, no path, query or
// credentials. It returns the URL without a trailing slash ("" stays "").
func ParsePublicURL(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("public URL %q: want scheme and host only, e.g. https://geo.aktobe.kz", v)
	}
	return u.Scheme + "://" + u.Host, nil
}

// ListenURL is the http:// address of a listener, for links when no public URL is configured
// (an unspecified address such as 0.0.0.0 becomes localhost).
func ListenURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
