// Package testcert generates CAs and leaf certificates for tests.
//
// Every key is ECDSA P-256; every certificate is valid from an hour ago to a
// day from now. Keys are PEM encoded as PKCS #8 ("PRIVATE KEY").
package testcert
