package importers

import (
	"errors"
	"io"

	"github.com/aktobe/geoportal/geo"
	"github.com/paulmach/orb/geojson"
)

// Preview is what a file holds, shown before anything is written: the detected encoding, CRS
// and schema, and the first features in EPSG:4326 (so that a wrong code page or CRS can be seen).
type Preview struct {
	Info       *Info                      `json:"info"`
	Attributes []string                   `json:"attributes"` // column names a new layer would get
	Features   *geojson.FeatureCollection `json:"features"`
	Rejections []Rejection                `json:"rejections"` // among the previewed records
}

// MakePreview reads up to n records of src.
func MakePreview(src Source, n int) (*Preview, error) {
	info := src.Info()
	p := &Preview{Info: info, Attributes: attributeNames(info.Fields), Features: geojson.NewFeatureCollection(),
		Rejections: []Rejection{}}
	tr, err := geo.NewTransformer(info.CRS)
	if err != nil {
		return nil, invalid("%s: %v", info.File, err)
	}
	v := geo.NewValidator()
	for i := 0; i < n; i++ {
		f, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		if f.Err != nil {
			var re *RecordError
			reason := f.Err.Error()
			if errors.As(f.Err, &re) {
				reason = re.Reason
			}
			p.Rejections = append(p.Rejections, Rejection{Record: f.Record, Reason: reason})
			continue
		}
		g, err := tr.Transform(f.Geom)
		if err == nil {
			g, _, err = v.Repair(g)
		}
		if err != nil {
			p.Rejections = append(p.Rejections, Rejection{Record: f.Record, Reason: err.Error()})
			continue
		}
		gf := geojson.NewFeature(g)
		gf.ID = f.Record
		for j, fld := range info.Fields {
			if j < len(f.Values) {
				gf.Properties[fld.Name] = f.Values[j]
			}
		}
		p.Features.Append(gf)
	}
	return p, nil
}
