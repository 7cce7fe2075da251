package layers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Layer management by GIS staff (the /staff/layers page, docs/staff.md): retitling, showing or
// hiding, recolouring and deleting a layer. Each change is one transaction that locks the
// catalog row, writes the audit entry and announces the change on layer_changed with
// "catalog": true, so that every process reads its catalog again (tiles, TileJSON).

// LayerEdit is a change to a layer's catalog entry; nil fields stay as they are.
type LayerEdit struct {
	Title      *Titles
	Visibility *string // public or staff
	Color      *string // #rrggbb: the colour of the layer's style fragment
}

// MaxTitle is the longest layer title, in characters.
const MaxTitle = 200

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate checks e and trims its titles; the error names the field.
func (e *LayerEdit) Validate() error {
	if e.Title != nil {
		t := Titles{KK: strings.TrimSpace(e.Title.KK), RU: strings.TrimSpace(e.Title.RU), EN: strings.TrimSpace(e.Title.EN)}
		for _, f := range []struct{ name, v string }{{"title_kk", t.KK}, {"title_ru", t.RU}, {"title_en", t.EN}} {
			if f.v == "" {
				return geoportal.Errorf(geoportal.EINVALID, "%s is empty: a layer has a title in each language", f.name)
			}
			if utf8.RuneCountInString(f.v) > MaxTitle {
				return geoportal.Errorf(geoportal.EINVALID, "%s is longer than %d characters", f.name, MaxTitle)
			}
		}
		e.Title = &t
	}
	if e.Visibility != nil && *e.Visibility != "public" && *e.Visibility != "staff" {
		return geoportal.Errorf(geoportal.EINVALID, "visibility %q is not public or staff", *e.Visibility)
	}
	if e.Color != nil {
		c := strings.ToLower(strings.TrimSpace(*e.Color))
		if !colorRE.MatchString(c) {
			return geoportal.Errorf(geoportal.EINVALID, "color %q is not a colour written #rrggbb", *e.Color)
		}
		e.Color = &c
	}
	return nil
}

// styleType is the MapLibre layer type a style fragment draws with: its own, else the geometry's.
func styleType(style map[string]any, geometryType string) string {
	if t, ok := style["type"].(string); ok && (t == "circle" || t == "line" || t == "fill") {
		return t
	}
	switch {
	case strings.Contains(geometryType, "Point"):
		return "circle"
	case strings.Contains(geometryType, "Line"):
		return "line"
	}
	return "fill"
}

// StyleColor is the main colour of a layer's style: the paint colour when it is one colour, and
// ok false when it is an expression (colours by value) or not set.
func (l *Layer) StyleColor() (color string, ok bool) {
	var st map[string]any
	if json.Unmarshal(l.Style, &st) != nil || st == nil {
		return "", false
	}
	paint, _ := st["paint"].(map[string]any)
	c, ok := paint[styleType(st, l.GeometryType)+"-color"].(string)
	if !ok || !colorRE.MatchString(c) {
		return "", false
	}
	return strings.ToLower(c), true
}

