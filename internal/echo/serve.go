package echo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// shutdownGrace is how long Serve lets in-flight requests finish after ctx
// is done before it closes their connections.
const shutdownGrace = 5 * time.Second

// Serve runs the echo backend until ctx is done: HTTP/1.1 and h2c on
// opts.Listen and, when opts.TLSListen is set, HTTPS (HTTP/1.1 and h2) on
// it. It returns nil after a shutdown caused by ctx, or the first error that
// stops a listener.
//
// Cleartext HTTP/2 uses net/http's own support (http.Protocols), which
// replaced the deprecated golang.org/x/net/http2/h2c: it accepts HTTP/2 with
// prior knowledge, not the HTTP/1.1 "Upgrade: h2c" dance.
func Serve(ctx context.Context, opts Options) error {
	if opts.Listen == "" {
		return errors.New("echo: Options.Listen is empty: give an address such as 127.0.0.1:3000")
	}
	var tlsConfig *tls.Config
	if opts.TLSListen != "" {
		var err error
		if tlsConfig, err = serverTLSConfig(opts); err != nil {
			return err
		}
	}

	var lc net.ListenConfig
	plainLn, err := lc.Listen(ctx, "tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("echo: listen on %s: %w", opts.Listen, err)
	}
	var tlsLn net.Listener
	if tlsConfig != nil {
		if tlsLn, err = lc.Listen(ctx, "tcp", opts.TLSListen); err != nil {
			_ = plainLn.Close()
			return fmt.Errorf("echo: listen on %s (TLS): %w", opts.TLSListen, err)
		}
	}
	if opts.HTTPPort == "" {
		opts.HTTPPort = strconv.Itoa(plainLn.Addr().(*net.TCPAddr).Port)
	}
	h := newHandler(opts)

	plain := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		Protocols:         new(http.Protocols),
	}
	plain.Protocols.SetHTTP1(true)
	plain.Protocols.SetUnencryptedHTTP2(true)
	servers := []*http.Server{plain}
	listeners := []net.Listener{plainLn}
	if tlsLn != nil {
		secure := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			TLSConfig:         tlsConfig,
			Protocols:         new(http.Protocols),
		}
		secure.Protocols.SetHTTP1(true)
		secure.Protocols.SetHTTP2(true)
		servers = append(servers, secure)
		listeners = append(listeners, tlsLn)
	}

	if opts.OnListening != nil {
		var tlsAddr net.Addr
		if tlsLn != nil {
			tlsAddr = tlsLn.Addr()
		}
		opts.OnListening(plainLn.Addr(), tlsAddr)
	}

	errc := make(chan error, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		ln := listeners[i]
		wg.Go(func() {
			var err error
			if srv.TLSConfig != nil {
				err = srv.ServeTLS(ln, "", "")
			} else {
				err = srv.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("echo: serve on %s: %w", ln.Addr(), err)
			}
		})
	}

	var result error
	select {
	case <-ctx.Done():
	case result = <-errc:
	}
	h.ws.closeAll()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			_ = srv.Close()
		}
	}
	wg.Wait()
	return result
}

func serverTLSConfig(opts Options) (*tls.Config, error) {
	if opts.TLSCertFile == "" || opts.TLSKeyFile == "" {
		return nil, fmt.Errorf("echo: TLSListen %s needs TLSCertFile and TLSKeyFile", opts.TLSListen)
	}
	cert, err := tls.LoadX509KeyPair(opts.TLSCertFile, opts.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("echo: load the TLS certificate %s and key %s: %w", opts.TLSCertFile, opts.TLSKeyFile, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if opts.TLSClientCAFile != "" {
		pemBytes, err := os.ReadFile(opts.TLSClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("echo: read the client CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("echo: client CA file %s holds no PEM certificate", opts.TLSClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}
