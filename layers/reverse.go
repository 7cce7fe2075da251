package layers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
)

// Reverse geocoding reads three base layers: buildings (their address attribute, "ул. Маресьева,
// 95"), streets and settlements (their name, name_kk, name_ru and name_en).
const (
	reverseBuildings = "buildings"
	reverseStreets   = "streets"
	reversePlaces    = "places"
)

// Distances of reverse geocoding, in metres.
const (
	// HouseRadius: a point this close to an addressed building (or inside it) is at its address.
	HouseRadius = 25.0
	// StreetRadius: a point this close to a named street is on it; the nearest house of that
	// street within StreetHouseRadius of the point is named with it.
	StreetRadius      = 100.0
	StreetHouseRadius = 200.0
	// ReverseRadius: beyond it nothing is near enough to describe a point by.
	ReverseRadius = 2000.0
	// OutsideCity: a point further than this from the city boundary is not in the city's map.
	OutsideCity = 10000.0
)

// Kinds of reverse geocoding answers.
const (
	PlaceBuilding = "building" // at an addressed building
	PlaceStreet   = "street"   // on or near a street, with the nearest house of it when there is one
	PlaceNamed    = "place"    // near a street or settlement, DistanceM away
)

// Place describes a point by the nearest address, in one language.
type Place struct {
	// Address is the text to show: "ул. Маресьева, 95", "ул. Маресьева, у дома 95", "ул. Маресьева".
	Address string `json:"address"`
	Kind    string `json:"kind"`
	Street  string `json:"street,omitempty"`
	House   string `json:"house,omitempty"`
	// Layer and ID name the feature the address is taken from.
	Layer string `json:"layer"`
	ID    int64  `json:"id"`
	// DistanceM is the distance from the point to that feature (0 inside a building), metres on
	// the spheroid.
	DistanceM float64 `json:"distance_m"`
	Lang      string  `json:"lang"`
}

// nearHouse phrases "the street, near house N" in each language.
var nearHouse = map[string]string{
	"kk": "%s, %s үйдің жанында",
	"ru": "%s, у дома %s",
	"en": "%s, near No. %s",
}

// Querier runs the reads of reverse geocoding: a pool, a replica.Reads or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// names are one feature's name columns as stored; empty when absent.
type names struct{ name, kk, ru, en string }

// in returns the name in lang: name_<lang>, then the Russian name (the language most of the
// city's data are in), then name, then any other.
func (n names) in(lang string) string {
	byLang := map[string]string{"kk": n.kk, "ru": n.ru, "en": n.en}
	for _, v := range []string{byLang[lang], n.ru, n.name, n.kk, n.en} {
		if v != "" {
			return v
		}
	}
	return ""
}

// found is what the reverse query finds near a point, before a language is chosen.
type found struct {
	outsideM *float64 // distance to the city boundary; nil without one

	buildingID      *int64
	buildingAddress string
	buildingD       float64
	buildingStreet  names // the street the address names, when found next to the building

	streetID *int64
	street   names
	streetD  float64

	placeID *int64
	place   names
	placeD  float64

	house  string // the nearest house of the street (kind street)
	houseD float64
}

// cutHouse cuts a stored address, "ул. Маресьева, 95", into the street as written and the house;
// an address with no comma is all street. (splitAddress, in searchtext.go, normalises for search.)
func cutHouse(a string) (street, house string) {
	i := strings.LastIndex(a, ", ")
	if i < 0 {
		return a, ""
	}
	return a[:i], a[i+2:]
}

