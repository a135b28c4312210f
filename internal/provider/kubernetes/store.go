package kubernetes

import (
	"log/slog"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Store is the provider's side of the API server: Read lists the state the
// control plane computes from, WriteStatus writes status (the leader's
// job), and Client is for the controller's other writes (provisioning). A
// Provider's Store reads from the informer caches; NewStore makes one over
// any client (a fake API server in tests).
type Store struct {
	client   client.Client // reads and writes
	uncached client.Reader // re-reads after a write conflict
	log      *slog.Logger
	// trustBundles is the ClusterTrustBundle API version read, if any.
	trustBundles trustBundleAPI
}

// NewStore returns a Store reading and writing through c, re-reading from
// uncached after a write conflict. It reads no ClusterTrustBundles (a
// Provider's Store reads the version the API server serves).
func NewStore(c client.Client, uncached client.Reader, log *slog.Logger) *Store {
	if log == nil {
		log = slog.Default()
	}
	return &Store{client: c, uncached: uncached, log: log}
}

// Client is the client the Store reads and writes through.
func (s *Store) Client() client.Client { return s.client }