// withColor returns the style fragment with its paint colour set to c; a fragment without a type
// gets the map's default look for the geometry (web/frontend/src/mapstyle.js) in colour c.
func withColor(style json.RawMessage, geometryType, c string) (json.RawMessage, error) {
	st := map[string]any{}
	if len(style) > 0 {
		if err := json.Unmarshal(style, &st); err != nil || st == nil {
			st = map[string]any{}
		}
	}
	typ := styleType(st, geometryType)
	paint, _ := st["paint"].(map[string]any)
	if _, typed := st["type"]; !typed || paint == nil {
		switch typ {
		case "circle":
			paint = map[string]any{"circle-radius": 5, "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}
		case "line":
			paint = map[string]any{"line-width": 2}
		default:
			paint = map[string]any{"fill-opacity": 0.3}
		}
	}
	st["type"] = typ
	paint[typ+"-color"] = c
	if typ == "fill" {
		paint["fill-outline-color"] = c
	}
	st["paint"] = paint
	return json.Marshal(st)
}

// lockLayer reads a layer's catalog row for update in tx.
func lockLayer(ctx context.Context, tx pgx.Tx, slug string) (Layer, error) {
	if !ValidSlug(slug) {
		return Layer{}, geoportal.Errorf(geoportal.ENOTFOUND, "layer %q not found", slug)
	}
	l, err := scanLayer(tx.QueryRow(ctx, `SELECT `+layerColumns+` FROM geoportal.layers WHERE slug = $1 FOR UPDATE`, slug))
	if errors.Is(err, pgx.ErrNoRows) {
		return Layer{}, geoportal.Errorf(geoportal.ENOTFOUND, "layer %q not found", slug)
	}
	if err != nil {
		return Layer{}, fmt.Errorf("layer %s: %w", slug, err)
	}
	return l, nil
}

// catalogChanged announces a change of a layer's catalog entry (not of its features) to every
// process on the database, in tx: it is heard once the change commits.
func catalogChanged(ctx context.Context, tx pgx.Tx, l Layer) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify('layer_changed', json_build_object('layer', $1::text, 'version', $2::bigint, 'catalog', true)::text)`,
		l.Slug, l.Version)
	return err
}

// layerCard is what the audit log keeps of a layer's catalog entry.
type layerCard struct {
	Title      Titles          `json:"title"`
	Visibility string          `json:"visibility"`
	Style      json.RawMessage `json:"style"`
	Features   int64           `json:"feature_count"`
}

func cardOf(l Layer) layerCard {
	return layerCard{Title: l.Title, Visibility: l.Visibility, Style: l.Style, Features: l.FeatureCount}
}

// EditLayer applies e to the layer slug and returns the layer as changed: ENOTFOUND for an unknown
// layer, EINVALID naming the field for bad input (nothing is changed then).
func (s *Store) EditLayer(ctx context.Context, slug string, e LayerEdit) (Layer, error) {
	if err := e.Validate(); err != nil {
		return Layer{}, err
	}
	var out Layer
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := lockLayer(ctx, tx, slug)
		if err != nil {
			return err
		}
		after := before
		if e.Title != nil {
			after.Title = *e.Title
		}
		if e.Visibility != nil {
			after.Visibility = *e.Visibility
		}
		if e.Color != nil {
			if after.Style, err = withColor(before.Style, before.GeometryType, *e.Color); err != nil {
				return fmt.Errorf("layer %s: style: %w", slug, err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE geoportal.layers SET title_kk = $2, title_ru = $3, title_en = $4,
			visibility = $5, style = $6, updated_at = now() WHERE slug = $1`,
			slug, after.Title.KK, after.Title.RU, after.Title.EN, after.Visibility, []byte(after.Style)); err != nil {
			return mapPgError(fmt.Errorf("edit layer %s: %w", slug, err))
		}
		if err := accounts.Audit(ctx, tx, accounts.Entry{Action: "layer.edit", ObjectType: "layer", ObjectID: slug,
			Before: cardOf(before), After: cardOf(after)}); err != nil {
			return err
		}
		out = after
		return catalogChanged(ctx, tx, after)
	})
	if err != nil {
		return Layer{}, err
	}
	return out, nil
}

// DeleteLayer drops the layer slug, its table and features, when it still has the features
// count the person confirming was shown (ECONFLICT otherwise, and for layers a module owns).
func (s *Store) DeleteLayer(ctx context.Context, slug string, features int64) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		l, err := lockLayer(ctx, tx, slug)
		if err != nil {
			return err
		}
		if l.Workflow != "" {
			return geoportal.Errorf(geoportal.ECONFLICT, "layer %s belongs to %s and cannot be deleted; hide it instead", slug, l.Workflow)
		}
		if l.FeatureCount != features {
			return geoportal.Errorf(geoportal.ECONFLICT, "layer %s now has %d features, not the %d confirmed: confirm again", slug, l.FeatureCount, features)
		}
		if _, err := tx.Exec(ctx, `SELECT geoportal.drop_layer($1)`, slug); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "2BP01" {
				return geoportal.Errorf(geoportal.ECONFLICT, "layer %s cannot be deleted: other data depend on it (%s)", slug, pgErr.Detail)
			}
			return mapPgError(fmt.Errorf("delete layer %s: %w", slug, err))
		}
		if err := accounts.Audit(ctx, tx, accounts.Entry{Action: "layer.delete", ObjectType: "layer", ObjectID: slug,
			Before: cardOf(l), Detail: fmt.Sprintf("%d features", l.FeatureCount)}); err != nil {
			return err
		}
		return catalogChanged(ctx, tx, l)
	})
}
