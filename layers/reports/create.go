package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/jackc/pgx/v5"
)

// NewReport is a report as a resident (or an Open311 client) files it.
type NewReport struct {
	ServiceCode string
	Lon, Lat    float64
	Address     string
	Description string
	Attributes  map[string]string // answers to the category's extra questions, by attribute code
	Email       string
	Phone       string
	FirstName   string
	LastName    string
	DeviceID    string
	AccountID   int64
	APIKeyID    int64
	Photos      []Photo // processed with ProcessPhoto
	// LinkBase is the site's address (https://host) for the confirmation link sent to the
	// reporter's e-mail or phone.
	LinkBase string
}

// Secrets are handed to the reporter once: the Open311 token and the private follow link secret.
type Secrets struct {
	Token  string `json:"token"`
	Follow string `json:"follow"`
}

var phoneRE = regexp.MustCompile(`^\+?[0-9 ()-]{5,20}$`)

// validate checks a report against its category's definition and returns the cleaned copy.
func (n NewReport) validate(sv Service) (NewReport, error) {
	var err error
	if err := checkLonLat(n.Lon, n.Lat); err != nil {
		return n, err
	}
	if n.Description, err = cleanText("description", n.Description, 4000); err != nil {
		return n, err
	}
	if n.Address, err = cleanText("address", n.Address, 300); err != nil {
		return n, err
	}
	if n.FirstName, err = cleanText("first_name", n.FirstName, 100); err != nil {
		return n, err
	}
	if n.LastName, err = cleanText("last_name", n.LastName, 100); err != nil {
		return n, err
	}
	if n.DeviceID, err = cleanText("device_id", n.DeviceID, 200); err != nil {
		return n, err
	}
	if n.Email = strings.TrimSpace(n.Email); n.Email != "" {
		a, err := mail.ParseAddress(n.Email)
		if err != nil || a.Address != n.Email || len(n.Email) > 254 {
			return n, geoportal.Errorf(geoportal.EINVALID, "email %q is not an e-mail address", n.Email)
		}
	}
	if n.Phone = strings.TrimSpace(n.Phone); n.Phone != "" && !phoneRE.MatchString(n.Phone) {
		return n, geoportal.Errorf(geoportal.EINVALID, "phone %q is not a phone number", n.Phone)
	}
	if n.Description == "" && len(n.Photos) == 0 {
		return n, geoportal.Errorf(geoportal.EINVALID, "description is required (or a photo)")
	}
	if len(n.Photos) > MaxPhotos {
		return n, geoportal.Errorf(geoportal.EINVALID, "at most %d photos per report", MaxPhotos)
	}
	answers := map[string]string{}
	for _, a := range sv.Attributes {
		v, ok := n.Attributes[a.Code]
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			if a.Required {
				return n, geoportal.Errorf(geoportal.EINVALID, "attribute[%s] is required for %s", a.Code, sv.Code)
			}
			continue
		}
		if v, err = cleanText("attribute["+a.Code+"]", v, 500); err != nil {
			return n, err
		}
		switch a.Datatype {
		case "number":
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return n, geoportal.Errorf(geoportal.EINVALID, "attribute[%s] must be a number", a.Code)
			}
		case "datetime":
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				return n, geoportal.Errorf(geoportal.EINVALID, "attribute[%s] must be an ISO 8601 date and time", a.Code)
			}
		case "singlevaluelist", "multivaluelist":
			for _, one := range strings.Split(v, ",") {
				if !slices.ContainsFunc(a.Values, func(x AttributeValue) bool { return x.Key == strings.TrimSpace(one) }) {
					return n, geoportal.Errorf(geoportal.EINVALID, "attribute[%s]: %q is not one of its values", a.Code, one)
				}
				if a.Datatype == "singlevaluelist" && strings.Contains(v, ",") {
					return n, geoportal.Errorf(geoportal.EINVALID, "attribute[%s] takes one value", a.Code)
				}
			}
		}
		answers[a.Code] = v
	}
	for code := range n.Attributes {
		if !slices.ContainsFunc(sv.Attributes, func(a ServiceAttribute) bool { return a.Code == code }) {
			return n, geoportal.Errorf(geoportal.EINVALID, "attribute[%s] is not a question of %s", code, sv.Code)
		}
	}
	n.Attributes = answers
	return n, nil
}

