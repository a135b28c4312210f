package features

import (
	"slices"
	"testing"

	gwfeatures "sigs.k8s.io/gateway-api/pkg/features"
)

func TestNamesAreSortedKnownAndUnique(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() is not sorted: %v", names)
	}
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("Names() has duplicates: %v", names)
	}
	known := map[gwfeatures.FeatureName]bool{}
	for _, f := range gwfeatures.AllFeatures.UnsortedList() {
		known[f.Name] = true
	}
	for _, n := range names {
		if !known[n] {
			t.Errorf("%q is not a Gateway API feature name", n)
		}
	}
	for _, core := range []gwfeatures.FeatureName{gwfeatures.SupportGateway, gwfeatures.SupportHTTPRoute, gwfeatures.SupportReferenceGrant} {
		if !slices.Contains(names, core) {
			t.Errorf("core feature %s missing", core)
		}
	}
}

func TestSupportedFeaturesMatchesNames(t *testing.T) {
	names, sf := Names(), SupportedFeatures()
	if len(names) != len(sf) {
		t.Fatalf("%d names, %d supported features", len(names), len(sf))
	}
	for i := range names {
		if string(sf[i].Name) != string(names[i]) {
			t.Errorf("[%d] = %q, want %q", i, sf[i].Name, names[i])
		}
	}
}
