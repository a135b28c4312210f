package crdvalidation

import (
	"encoding/binary"
	"errors"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestValidateRemembersResults: the same document is validated once; the
// second call returns the first result.
func TestValidateRemembersResults(t *testing.T) {
	js, err := yaml.YAMLToJSON([]byte(gateway("  - {name: cached, protocol: HTTP, port: 70001}\n")))
	if err != nil {
		t.Fatal(err)
	}
	first := Validate("gateway.networking.k8s.io/v1", "Gateway", js)
	if first == nil {
		t.Fatal("port 70001 passed")
	}
	if _, ok := results.get(cacheKey("gateway.networking.k8s.io/v1", "Gateway", js)); !ok {
		t.Error("result not remembered")
	}
	if again := Validate("gateway.networking.k8s.io/v1", "Gateway", js); again != first {
		t.Errorf("second call gave %v, want the remembered %v", again, first)
	}
	if other := Validate("gateway.networking.k8s.io/v1beta1", "Gateway", js); other == first {
		t.Error("another apiVersion shares the result")
	}
}

// TestResultCacheGenerations: the cache holds at most two generations, and
// an entry used in the previous generation is kept.
func TestResultCacheGenerations(t *testing.T) {
	c := &resultCache{cur: map[[32]byte]error{}}
	key := func(i int) (k [32]byte) {
		binary.LittleEndian.PutUint64(k[:], uint64(i))
		return k
	}
	kept := errors.New("kept")
	c.put(key(-1), kept)
	for i := range cacheSize {
		c.put(key(i), nil)
	}
	// key(-1) is now in prev; reading it moves it to cur.
	if err, ok := c.get(key(-1)); !ok || err != kept {
		t.Fatalf("entry of the previous generation: %v %v", err, ok)
	}
	for i := range cacheSize {
		c.put(key(cacheSize+i), nil)
	}
	if _, ok := c.get(key(0)); ok {
		t.Error("entry unused for two generations still cached")
	}
	if len(c.cur)+len(c.prev) > 2*cacheSize {
		t.Errorf("%d entries, want at most %d", len(c.cur)+len(c.prev), 2*cacheSize)
	}
}
