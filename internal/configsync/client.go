package configsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"portico.dev/portico/internal/ir"
)

// Defaults of the Client's tunables.
const (
	DefaultClientPollTimeout = 2 * time.Minute
	DefaultMinBackoff        = 250 * time.Millisecond
	DefaultMaxBackoff        = 30 * time.Second
	ackTimeout               = 15 * time.Second
)

// Client is the proxy side: it follows one Gateway's configuration on a
// Server. Set the fields, then call Run once.
type Client struct {
	// URL is the controller's base URL, e.g. "http://portico.portico-system:8081".
	URL string
	// Gateway is "namespace/name".
	Gateway string
	// ProxyID names this proxy to the controller (the Pod name).
	ProxyID string
	// Token, when not empty, is sent as a bearer token.
	Token string
	Log   *slog.Logger

	// HTTPClient sends the requests (a client of its own when nil). Its
	// Timeout, if any, must exceed the Server's PollTimeout.
	HTTPClient *http.Client
	// PollTimeout bounds one poll, in case the connection hangs
	// (DefaultClientPollTimeout when zero). It must exceed the Server's.
	PollTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before retrying after a
	// failure: it doubles from MinBackoff up to MaxBackoff, with jitter
	// (DefaultMinBackoff and DefaultMaxBackoff when zero).
	MinBackoff, MaxBackoff time.Duration
	// LiveAck, when set, returns the current answer to version (false when
	// it cannot say): a proxy's answer changes after apply, when a socket
	// opens on a background retry or stops or starts accepting. Changed
	// signals that it may have; the client then interrupts its poll and
	// sends the new answer if it differs from the one it sent.
	LiveAck func(version uint64) (ir.Ack, bool)
	Changed <-chan struct{}

	ready atomic.Bool
}

// Ready reports whether a configuration has been applied (accepted by
// apply) at least once.
func (c *Client) Ready() bool { return c.ready.Load() }

// Run follows the Gateway's configuration until ctx is done, then returns
// nil. Every new version is passed to apply exactly once, and its Ack (with
// Version set to that version) is posted back. While the controller cannot
// be reached, nothing is applied: what apply accepted last keeps serving,
// and Run retries with backoff. After reconnecting to a different Server
// instance (a restarted controller) it sends the ack of the version it
// holds again. Run returns an error at once only when the fields are
// invalid.
func (c *Client) Run(ctx context.Context, apply func(*ir.Config) ir.Ack) error {
	base, err := c.baseURL()
	if err != nil {
		return err
	}
	if c.ProxyID == "" {
		return errors.New("configsync: Client.ProxyID is empty")
	}
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("controller", c.URL, "gateway", c.Gateway)
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		defer hc.CloseIdleConnections()
	}

	var (
		version    uint64  // last version received (applied or refused)
		ack        *ir.Ack // our answer to version
		ackPending bool    // ack not yet delivered to the current instance
		ackedTo    string  // instance that received ack
		failures   int     // consecutive failures
	)
	fail := func(what string, err error) {
		failures++
		d := c.backoff(failures)
		lvl := slog.LevelWarn
		if failures > 1 && failures%10 != 0 {
			lvl = slog.LevelDebug // one warning per outage, then one every ten tries
		}
		log.Log(ctx, lvl, what+" failed; still serving the last config, retrying", "version", version, "attempt", failures, "retryIn", d.Round(time.Millisecond), "err", err)
		sleep(ctx, d)
	}

	for ctx.Err() == nil {
		if ack != nil && ack.Error == "" && c.LiveAck != nil {
			if la, ok := c.LiveAck(version); ok && !sameAck(la, *ack) {
				log.Debug("the answer to the config served changed; sending it", "version", version)
				ack, ackPending = &la, true
			}
		}
		if ackPending {
			// A failed ack is tried again before the next poll; the poll
			// itself does the backing off, so that an ack the controller
			// keeps rejecting cannot stop new versions from arriving.
			if inst, err := c.postAck(ctx, hc, base, *ack); err != nil {
				if ctx.Err() == nil && failures == 0 {
					log.Warn("sending the ack failed; will send it again", "version", version, "err", err)
				}
			} else {
				ackPending, ackedTo = false, inst
			}
		}

		res, interrupted, err := c.pollUnlessChanged(ctx, hc, base, version)
		if interrupted {
			continue // send the changed answer first
		}
		if err != nil {
			if ctx.Err() == nil {
				fail("polling the controller", err)
			}
			continue
		}
		if failures > 0 {
			log.Info("controller reachable again", "version", version)
			failures = 0
		}
		if res.body == nil { // 304
			if ack != nil && !ackPending && res.instance != ackedTo {
				log.Info("new controller instance; sending the ack of the config served again", "version", version)
				ackPending = true
			}
			continue
		}

		a, err := c.applyBody(res.body, apply, log)
		if err != nil {
			fail("reading the controller's answer", err)
			continue
		}
		version, ack, ackPending = a.Version, &a, true
	}
	return nil
}

