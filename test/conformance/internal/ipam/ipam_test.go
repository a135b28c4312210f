package ipam

import "testing"

func TestAllocator(t *testing.T) {
	a, err := New("10.244.0.0/30", "10.244.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ip, err := a.Allocate("a")
	if err != nil || ip != "10.244.0.2" {
		t.Fatalf("first: %s %v", ip, err)
	}
	if _, err := a.Allocate("b"); err == nil {
		t.Fatal("10.244.0.0/30 has one usable address after the reserved one; want exhausted")
	}
	if err := a.Reserve("10.244.0.2", "b"); err == nil {
		t.Fatal("reserved an address another owner holds")
	}
	a.Release("10.244.0.2", "a")
	if err := a.Reserve("10.244.0.2", "b"); err != nil {
		t.Fatal(err)
	}
	if a.Contains("10.245.0.1") || !a.Contains("10.244.0.3") {
		t.Fatal("Contains")
	}
}
