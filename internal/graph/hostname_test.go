package graph

import "testing"

func TestIntersectHostname(t *testing.T) {
	tests := []struct {
		listener, route, want string
		ok                    bool
	}{
		{"", "a.example.com", "a.example.com", true},
		{"a.example.com", "", "a.example.com", true},
		{"a.example.com", "a.example.com", "a.example.com", true},
		{"*.example.com", "a.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", "a.b.example.com", true},
		{"*.example.com", "example.com", "", false},
		{"a.example.com", "*.example.com", "a.example.com", true},
		{"*.example.com", "*.a.example.com", "*.a.example.com", true},
		{"*.a.example.com", "*.example.com", "*.a.example.com", true},
		{"*.example.com", "*.example.net", "", false},
		{"a.example.com", "b.example.com", "", false},
		{"*.com", "*.example.com", "*.example.com", true},
	}
	for _, tt := range tests {
		got, ok := intersectHostname(tt.listener, tt.route)
		if got != tt.want || ok != tt.ok {
			t.Errorf("intersectHostname(%q, %q) = %q, %v; want %q, %v", tt.listener, tt.route, got, ok, tt.want, tt.ok)
		}
	}
}