// applyBody decodes a 200 answer and applies it; an undecodable config is
// refused without calling apply. An answer without a version cannot be
// acked: that is an error, retried with backoff.
func (c *Client) applyBody(body []byte, apply func(*ir.Config) ir.Ack, log *slog.Logger) (ir.Ack, error) {
	var res struct {
		Version uint64          `json:"version"`
		Config  json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return ir.Ack{}, fmt.Errorf("decoding %q: %w", truncate(body), err)
	}
	if res.Version == 0 {
		return ir.Ack{}, fmt.Errorf("answer without a version: %q", truncate(body))
	}
	var cfg ir.Config
	if err := json.Unmarshal(res.Config, &cfg); err != nil {
		log.Error("config refused: cannot decode it", "version", res.Version, "err", err)
		return ir.Ack{Version: res.Version, Error: "proxy cannot decode the config: " + err.Error()}, nil
	}
	cfg.Version = res.Version
	a := apply(&cfg)
	a.Version = res.Version
	if a.Error == "" {
		c.ready.Store(true)
	}
	// apply logs what it did; this is the stream's side of it.
	log.Debug("config received", "version", res.Version, "refused", a.Error, "listenerErrors", len(a.ListenerErrors))
	return a, nil
}

func (c *Client) baseURL() (string, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("configsync: controller URL %q: want http://host:port or https://host:port", c.URL)
	}
	ns, name, ok := strings.Cut(c.Gateway, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("configsync: gateway %q: want namespace/name", c.Gateway)
	}
	return strings.TrimSuffix(c.URL, "/") + "/v1/gateways/" + url.PathEscape(ns) + "/" + url.PathEscape(name), nil
}

// pollResult is a poll's answer: body is nil for 304.
type pollResult struct {
	body     []byte
	instance string
}

// pollUnlessChanged polls, interrupted (interrupted true) when Changed
// fires first.
func (c *Client) pollUnlessChanged(ctx context.Context, hc *http.Client, base string, version uint64) (pollResult, bool, error) {
	if c.Changed == nil {
		res, err := c.poll(ctx, hc, base, version)
		return res, false, err
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var changed atomic.Bool
	go func() {
		select {
		case <-c.Changed:
			changed.Store(true)
			cancel()
		case <-pctx.Done():
		}
	}()
	res, err := c.poll(pctx, hc, base, version)
	cancel()
	if err != nil && changed.Load() && ctx.Err() == nil {
		return pollResult{}, true, nil
	}
	return res, false, err
}

// sameAck compares acks by content.
func sameAck(a, b ir.Ack) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func (c *Client) poll(ctx context.Context, hc *http.Client, base string, version uint64) (pollResult, error) {
	timeout := c.PollTimeout
	if timeout <= 0 {
		timeout = DefaultClientPollTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	q := url.Values{"version": {strconv.FormatUint(version, 10)}, "proxy": {c.ProxyID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/config?"+q.Encode(), nil)
	if err != nil {
		return pollResult{}, err
	}
	resp, err := c.do(hc, req)
	if err != nil {
		return pollResult{}, err
	}
	defer resp.Body.Close()
	res := pollResult{instance: resp.Header.Get(InstanceHeader)}
	switch resp.StatusCode {
	case http.StatusNotModified:
		return res, nil
	case http.StatusOK:
		if res.body, err = io.ReadAll(resp.Body); err != nil {
			return pollResult{}, fmt.Errorf("reading the config: %w", err)
		}
		return res, nil
	}
	return pollResult{}, statusError(resp)
}

func (c *Client) postAck(ctx context.Context, hc *http.Client, base string, ack ir.Ack) (string, error) {
	body, err := json.Marshal(ackRequest{Proxy: c.ProxyID, Ack: ack})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/ack", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.do(hc, req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", statusError(resp)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Header.Get(InstanceHeader), nil
}

func (c *Client) do(hc *http.Client, req *http.Request) (*http.Response, error) {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return hc.Do(req)
}

func statusError(resp *http.Response) error {
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	err := fmt.Errorf("%s %s: %s: %s", resp.Request.Method, resp.Request.URL.Path, resp.Status, strings.TrimSpace(string(msg)))
	if resp.StatusCode == http.StatusUnauthorized {
		err = fmt.Errorf("%w (check the token file of the proxy and the controller)", err)
	}
	return err
}

// backoff is the wait after the nth consecutive failure: exponential from
// MinBackoff, capped at MaxBackoff, and drawn from its upper half.
func (c *Client) backoff(n int) time.Duration {
	lo, hi := c.MinBackoff, c.MaxBackoff
	if lo <= 0 {
		lo = DefaultMinBackoff
	}
	if hi <= 0 {
		hi = DefaultMaxBackoff
	}
	d := hi
	if n-1 < 32 && lo<<(n-1) > 0 && lo<<(n-1) < hi {
		d = lo << (n - 1)
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func truncate(b []byte) string {
	if len(b) > 256 {
		return string(b[:256]) + "..."
	}
	return string(b)
}
