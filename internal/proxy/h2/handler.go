package h2

import (
	"context"
	"net/http"
	"net/textproto"
	"net/url"
	"runtime/debug"
	"strings"

	"golang.org/x/net/http2"
)

// handlerRequest builds the *http.Request of s as net/http's HTTP/2
// server would, or an error for a :path net/url rejects.
func (s *stream) handlerRequest() (*http.Request, error) {
	c, r := s.c, &s.req
	var u *url.URL
	if r.method == "CONNECT" {
		u = &url.URL{Host: r.authority}
	} else {
		var err error
		if u, err = url.ParseRequestURI(r.target); err != nil {
			return nil, errMalformed("invalid :path")
		}
	}
	h := make(http.Header, len(r.fields))
	for _, f := range r.fields {
		if f.Name == "cookie" || f.Name == "host" {
			continue
		}
		k := textproto.CanonicalMIMEHeaderKey(f.Name)
		h[k] = append(h[k], f.Value)
	}
	if r.cookies > 0 {
		h["Cookie"] = []string{r.cookie}
	}
	hr := &http.Request{
		Method:     r.method,
		URL:        u,
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Header:     h,
		Host:       r.authority,
		RequestURI: r.target,
		RemoteAddr: c.remoteAddr,
		TLS:        c.tls,
		Body:       http.NoBody,
	}
	if r.method == "CONNECT" {
		hr.RequestURI = r.authority
	}
	for _, v := range h["Trailer"] {
		for _, k := range strings.Split(v, ",") {
			switch k = textproto.CanonicalMIMEHeaderKey(textproto.TrimString(k)); k {
			case "", "Transfer-Encoding", "Trailer", "Content-Length":
			default:
				if hr.Trailer == nil {
					hr.Trailer = http.Header{}
				}
				hr.Trailer[k] = nil
			}
		}
	}
	delete(h, "Trailer")
	if s.body != nil {
		hr.Body = s.body
		hr.ContentLength = s.declared
		s.body.trailer = hr.Trailer
		s.body.expect = strings.EqualFold(h.Get("Expect"), "100-continue")
	}
	ctx, cancel := context.WithCancel(c.baseContext())
	s.cancel = cancel
	return hr.WithContext(ctx), nil
}

// serveHandler runs the socket's http.Handler for s.
func (s *stream) serveHandler(hr *http.Request) {
	c := s.c
	defer c.finish(s)
	w := &responseWriter{s: s, req: hr, isHead: hr.Method == "HEAD", contentLength: -1}
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				c.srv.log.Error("panic serving request", "remote", c.remoteAddr, "url", hr.URL.String(), "panic", v, "stack", string(debug.Stack()))
			}
			c.w.lock()
			c.w.rstLocked(s, http2.ErrCodeInternal)
			c.w.unlock()
		}
	}()
	c.srv.cfg.Handler.ServeHTTP(w, hr)
	w.finish()
}

// baseContext is the parent of the connection's request contexts.
func (c *conn) baseContext() context.Context {
	if c.ctx == nil {
		ctx := c.srv.cfg.BaseContext
		if c.srv.cfg.HTTPServer != nil {
			ctx = context.WithValue(ctx, http.ServerContextKey, c.srv.cfg.HTTPServer)
		}
		c.ctx = context.WithValue(ctx, http.LocalAddrContextKey, c.nc.LocalAddr())
	}
	return c.ctx
}