// in describes the find in lang.
func (f *found) in(lang string) (Place, error) {
	switch {
	case f.buildingID != nil && f.buildingD <= HouseRadius:
		street, house := cutHouse(f.buildingAddress)
		if l := f.buildingStreet.in(lang); l != "" && house != "" {
			street = l
		}
		addr := street
		if house != "" {
			addr = street + ", " + house
		}
		return Place{Address: addr, Kind: PlaceBuilding, Street: street, House: house, Layer: reverseBuildings,
			ID: *f.buildingID, DistanceM: round1(f.buildingD), Lang: lang}, nil
	case f.streetID != nil && f.streetD <= StreetRadius:
		street := f.street.in(lang)
		addr := street
		if f.house != "" {
			addr = fmt.Sprintf(nearHouse[lang], street, f.house)
		}
		return Place{Address: addr, Kind: PlaceStreet, Street: street, House: f.house, Layer: reverseStreets,
			ID: *f.streetID, DistanceM: round1(f.streetD), Lang: lang}, nil
	}
	// The nearest of a street and a settlement, when one is within reach.
	useStreet := f.streetID != nil && f.streetD <= ReverseRadius
	usePlace := f.placeID != nil && f.placeD <= ReverseRadius
	if useStreet && usePlace && f.placeD < f.streetD {
		useStreet = false
	}
	switch {
	case useStreet:
		street := f.street.in(lang)
		return Place{Address: street, Kind: PlaceNamed, Street: street, Layer: reverseStreets, ID: *f.streetID,
			DistanceM: round1(f.streetD), Lang: lang}, nil
	case usePlace:
		return Place{Address: f.place.in(lang), Kind: PlaceNamed, Layer: reversePlaces, ID: *f.placeID,
			DistanceM: round1(f.placeD), Lang: lang}, nil
	}
	return Place{}, geoportal.Errorf(geoportal.ENOTFOUND, "reverse: no address, street or settlement within %.0f m of the point", ReverseRadius)
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// degreesAround returns how many degrees of longitude and latitude, a little more than m metres
// at latitude lat, a box around a point must reach out.
func degreesAround(lat, m float64) (dlon, dlat float64) {
	c := math.Max(math.Cos(lat*math.Pi/180), 0.01)
	return 1.01 * m / (111320 * c), 1.01 * m / 110540
}

// checkReverse checks the point and the language of a reverse geocoding request.
func checkReverse(lon, lat float64, lang string) error {
	switch {
	case math.IsNaN(lon) || math.IsInf(lon, 0) || lon < -180 || lon > 180:
		return geoportal.Errorf(geoportal.EINVALID, "reverse: lon %v is not between -180 and 180", lon)
	case math.IsNaN(lat) || math.IsInf(lat, 0) || lat < -90 || lat > 90:
		return geoportal.Errorf(geoportal.EINVALID, "reverse: lat %v is not between -90 and 90", lat)
	case lang != "" && !ValidLanguage(lang):
		return geoportal.Errorf(geoportal.EINVALID, "reverse: lang %q is not one of kk, ru, en", lang)
	}
	return nil
}

// Reverse describes the point (lon, lat) by the nearest address in lang: the address of the
// building it is at, else the street it is on with that street's nearest house, else the nearest
// street or settlement with the distance to it. A point far outside the city is invalid; one
// with nothing near is not found.
func (s *Store) Reverse(ctx context.Context, lon, lat float64, lang string) (Place, error) {
	if err := checkReverse(lon, lat, lang); err != nil {
		return Place{}, err
	}
	if lang == "" {
		return Place{}, geoportal.Errorf(geoportal.EINVALID, "reverse: lang is required (kk, ru or en)")
	}
	f, err := reverseFind(ctx, s.read, lon, lat)
	if err != nil {
		return Place{}, err
	}
	return f.in(lang)
}

// ReverseAll is Reverse in every language of the portal, through q (a transaction that files a
// report, say): the addresses by language and the distance to the feature they are taken from.
func ReverseAll(ctx context.Context, q Querier, lon, lat float64) (Titles, float64, error) {
	if err := checkReverse(lon, lat, ""); err != nil {
		return Titles{}, 0, err
	}
	f, err := reverseFind(ctx, q, lon, lat)
	if err != nil {
		return Titles{}, 0, err
	}
	var out Titles
	var d float64
	for _, lang := range Languages {
		p, err := f.in(lang)
		if err != nil {
			return Titles{}, 0, err
		}
		switch lang {
		case "kk":
			out.KK = p.Address
		case "ru":
			out.RU = p.Address
		case "en":
			out.EN = p.Address
		}
		d = p.DistanceM
	}
	return out, d, nil
}

// reverseColumns returns which of the reverse layers exist publicly and their text attributes.
func reverseColumns(ctx context.Context, q Querier) (map[string]map[string]bool, error) {
	rows, err := q.Query(ctx, `SELECT slug, attributes FROM geoportal.layers
		WHERE slug = ANY($1) AND visibility = 'public'`, []string{CityBoundaryLayer, reverseBuildings, reverseStreets, reversePlaces})
	if err != nil {
		return nil, fmt.Errorf("reverse: catalog: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]bool{}
	for rows.Next() {
		var slug string
		var raw []byte
		if err := rows.Scan(&slug, &raw); err != nil {
			return nil, fmt.Errorf("reverse: catalog: %w", err)
		}
		var attrs []Attribute
		if err := json.Unmarshal(raw, &attrs); err != nil {
			return nil, fmt.Errorf("reverse: catalog %s: %w", slug, err)
		}
		cols := map[string]bool{}
		for _, a := range attrs {
			if a.Type == "text" {
				cols[a.Name] = true
			}
		}
		out[slug] = cols
	}
	return out, rows.Err()
}

// nameColumnsSQL selects a layer's four name columns (NULL where the layer has none) as
// <prefix>name, <prefix>kk, <prefix>ru, <prefix>en.
func nameColumnsSQL(cols map[string]bool, alias string) string {
	var out []string
	for _, c := range []string{"name", "name_kk", "name_ru", "name_en"} {
		if cols[c] {
			out = append(out, fmt.Sprintf("coalesce(%s.%s, '')", alias, pgx.Identifier{c}.Sanitize()))
		} else {
			out = append(out, "''")
		}
	}
	return strings.Join(out, ", ")
}

// reverseFind runs the lookup: one statement for the building, street and settlement nearest
// to the point (the index orders candidates by planar distance in degrees, which at Aktobe's
// latitude stretches east-west: a few candidates each, ordered again by true distance), and
// one more for the nearest house of the street when the point is on a street.
func reverseFind(ctx context.Context, q Querier, lon, lat float64) (*found, error) {
	cat, err := reverseColumns(ctx, q)
	if err != nil {
		return nil, err
	}
	tbl := func(slug string) string { return pgx.Identifier{"layer", slug}.Sanitize() }
	var selects, joins []string
	if _, ok := cat[CityBoundaryLayer]; ok {
		selects = append(selects, fmt.Sprintf(`(SELECT min(CASE WHEN ST_Intersects(b.geom, here.g) THEN 0
			ELSE ST_Distance(b.geom::geography, here.g::geography) END) FROM %s b)`, tbl(CityBoundaryLayer)))
	} else {
		selects = append(selects, "NULL::float8")
	}
	bc, streets := cat[reverseBuildings], cat[reverseStreets]
	if bc["address"] {
		selects = append(selects, "bld.id, coalesce(bld.address, ''), bld.d")
		joins = append(joins, fmt.Sprintf(`LEFT JOIN LATERAL (
			SELECT c.id, c.address, c.geom, ST_Distance(c.geom::geography, here.g::geography) AS d
			FROM (SELECT t.id, t.address, t.geom FROM %s t WHERE t.address <> '' AND t.geom && here.near
				ORDER BY t.geom <-> here.g LIMIT 8) c
			ORDER BY d, c.id LIMIT 1) bld ON true`, tbl(reverseBuildings)))
		if streets != nil && streets["name"] {
			// The street the building's address names, nearest to the building: its names in
			// other languages localise the address.
			selects = append(selects, "coalesce(bs.name, ''), coalesce(bs.kk, ''), coalesce(bs.ru, ''), coalesce(bs.en, '')")
			joins = append(joins, fmt.Sprintf(`LEFT JOIN LATERAL (
				SELECT %s FROM %s s
				WHERE s.name = regexp_replace(bld.address, ', [^,]*$', '') AND s.geom && ST_Expand(bld.geom, 0.01)
				ORDER BY s.geom <-> bld.geom LIMIT 1) AS bs(name, kk, ru, en) ON true`,
				nameColumnsSQL(streets, "s"), tbl(reverseStreets)))
		} else {
			selects = append(selects, "'', '', '', ''")
		}
	} else {
		selects = append(selects, "NULL::bigint, '', 0::float8, '', '', '', ''")
	}
	for _, l := range []struct {
		slug, alias string
	}{{reverseStreets, "st"}, {reversePlaces, "pl"}} {
		cols := cat[l.slug]
		if cols == nil || !(cols["name"] || cols["name_kk"] || cols["name_ru"] || cols["name_en"]) {
			selects = append(selects, "NULL::bigint, '', '', '', '', 0::float8")
			continue
		}
		var named []string
		for _, c := range []string{"name", "name_kk", "name_ru", "name_en"} {
			if cols[c] {
				named = append(named, fmt.Sprintf("coalesce(t.%s, '') <> ''", pgx.Identifier{c}.Sanitize()))
			}
		}
		selects = append(selects, fmt.Sprintf("%[1]s.id, coalesce(%[1]s.name, ''), coalesce(%[1]s.kk, ''), coalesce(%[1]s.ru, ''), coalesce(%[1]s.en, ''), %[1]s.d", l.alias))
		joins = append(joins, fmt.Sprintf(`LEFT JOIN LATERAL (
			SELECT c.id, c.name, c.kk, c.ru, c.en, ST_Distance(c.geom::geography, here.g::geography) AS d
			FROM (SELECT t.id, t.geom, %s FROM %s t WHERE (%s) AND t.geom && here.far
				ORDER BY t.geom <-> here.g LIMIT 8) AS c(id, geom, name, kk, ru, en)
			ORDER BY d, c.id LIMIT 1) %s ON true`,
			nameColumnsSQL(cols, "t"), tbl(l.slug), strings.Join(named, " OR "), l.alias))
	}
	// Every lookup is bounded by a box around the point (index conditions the KNN scan stops at):
	// without one, a layer whose features mostly lack an address or name would be read whole.
	sql := `WITH p AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326) AS g),
		here AS (SELECT g, ST_Expand(g, $3, $4) AS near, ST_Expand(g, $5, $6) AS far FROM p)
		SELECT ` + strings.Join(selects, ", ") + ` FROM here ` + strings.Join(joins, " ")
	f := &found{}
	var bd, sd, pd *float64
	nearX, nearY := degreesAround(lat, 4*HouseRadius)
	farX, farY := degreesAround(lat, ReverseRadius)
	err = q.QueryRow(ctx, sql, lon, lat, nearX, nearY, farX, farY).Scan(&f.outsideM,
		&f.buildingID, &f.buildingAddress, &bd,
		&f.buildingStreet.name, &f.buildingStreet.kk, &f.buildingStreet.ru, &f.buildingStreet.en,
		&f.streetID, &f.street.name, &f.street.kk, &f.street.ru, &f.street.en, &sd,
		&f.placeID, &f.place.name, &f.place.kk, &f.place.ru, &f.place.en, &pd)
	if err != nil {
		return nil, mapPgError(fmt.Errorf("reverse %v, %v: %w", lon, lat, err))
	}
	for _, x := range []struct {
		p   *float64
		dst *float64
	}{{bd, &f.buildingD}, {sd, &f.streetD}, {pd, &f.placeD}} {
		if x.p != nil {
			*x.dst = *x.p
		}
	}
	if f.outsideM != nil && *f.outsideM > OutsideCity {
		return nil, geoportal.Errorf(geoportal.EINVALID, "reverse: lon %v, lat %v is %.0f km outside the city", lon, lat, *f.outsideM/1000)
	}
	onStreet := f.streetID != nil && f.streetD <= StreetRadius && !(f.buildingID != nil && f.buildingD <= HouseRadius)
	if onStreet && bc["address"] && f.street.name != "" {
		// The nearest house whose address names this street.
		houseX, houseY := degreesAround(lat, StreetHouseRadius)
		var addr string
		var d float64
		err := q.QueryRow(ctx, fmt.Sprintf(`WITH here AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326) AS g)
			SELECT c.address, c.d FROM (
				SELECT t.address, ST_Distance(t.geom::geography, here.g::geography) AS d FROM %s t, here
				WHERE starts_with(t.address, $3) AND t.geom && ST_Expand(here.g, $4, $5)
				ORDER BY t.geom <-> here.g LIMIT 8) c WHERE c.d <= $6 ORDER BY c.d LIMIT 1`, tbl(reverseBuildings)),
			lon, lat, f.street.name+", ", houseX, houseY, StreetHouseRadius).Scan(&addr, &d)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return nil, mapPgError(fmt.Errorf("reverse %v, %v: house: %w", lon, lat, err))
		default:
			_, f.house = cutHouse(addr)
			f.houseD = d
		}
	}
	return f, nil
}