// Create files a report in one transaction: the public row, the private row, the first history
// step, the reporter as first supporter, the photos, an acknowledgement in the outbox and the
// audit entry. A location outside the city, a banned reporter or a bad answer files nothing.
func (s *Store) Create(ctx context.Context, n NewReport) (Report, Secrets, error) {
	sv, err := s.Service(ctx, n.ServiceCode)
	if err != nil {
		return Report{}, Secrets{}, err
	}
	if n, err = n.validate(sv); err != nil {
		return Report{}, Secrets{}, err
	}
	sec := Secrets{Token: randomSecret("t"), Follow: randomSecret("f")}
	var id int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var inside *bool
		if err := tx.QueryRow(ctx, `SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM layer.city_boundary) THEN NULL
				ELSE EXISTS (SELECT 1 FROM layer.city_boundary b
					WHERE ST_Intersects(b.geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))) END`,
			n.Lon, n.Lat).Scan(&inside); err != nil {
			return err
		}
		if inside != nil && !*inside {
			return geoportal.Errorf(geoportal.EINVALID, "location %.5f, %.5f is outside the city", n.Lat, n.Lon)
		}
		// Where the report is, in words: the nearest address in each language. A point with
		// nothing near keeps its coordinates only.
		place, placeD, err := layers.ReverseAll(ctx, tx, n.Lon, n.Lat)
		var ge *geoportal.Error
		if errors.As(err, &ge) {
			place, err = layers.Titles{}, nil
		}
		if err != nil {
			return fmt.Errorf("address of the point: %w", err)
		}
		var placeDistance *float64
		if place.RU != "" {
			placeDistance = &placeD
		}
		keys := []string{reporterKey("device", n.DeviceID), reporterKey("email", n.Email)}
		var banned bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reports.banned WHERE reporter = ANY($1))`,
			keys).Scan(&banned); err != nil {
			return err
		}
		if banned {
			return geoportal.Errorf(geoportal.EFORBIDDEN, "this reporter may not file reports")
		}
		now := s.Now()
		if err := tx.QueryRow(ctx, `INSERT INTO layer.citizen_reports
				(geom, service_code, status, description, address, department, requested_at, support_count)
			VALUES (ST_SetSRID(ST_MakePoint($1, $2), 4326), $3, 'new', $4, $5, $6, $7, 1) RETURNING id`,
			n.Lon, n.Lat, sv.Code, n.Description, n.Address, sv.Department, now).Scan(&id); err != nil {
			return err
		}
		attrs, _ := json.Marshal(n.Attributes)
		var account, apiKey *int64
		if n.AccountID != 0 {
			account = &n.AccountID
		}
		if n.APIKeyID != 0 {
			apiKey = &n.APIKeyID
		}
		expected := now.AddDate(0, 0, sv.SLADays)
		if _, err := tx.Exec(ctx, `INSERT INTO reports.private (report_id, first_name, last_name, email, phone,
				device_id, account_id, api_key_id, attributes, original_text, follow_hash, token, expected_at,
				place_kk, place_ru, place_en, place_distance_m)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
			id, n.FirstName, n.LastName, n.Email, n.Phone, n.DeviceID, account, apiKey, attrs, n.Description,
			hashSecret(sec.Follow), sec.Token, expected, place.KK, place.RU, place.EN, placeDistance); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO reports.history (report_id, at, status, comment, actor)
			VALUES ($1, $2, 'new', '', 'reporter')`, id, now); err != nil {
			return err
		}
		if k := firstNonEmpty(keys...); k != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO reports.supporters (report_id, supporter, email)
				VALUES ($1, $2, $3)`, id, k, n.Email); err != nil {
				return err
			}
		}
		for i, p := range n.Photos {
			if _, err := tx.Exec(ctx, `INSERT INTO reports.photos (report_id, n, content_type, data, thumb,
					width, height, exif_lon, exif_lat) VALUES ($1, $2, 'image/jpeg', $3, $4, $5, $6, $7, $8)`,
				id, i+1, p.JPEG, p.Thumb, p.Width, p.Height, p.ExifLon, p.ExifLat); err != nil {
				return err
			}
		}
		// The acknowledgement carries the confirmation code and link: only a confirmed contact
		// hears of the report again (confirm.go).
		if n.Email != "" {
			if err := s.addContact(ctx, tx, id, ChannelEmail, n.Email, "reporter", n.LinkBase); err != nil {
				return err
			}
		}
		if n.Phone != "" {
			if err := s.addContact(ctx, tx, id, ChannelSMS, n.Phone, "reporter", n.LinkBase); err != nil {
				return err
			}
		}
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "report.create", ObjectType: "report",
			ObjectID: strconv.FormatInt(id, 10), After: map[string]any{"service_code": sv.Code,
				"lon": n.Lon, "lat": n.Lat, "photos": len(n.Photos)}})
	})
	if err != nil {
		var ge *geoportal.Error
		if errors.As(err, &ge) {
			return Report{}, Secrets{}, err
		}
		return Report{}, Secrets{}, fmt.Errorf("create report: %w", err)
	}
	r, err := s.Get(ctx, id)
	return r, sec, err
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// ByToken returns the report id an Open311 token stands for.
func (s *Store) ByToken(ctx context.Context, token string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT report_id FROM reports.private WHERE token = $1`, token).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, geoportal.Errorf(geoportal.ENOTFOUND, "token not found")
	}
	return id, err
}

// ByFollowSecret returns the report a private follow link opens.
func (s *Store) ByFollowSecret(ctx context.Context, secret string) (Report, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT report_id FROM reports.private WHERE follow_hash = $1`,
		hashSecret(secret)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Report{}, geoportal.Errorf(geoportal.ENOTFOUND, "no report behind this link")
	} else if err != nil {
		return Report{}, err
	}
	return s.Get(ctx, id)
}
