package importers

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/paulmach/orb"
)

// OutsideShare is the share of an import's features lying outside the city boundary from which
// the import needs an explicit confirmation (Request.ConfirmOutside): a few features just beyond
// the boundary (a suburban stop, a road leaving the city) are normal, a tenth or more is most
// often a wrong coordinate system or the wrong file.
const OutsideShare = 0.10

// maxSample bounds the feature centres kept to check an import's place: beyond it every other
// one is dropped and the stride doubled, so that the sample stays spread over the whole file.
const maxSample = 4096

// sample is an evenly strided sample of the centres of the features encoded, in record order.
type sample struct {
	lons, lats []float64
	stride, n  int
}

func (s *sample) add(b orb.Bound) {
	if s.stride == 0 {
		s.stride = 1
	}
	if s.n%s.stride == 0 {
		c := b.Center()
		s.lons, s.lats = append(s.lons, c[0]), append(s.lats, c[1])
		if len(s.lons) == maxSample {
			for i := 0; i < maxSample/2; i++ {
				s.lons[i], s.lats[i] = s.lons[2*i], s.lats[2*i]
			}
			s.lons, s.lats = s.lons[:maxSample/2], s.lats[:maxSample/2]
			s.stride *= 2
		}
	}
	s.n++
}

// checkPlace sets rep.Place from the sample and says whether the import may go on: when at
// least OutsideShare of the features lie outside the city and the request has not confirmed it,
// a real import is refused (conflict, naming confirm_outside) and a dry run gets a warning.
func (im *Importer) checkPlace(ctx context.Context, s *sample, req Request, rep *Report) error {
	if s == nil || len(s.lons) == 0 {
		return nil
	}
	pl, err := im.Layers.PlaceAgainstCity(ctx, s.lons, s.lats)
	if err != nil {
		return err
	}
	if !pl.Known || pl.Outside == 0 {
		return nil
	}
	rep.Place = &pl
	msg := PlaceMessage(pl)
	if pl.Share < OutsideShare || req.ConfirmOutside {
		rep.Warnings = append(rep.Warnings, msg)
		return nil
	}
	if req.DryRun {
		rep.Warnings = append(rep.Warnings, msg+"; the import will ask to confirm (confirm_outside=1)")
		return nil
	}
	rep.awaitsConfirm = true
	return geoportal.Errorf(geoportal.ECONFLICT, "%s: check the coordinate system, or confirm the import with confirm_outside=1", msg)
}

// PlaceMessage says in English where features lie against the city: "9 of 9 features (100 %) lie
// outside the city boundary, up to 4,512 km from it". The pages say it in kk/ru/en from Place.
func PlaceMessage(p layers.CityFit) string {
	return fmt.Sprintf("%d of %d features (%d %%) lie outside the city boundary, up to %s from it",
		p.Outside, p.Checked, int(math.Round(p.Share*100)), distanceText(p.MaxDistanceM))
}

func distanceText(m float64) string {
	if m < 1000 {
		return fmt.Sprintf("%d m", int(math.Round(m)))
	}
	km := int(math.Round(m / 1000))
	if km < 1000 {
		return fmt.Sprintf("%d km", km)
	}
	return fmt.Sprintf("%d,%03d km", km/1000, km%1000)
}

// PlacedPreview is a preview with where its features lie against the city and the city's outline
// (GeoJSON, nil when the portal has no boundary) for the page to draw under them.
type PlacedPreview struct {
	*Preview
	Place *layers.CityFit `json:"place,omitempty"`
	City  json.RawMessage `json:"city,omitempty"`
}

// Preview reads up to n records of src (MakePreview) and checks them against the city.
func (im *Importer) Preview(ctx context.Context, src Source, n int) (*PlacedPreview, error) {
	p, err := MakePreview(src, n)
	if err != nil {
		return nil, err
	}
	out := &PlacedPreview{Preview: p}
	var s sample
	for _, f := range p.Features.Features {
		if f.Geometry != nil {
			s.add(f.Geometry.Bound())
		}
	}
	if len(s.lons) > 0 {
		pl, err := im.Layers.PlaceAgainstCity(ctx, s.lons, s.lats)
		if err != nil {
			return nil, err
		}
		if pl.Known {
			out.Place = &pl
		}
	}
	outline, err := im.Layers.CityOutline(ctx)
	if err != nil {
		return nil, err
	}
	out.City = outline
	return out, nil
}
