package box

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// PKI holds the paths of the files GeneratePKI writes. Every certificate is
// signed by one CA (the cluster CA); the box is short-lived, so they are valid
// for a day.
type PKI struct {
	Dir string

	CACert, CAKey string

	// APIServerCert is the kube-apiserver serving certificate (SANs
	// 127.0.0.1, the service IP 10.96.0.1 and the kubernetes.default names).
	APIServerCert, APIServerKey string
	// AdminCert is a client certificate in group system:masters: the suite,
	// the controller, kube-controller-manager and the fake kubelet use it.
	AdminCert, AdminKey string
	// KubeletClientCert is what kube-apiserver presents to the kubelet
	// (pods/log is proxied to it).
	KubeletClientCert, KubeletClientKey string
	// KubeletServingCert is the fake kubelet's HTTPS certificate.
	KubeletServingCert, KubeletServingKey string
	// ServiceAccountKey/Pub sign and verify service account tokens.
	ServiceAccountKey, ServiceAccountPub string

	// Kubeconfig is an admin kubeconfig for https://127.0.0.1:<port>.
	Kubeconfig string
}

// GeneratePKI writes a CA, the certificates above and an admin kubeconfig
// for the API server at apiServerURL into dir. nodeIPs are the kubelet
// serving certificate's IP SANs.
func GeneratePKI(dir, apiServerURL string, nodeIPs []net.IP) (*PKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &PKI{Dir: dir}
	path := func(name string) string { return filepath.Join(dir, name) }

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "portico-conformance-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("create the CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p.CACert, p.CAKey = path("ca.crt"), path("ca.key")
	if err := writeCertKey(p.CACert, p.CAKey, caDER, caKey); err != nil {
		return nil, err
	}

	issue := func(name string, subject pkix.Name, usage []x509.ExtKeyUsage, dns []string, ips []net.IP) (string, string, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return "", "", err
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      subject,
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage:  usage,
			DNSNames:     dns,
			IPAddresses:  ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
		if err != nil {
			return "", "", fmt.Errorf("create certificate %s: %w", name, err)
		}
		crt, keyPath := path(name+".crt"), path(name+".key")
		return crt, keyPath, writeCertKey(crt, keyPath, der, key)
	}
	server := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}

	if p.APIServerCert, p.APIServerKey, err = issue("apiserver", pkix.Name{CommonName: "kube-apiserver"}, server,
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		[]net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 96, 0, 1)}); err != nil {
		return nil, err
	}
	if p.AdminCert, p.AdminKey, err = issue("admin", pkix.Name{CommonName: "portico-conformance-admin", Organization: []string{"system:masters"}}, client, nil, nil); err != nil {
		return nil, err
	}
	if p.KubeletClientCert, p.KubeletClientKey, err = issue("apiserver-kubelet-client", pkix.Name{CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}}, client, nil, nil); err != nil {
		return nil, err
	}
	if p.KubeletServingCert, p.KubeletServingKey, err = issue("kubelet", pkix.Name{CommonName: "portico-node"}, server, []string{"localhost"}, nodeIPs); err != nil {
		return nil, err
	}

	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	p.ServiceAccountKey, p.ServiceAccountPub = path("sa.key"), path("sa.pub")
	if err := writePEM(p.ServiceAccountKey, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey), 0o600); err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(saKey.Public())
	if err != nil {
		return nil, err
	}
	if err := writePEM(p.ServiceAccountPub, "PUBLIC KEY", pubDER, 0o644); err != nil {
		return nil, err
	}

	p.Kubeconfig = path("admin.kubeconfig")
	if err := writeKubeconfig(p.Kubeconfig, apiServerURL, p.CACert, p.AdminCert, p.AdminKey); err != nil {
		return nil, err
	}
	return p, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err)
	}
	return n
}

func writeCertKey(certPath, keyPath string, der []byte, key crypto.Signer) error {
	if err := writePEM(certPath, "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(keyPath, "PRIVATE KEY", keyDER, 0o600)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}

// writeKubeconfig writes a kubeconfig with the certificates embedded, so it
// stays valid wherever it is copied.
func writeKubeconfig(path, server, caFile, certFile, keyFile string) error {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	crt, err := os.ReadFile(certFile)
	if err != nil {
		return err
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["box"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: crt, ClientKeyData: key}
	cfg.Contexts["box"] = &clientcmdapi.Context{Cluster: "box", AuthInfo: "admin"}
	cfg.CurrentContext = "box"
	return clientcmd.WriteToFile(*cfg, path)
}
