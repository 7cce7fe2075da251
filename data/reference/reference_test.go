package reference

import (
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func TestCityBoundary(t *testing.T) {
	mp, err := CityBoundary()
	if err != nil {
		t.Fatal(err)
	}
	if len(mp) != 1 || len(mp[0]) != 1 {
		t.Fatalf("boundary has %d polygons, want one polygon without holes", len(mp))
	}
	ring := mp[0][0]
	if !ring.Closed() || len(ring) < 50 {
		t.Fatalf("boundary ring has %d points (closed %v)", len(ring), ring.Closed())
	}
	b := mp.Bound()
	want := orb.Bound{Min: orb.Point{56.85, 50.12}, Max: orb.Point{57.78, 50.61}}
	if !want.Contains(b.Min) || !want.Contains(b.Max) {
		t.Errorf("boundary bound %v, want within %v", b, want)
	}
	if centre := (orb.Point{57.17, 50.28}); !planar.MultiPolygonContains(mp, centre) {
		t.Errorf("the city centre %v is outside the boundary", centre)
	}
}

func TestPlaces(t *testing.T) {
	places, err := Places()
	if err != nil {
		t.Fatal(err)
	}
	if len(places) != 26 {
		t.Fatalf("%d places, want 26", len(places))
	}
	var city *Place
	for i, p := range places {
		if p.Name == "" || p.Kind == "" || p.OSMID == 0 {
			t.Errorf("place %d incomplete: %+v", i, p)
		}
		if p.Kind == "city" {
			city = &places[i]
		}
	}
	if city == nil {
		t.Fatal("no place=city")
	}
	if city.NameKK != "Ақтөбе" || city.NameRU != "Актобе" || city.NameEN != "Aktobe" || city.Population != 570452 {
		t.Errorf("city = %+v", *city)
	}
}
