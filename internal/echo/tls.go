package echo

import (
	"crypto/tls"
	"encoding/pem"
)

// TLSInfo describes the TLS connection a request came over.
type TLSInfo struct {
	// Version is "TLSv1.2" or "TLSv1.3" (older versions likewise).
	Version string `json:"version"`
	// PeerCertificates are the client's certificates, PEM encoded.
	PeerCertificates   []string `json:"peerCertificates,omitempty"`
	ServerName         string   `json:"serverName"`
	NegotiatedProtocol string   `json:"negotiatedProtocol,omitempty"`
	CipherSuite        string   `json:"cipherSuite"`
}

// NewTLSInfo describes cs; it is nil when cs is.
func NewTLSInfo(cs *tls.ConnectionState) *TLSInfo {
	if cs == nil {
		return nil
	}
	info := &TLSInfo{
		Version:            tlsVersionName(cs.Version),
		ServerName:         cs.ServerName,
		NegotiatedProtocol: cs.NegotiatedProtocol,
		CipherSuite:        tls.CipherSuiteName(cs.CipherSuite),
	}
	for _, c := range cs.PeerCertificates {
		info.PeerCertificates = append(info.PeerCertificates,
			string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
	}
	return info
}

// tlsVersionName spells versions the way echo-basic does ("TLSv1.3"), which
// is not tls.VersionName's spelling ("TLS 1.3").
func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS10:
		return "TLSv1.0"
	}
	return ""
}
