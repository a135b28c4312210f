package kubelet

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/reflection"
	pb "sigs.k8s.io/gateway-api-conformance-images/echo-basic/grpcechoserver"
	"sigs.k8s.io/gateway-api-conformance-images/echo-basic/tcpserver"
	"sigs.k8s.io/gateway-api-conformance-images/echo-basic/udpechoserver"

	"portico.dev/portico/internal/echo"
)

// Container kinds, chosen from the image and the environment the way
// echo-basic chooses its mode.
const (
	kindHTTPEcho = "echo-basic (HTTP, h2c, HTTPS)"
	kindGRPCEcho = "echo-basic (gRPC)"
	kindTCPEcho  = "echo-basic (TCP)"
	kindUDPEcho  = "echo-basic (UDP)"
	kindPortico  = "portico process"
	kindIdle     = "no server"
)

// PorticoImage is the image the harness gives `portico controller
// --proxy-image`: the proxies it provisions are recognised by the name
// (containerKind), a rule of this harness alone; the product accepts any
// image name.
const PorticoImage = "portico:conformance"

func containerKind(image string, env map[string]string) string {
	switch {
	case strings.Contains(image, "portico"):
		return kindPortico
	case strings.Contains(image, "echo-basic"):
		switch {
		case env["GRPC_ECHO_SERVER"] != "":
			return kindGRPCEcho
		case env["TCP_ECHO_SERVER"] != "":
			return kindTCPEcho
		case env["UDP_ECHO_SERVER"] != "":
			return kindUDPEcho
		}
		return kindHTTPEcho
	}
	return kindIdle
}

// serverSpec is what an in-process server needs from its container.
type serverSpec struct {
	podIP string
	env   map[string]string
	// path maps a path inside the container (a volume mount) to the file
	// on this machine.
	path func(string) string
	log  *containerLog
}

func (s serverSpec) getenv(name, def string) string {
	if v, ok := s.env[name]; ok && v != "" {
		return v
	}
	return def
}

// startServers starts the in-process servers for kind; they stop when ctx
// is done, and wait returns once they have.
func startServers(ctx context.Context, kind string, s serverSpec) (wait func(), err error) {
	var wg sync.WaitGroup
	bound := make(chan error, 4)
	run := func(name string, f func(ready func(error)) error) {
		wg.Go(func() {
			once := sync.Once{}
			ready := func(err error) { once.Do(func() { bound <- err }) }
			err := f(ready)
			ready(err)
			if err != nil && ctx.Err() == nil {
				s.log.Printf("%s server stopped: %v", name, err)
			}
		})
	}
	n := 0
	switch kind {
	case kindHTTPEcho:
		n = 2
		opts := echo.Options{
			Name: s.env["POD_NAME"], Namespace: s.env["NAMESPACE"],
			Service: s.env["SERVICE_NAME"], Ingress: s.env["INGRESS_NAME"],
			HTTPPort: s.getenv("HTTP_PORT", "3000"),
			Logger:   s.log.slogger(),
		}
		plain := opts
		plain.Listen = net.JoinHostPort(s.podIP, s.getenv("HTTP_PORT", "3000"))
		if cert, key := s.env["TLS_SERVER_CERT"], s.env["TLS_SERVER_PRIVKEY"]; cert != "" && key != "" {
			plain.TLSListen = net.JoinHostPort(s.podIP, s.getenv("HTTPS_PORT", "8443"))
			plain.TLSCertFile, plain.TLSKeyFile = s.path(cert), s.path(key)
			if ca := s.env["TLS_CLIENT_CACERTS"]; ca != "" {
				plain.TLSClientCAFile = s.path(ca)
			}
		}
		h2c := opts
		h2c.Listen = net.JoinHostPort(s.podIP, s.getenv("H2C_PORT", "3001"))
		for _, o := range []echo.Options{plain, h2c} {
			run("echo", func(ready func(error)) error {
				o.OnListening = func(http, tls net.Addr) {
					s.log.Printf("Starting server, listening on %s (http)", http)
					if tls != nil {
						s.log.Printf("Starting server, listening on %s (https)", tls)
					}
					ready(nil)
				}
				return echo.Serve(ctx, o)
			})
		}
	case kindGRPCEcho:
		n = 1
		run("grpc", func(ready func(error)) error { return serveGRPCEcho(ctx, s, ready) })
	case kindTCPEcho:
		n = 1
		run("tcp", func(ready func(error)) error { return serveTCPEcho(ctx, s, ready) })
	case kindUDPEcho:
		n = 1
		run("udp", func(ready func(error)) error { return serveUDPEcho(ctx, s, ready) })
	case kindIdle:
		s.log.Printf("fake kubelet: no server for this image; the container only reports Ready")
	default:
		return nil, fmt.Errorf("unknown container kind %q", kind)
	}
	var errs []error
	for range n {
		if err := <-bound; err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		// The context is cancelled by the caller on error; wait for the rest.
		return wg.Wait, errors.Join(errs...)
	}
	return wg.Wait, nil
}

