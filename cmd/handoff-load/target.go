package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// checkLoopback parses target and refuses anything but an http(s) URL whose
// host is loopback: 127.0.0.0/8, ::1 or "localhost". The tool floods what it
// points at, so it must not be aimable at someone else's server.
func checkLoopback(target string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("--target %q: %w", target, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--target %q: want http://127.0.0.1:PORT (scheme http or https)", target)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--target %q: want a base URL without credentials, query or fragment", target)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("--target %q: no host", target)
	}
	if !isLoopbackHost(host) {
		return nil, fmt.Errorf("--target %q: host %q is not loopback (127.0.0.0/8, ::1 or localhost); the load tool only targets this machine", target, host)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if v4 := ip.To4(); v4 != nil {
		return v4[0] == 127
	}
	return ip.Equal(net.IPv6loopback)
}
