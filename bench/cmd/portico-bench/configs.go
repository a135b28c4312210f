package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// benchHost is the one virtual host every proxy serves; requests under
// benchPrefix go to the two upstream endpoints round robin.
const (
	benchHost   = "bench.local"
	benchPrefix = "/app"
	benchPath   = "/app/hello"
)

// layout is what every generated configuration refers to.
type layout struct {
	dir      string // temp dir holding configs, certs and logs
	up       [2]int // upstream ports (the fast nginx)
	http     int    // proxy port, cleartext HTTP/1.1
	tls      int    // proxy port, TLS (HTTP/1.1 and h2 by ALPN)
	admin    int    // Portico's admin API
	certFile string
	keyFile  string
	pemFile  string // cert then key, for HAProxy
	certPEM  []byte
	keyPEM   []byte
}

// upstreamBody is the fixed answer of upstream endpoint i (0 or 1): 100
// bytes, naming the endpoint so the checks can see the round robin.
func upstreamBody(i int) string {
	s := fmt.Sprintf("upstream-%d ", i+1)
	return s + strings.Repeat("x", 99-len(s)) + "\n"
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func newLayout(dir string) (*layout, error) {
	l := &layout{dir: dir}
	ports := make([]int, 0, 5)
	seen := map[int]bool{}
	for len(ports) < 5 {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	l.up = [2]int{ports[0], ports[1]}
	l.http, l.tls, l.admin = ports[2], ports[3], ports[4]
	var err error
	if l.certPEM, l.keyPEM, err = selfSigned(benchHost); err != nil {
		return nil, err
	}
	l.certFile = filepath.Join(dir, "cert.pem")
	l.keyFile = filepath.Join(dir, "key.pem")
	l.pemFile = filepath.Join(dir, "haproxy.pem")
	for f, b := range map[string][]byte{l.certFile: l.certPEM, l.keyFile: l.keyPEM, l.pemFile: append(append([]byte{}, l.certPEM...), l.keyPEM...)} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{"nginx-tmp/upstream", "nginx-tmp/nginx", "portico", "caddy-home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// selfSigned returns a P-256 certificate for host and its key, in PEM.
func selfSigned(host string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		// wrk sends the URL's host, 127.0.0.1, as SNI; Caddy serves only
		// certificates that name the SNI it got.
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// nginxCommon is the main context every nginx config shares: foreground,
// files in the temp dir, no access log, keep-alive without a request cap.
func nginxCommon(l *layout, name string, workers string) string {
	tmp := filepath.Join(l.dir, "nginx-tmp", name)
	return fmt.Sprintf(`worker_processes %s;
daemon off;
master_process on;
pid %s;
error_log %s warn;
events { worker_connections 8192; }
`, workers, filepath.Join(l.dir, name+".pid"), filepath.Join(l.dir, name+"-error.log")) +
		fmt.Sprintf(`http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
`, tmp)
}

// upstreamNginx is the fast upstream: one nginx, two ports, each returning
// its fixed 100-byte body.
func upstreamNginx(l *layout) string {
	var b strings.Builder
	b.WriteString(nginxCommon(l, "upstream", "2"))
	for i, p := range l.up {
		fmt.Fprintf(&b, `    server {
        listen 127.0.0.1:%d reuseport backlog=4096;
        location / { default_type text/plain; return 200 %q; }
    }
`, p, upstreamBody(i))
	}
	b.WriteString("}\n")
	return b.String()
}

// nginxProxy is the nginx peer: one worker pinned, auto unpinned.
func nginxProxy(l *layout, pinned bool) string {
	workers := "auto"
	if pinned {
		workers = "1"
	}
	var b strings.Builder
	b.WriteString(nginxCommon(l, "nginx", workers))
	fmt.Fprintf(&b, `    upstream backends {
        server 127.0.0.1:%d;
        server 127.0.0.1:%d;
        keepalive 128;
        keepalive_requests 1000000;
        keepalive_timeout 300s;
    }
    ssl_certificate %s;
    ssl_certificate_key %s;
    server {
        listen 127.0.0.1:%[5]d default_server;
        listen 127.0.0.1:%[6]d ssl http2 default_server;
        return 404;
    }
    server {
        listen 127.0.0.1:%[5]d;
        listen 127.0.0.1:%[6]d ssl http2;
        server_name %[7]s;
        location %[8]s {
            proxy_pass http://backends;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
`, l.up[0], l.up[1], l.certFile, l.keyFile, l.http, l.tls, benchHost, benchPrefix)
	return b.String()
}

// haproxyConfig is the HAProxy peer: nbthread 1 pinned, 2 unpinned.
func haproxyConfig(l *layout, pinned bool, ncpu int) string {
	threads := ncpu
	if pinned {
		threads = 1
	}
	return fmt.Sprintf(`global
    nbthread %d
    maxconn 8000
    pidfile %s

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 300s
    http-reuse always
    option http-keep-alive

frontend bench
    bind 127.0.0.1:%d
    bind 127.0.0.1:%d ssl crt %s alpn h2,http/1.1
    acl bench_host req.hdr(host),field(1,:) -i %s
    acl bench_path path_beg %s
    http-request return status 404 unless bench_host bench_path
    use_backend upstream if bench_host bench_path

backend upstream
    balance roundrobin
    server up1 127.0.0.1:%d
    server up2 127.0.0.1:%d
`, threads, filepath.Join(l.dir, "haproxy.pid"), l.http, l.tls, l.pemFile, benchHost, benchPrefix, l.up[0], l.up[1])
}

// caddyfile is the Caddy peer. Access logs are off unless a site says
// "log"; GOMAXPROCS comes from the environment.
func caddyfile(l *layout) string {
	// Without the second handle, Caddy answers 200 with an empty body to
	// what no route matches; the others answer 404.
	site := `    bind 127.0.0.1
    handle %s* {
        reverse_proxy 127.0.0.1:%d 127.0.0.1:%d {
            lb_policy round_robin
            transport http {
                keepalive 300s
                keepalive_idle_conns 1024
                keepalive_idle_conns_per_host 256
            }
        }
    }
    handle {
        respond 404
    }
`
	site = fmt.Sprintf(site, benchPrefix, l.up[0], l.up[1])
	return fmt.Sprintf(`{
    admin off
    auto_https off
    default_sni %[1]s
    servers {
        protocols h1 h2
    }
}

http://%[1]s:%[2]d {
%[4]s}

https://%[1]s:%[3]d {
    tls %[5]s %[6]s
%[4]s}
`, benchHost, l.http, l.tls, site, l.certFile, l.keyFile)
}

// porticoConfig is the Portico peer: one Gateway with an HTTP and an HTTPS
// listener, one HTTPRoute for the host with a PathPrefix rule, one Service
// whose two EndpointSlices are the two upstream ports.
func porticoConfig(l *layout) string {
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: bench
spec:
  gatewayClassName: portico
  listeners:
  - name: http
    protocol: HTTP
    port: %d
  - name: https
    protocol: HTTPS
    port: %d
    tls:
      certificateRefs:
      - name: bench-cert
---
apiVersion: v1
kind: Secret
metadata:
  name: bench-cert
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: bench
spec:
  parentRefs:
  - name: bench
  hostnames: [%q]
  rules:
  - matches:
    - path: {type: PathPrefix, value: %s}
    backendRefs:
    - name: upstream
      port: 80
---
%s`, l.http, l.tls, base64.StdEncoding.EncodeToString(l.certPEM), base64.StdEncoding.EncodeToString(l.keyPEM),
		benchHost, benchPrefix, serviceYAML("upstream", l.up[0], l.up[1]))
}

// serviceYAML is a Service with one EndpointSlice per upstream port, all on
// 127.0.0.1.
func serviceYAML(name string, ports ...int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: v1
kind: Service
metadata:
  name: %s
spec:
  ports:
  - name: http
    port: 80
`, name)
	for i, p := range ports {
		fmt.Fprintf(&b, `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %s-%d
  labels:
    kubernetes.io/service-name: %s
addressType: IPv4
ports:
- name: http
  port: %d
endpoints:
- addresses: ["127.0.0.1"]
`, name, i+1, name, p)
	}
	return b.String()
}