// listenCtx listens on addr and closes the listener when ctx is done.
func listenCtx(ctx context.Context, network, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, func() { _ = ln.Close() })
	return ln, nil
}

// serveGRPCEcho is echo-basic's gRPC mode: GrpcEcho on HTTP_PORT (h2c) and,
// with TLS_SERVER_CERT and TLS_SERVER_PRIV_KEY, on HTTPS_PORT over TLS.
func serveGRPCEcho(ctx context.Context, s serverSpec, ready func(error)) error {
	podCtx := &pb.Context{Namespace: s.env["NAMESPACE"], Ingress: s.env["INGRESS_NAME"], ServiceName: s.env["SERVICE_NAME"], Pod: s.env["POD_NAME"]}
	svc := pb.File_grpcecho_proto.Services().ByName("GrpcEcho")
	if svc == nil {
		return errors.New("GrpcEcho is not in the grpcecho proto")
	}
	fullService := string(svc.FullName())

	var servers []*grpc.Server
	var lns []net.Listener
	plainLn, err := listenCtx(ctx, "tcp", net.JoinHostPort(s.podIP, s.getenv("HTTP_PORT", "3000")))
	if err != nil {
		return err
	}
	plain := grpc.NewServer()
	pb.RegisterGrpcEchoServer(plain, &grpcEcho{service: fullService, podCtx: podCtx, log: s.log})
	reflection.Register(plain)
	servers, lns = append(servers, plain), append(lns, plainLn)
	s.log.Printf("plaintext server listening at %v", plainLn.Addr())

	if cert, key := s.env["TLS_SERVER_CERT"], s.env["TLS_SERVER_PRIV_KEY"]; cert != "" && key != "" {
		creds, err := credentials.NewServerTLSFromFile(s.path(cert), s.path(key))
		if err != nil {
			return fmt.Errorf("gRPC TLS credentials: %w", err)
		}
		tlsLn, err := listenCtx(ctx, "tcp", net.JoinHostPort(s.podIP, s.getenv("HTTPS_PORT", "8443")))
		if err != nil {
			return err
		}
		secure := grpc.NewServer(grpc.Creds(creds))
		pb.RegisterGrpcEchoServer(secure, &grpcEcho{service: fullService, podCtx: podCtx, tls: true, log: s.log})
		reflection.Register(secure)
		servers, lns = append(servers, secure), append(lns, tlsLn)
		s.log.Printf("secure server listening at %v", tlsLn.Addr())
	}
	ready(nil)
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Go(func() { _ = srv.Serve(lns[i]) })
	}
	<-ctx.Done()
	for _, srv := range servers {
		srv.Stop()
	}
	wg.Wait()
	return nil
}

type grpcEcho struct {
	pb.UnimplementedGrpcEchoServer
	service string
	podCtx  *pb.Context
	tls     bool
	log     *containerLog
}

func (g *grpcEcho) Echo(ctx context.Context, in *pb.EchoRequest) (*pb.EchoResponse, error) {
	return g.echo(ctx, "Echo")
}

func (g *grpcEcho) EchoTwo(ctx context.Context, in *pb.EchoRequest) (*pb.EchoResponse, error) {
	return g.echo(ctx, "EchoTwo")
}

func (g *grpcEcho) echo(ctx context.Context, method string) (*pb.EchoResponse, error) {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return nil, errors.New("no metadata in the request")
	}
	a := &pb.Assertions{FullyQualifiedMethod: "/" + g.service + "/" + method, Context: g.podCtx}
	for k, vs := range md {
		for _, v := range vs {
			if k == ":authority" {
				a.Authority = v
			}
			a.Headers = append(a.Headers, &pb.Header{Key: k, Value: v})
		}
	}
	if g.tls {
		p, ok := peer.FromContext(ctx)
		if !ok {
			return nil, errors.New("no peer in the request context")
		}
		info, ok := p.AuthInfo.(credentials.TLSInfo)
		if !ok {
			return nil, errors.New("no TLS information for the connection")
		}
		ti := echo.NewTLSInfo(&info.State)
		a.TlsAssertions = &pb.TLSAssertions{
			Version:            ti.Version,
			NegotiatedProtocol: ti.NegotiatedProtocol,
			ServerName:         ti.ServerName,
			CipherSuite:        ti.CipherSuite,
			PeerCertificates:   ti.PeerCertificates,
		}
	}
	g.log.Printf("Received %s over %s", a.FullyQualifiedMethod, map[bool]string{false: "plaintext", true: "TLS"}[g.tls])
	return &pb.EchoResponse{Assertions: a}, nil
}

// serveTCPEcho is echo-basic's TCP mode: a welcome line, then PING, IS_TLS
// and TEST line commands, on TCP_PORT and (with a certificate) TLS_PORT.
func serveTCPEcho(ctx context.Context, s serverSpec, ready func(error)) error {
	tcpPort, tlsPort := s.getenv("TCP_PORT", "3000"), s.getenv("TLS_PORT", "8443")
	base := tcpserver.Context{
		Namespace: s.env["NAMESPACE"], Ingress: s.env["INGRESS_NAME"], Service: s.env["SERVICE_NAME"], Pod: s.env["POD_NAME"],
		TCPPort: tcpPort,
	}
	var tlsConfig *tls.Config
	if cert, key := s.env["TLS_SERVER_CERT"], s.env["TLS_SERVER_PRIV_KEY"]; cert != "" && key != "" {
		pair, err := tls.LoadX509KeyPair(s.path(cert), s.path(key))
		if err != nil {
			return fmt.Errorf("TCP TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
		base.TLSPort = tlsPort
	}
	plainLn, err := listenCtx(ctx, "tcp", net.JoinHostPort(s.podIP, tcpPort))
	if err != nil {
		return err
	}
	lns := []net.Listener{plainLn}
	if tlsConfig != nil {
		ln, err := listenCtx(ctx, "tcp", net.JoinHostPort(s.podIP, tlsPort))
		if err != nil {
			return err
		}
		lns = append(lns, tls.NewListener(ln, tlsConfig))
	}
	for _, ln := range lns {
		s.log.Printf("TCP server listening on %s", ln.Addr())
	}
	ready(nil)
	var wg sync.WaitGroup
	var conns sync.Map
	for _, ln := range lns {
		wg.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				conns.Store(c, true)
				wg.Go(func() {
					defer conns.Delete(c)
					handleTCPEcho(ctx, c, base)
				})
			}
		})
	}
	<-ctx.Done()
	conns.Range(func(k, _ any) bool { _ = k.(net.Conn).Close(); return true })
	wg.Wait()
	return nil
}

func handleTCPEcho(ctx context.Context, c net.Conn, base tcpserver.Context) {
	defer c.Close()
	a := tcpserver.TCPAssertions{Context: base}
	if tc, ok := c.(*tls.Conn); ok {
		if err := tc.HandshakeContext(ctx); err != nil {
			return
		}
		st := tc.ConnectionState()
		a.IsTLS = true
		a.TLSAssertion = &tcpserver.TLSAssertions{
			Version:            tls.VersionName(st.Version),
			ServerName:         st.ServerName,
			NegotiatedProtocol: st.NegotiatedProtocol,
			Curves:             st.CurveID.String(),
			CipherSuite:        tls.CipherSuiteName(st.CipherSuite),
		}
	}
	payload, err := json.Marshal(a)
	if err != nil {
		return
	}
	if _, err := fmt.Fprint(c, tcpserver.WelcomeMessage); err != nil {
		return
	}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		var reply string
		switch sc.Text() {
		case "TEST":
			reply = string(payload)
		case "IS_TLS":
			reply = fmt.Sprint(a.IsTLS)
		case "PING":
			reply = "PONG"
		default:
			continue
		}
		if _, err := fmt.Fprintf(c, "%s\n", reply); err != nil {
			return
		}
	}
}

// serveUDPEcho is echo-basic's UDP mode: every datagram on UDP_PORT is
// answered with a JSON envelope holding the payload and the pod's identity.
func serveUDPEcho(ctx context.Context, s serverSpec, ready func(error)) error {
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", net.JoinHostPort(s.podIP, s.getenv("UDP_PORT", "8080")))
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, func() { _ = pc.Close() })
	podCtx := udpechoserver.Context{Namespace: s.env["NAMESPACE"], Ingress: s.env["INGRESS_NAME"], Service: s.env["SERVICE_NAME"], Pod: s.env["POD_NAME"]}
	s.log.Printf("UDP server listening on %s", pc.LocalAddr())
	ready(nil)
	buf := make([]byte, 64*1024)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
				return nil
			}
			continue
		}
		s.log.Printf("Received UDP %s from %s", buf[:n], from)
		out, err := json.Marshal(udpechoserver.EchoResponse{Request: string(buf[:n]), Context: podCtx})
		if err != nil {
			continue
		}
		_, _ = pc.WriteTo(out, from)
	}
}
