// Package reports is the city's e-appeals module: residents report a problem pinned to a place,
// the report is routed to the department that owns its category, and staff move it through a
// status workflow whose every step is kept. Reports are the public layer citizen_reports; what a
// reporter says about themselves stays in reports.private and never leaves the server.
//
//	store := reports.NewStore(pool)
//	r, secrets, err := store.Create(ctx, reports.NewReport{ServiceCode: "pothole", Lon: 57.17, Lat: 50.28})
package reports

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Statuses of the workflow.
const (
	StatusNew        = "new"
	StatusAccepted   = "accepted"
	StatusInProgress = "in_progress"
	StatusResolved   = "resolved"
	StatusRejected   = "rejected"
	StatusDuplicate  = "duplicate"
)

// transitions lists where each status may go next.
var transitions = map[string][]string{
	StatusNew:        {StatusAccepted, StatusRejected, StatusDuplicate},
	StatusAccepted:   {StatusInProgress, StatusResolved, StatusRejected, StatusDuplicate},
	StatusInProgress: {StatusResolved, StatusRejected, StatusDuplicate},
	StatusResolved:   {StatusInProgress}, // reopened
	StatusRejected:   {StatusAccepted},   // reconsidered
	StatusDuplicate:  {StatusAccepted},
}

// NextStatuses lists the statuses a report in status may move to.
func NextStatuses(status string) []string { return slices.Clone(transitions[status]) }

// Open reports whether a status counts as "open" in Open311's two-value status.
func Open(status string) bool {
	return status == StatusNew || status == StatusAccepted || status == StatusInProgress
}

// Service is a report category (an Open311 service).
type Service struct {
	Code        string             `json:"code"`
	Department  string             `json:"department"`
	Name        layers.Titles      `json:"name"`
	Description layers.Titles      `json:"description"`
	Keywords    string             `json:"keywords"`
	Group       string             `json:"group"`
	Attributes  []ServiceAttribute `json:"attributes"`
	SLADays     int                `json:"sla_days"`
}

// ServiceAttribute is one extra question of a category (Open311 service definition attribute).
type ServiceAttribute struct {
	Code        string           `json:"code"`
	Datatype    string           `json:"datatype"` // string, number, datetime, text, singlevaluelist, multivaluelist
	Required    bool             `json:"required"`
	Order       int              `json:"order"`
	Description layers.Titles    `json:"description"`
	Values      []AttributeValue `json:"values,omitempty"`
}

// AttributeValue is one choice of a list question.
type AttributeValue struct {
	Key  string        `json:"key"`
	Name layers.Titles `json:"name"`
}

// Report is what anyone may see of a report.
type Report struct {
	ID          int64  `json:"id"`
	ServiceCode string `json:"service_code"`
	Status      string `json:"status"`
	Description string `json:"description"`
	// Address is what the reporter gave (Open311 address_string); Place is the address of the
	// point in each language, found when the report was filed (layers.ReverseAll).
	Address      string        `json:"address"`
	Place        layers.Titles `json:"place"`
	Department   string        `json:"department"`
	Lon          float64       `json:"lon"`
	Lat          float64       `json:"lat"`
	RequestedAt  time.Time     `json:"requested_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
	SupportCount int           `json:"support_count"`
	DuplicateOf  *int64        `json:"duplicate_of,omitempty"`
	StatusNotes  string        `json:"status_notes"` // the latest public comment
	Photos       int           `json:"photos"`
	ExpectedAt   *time.Time    `json:"expected_at,omitempty"`
}

// Private is what only staff see.
type Private struct {
	FirstName  string            `json:"first_name"`
	LastName   string            `json:"last_name"`
	Email      string            `json:"email"`
	Phone      string            `json:"phone"`
	DeviceID   string            `json:"device_id"`
	Attributes map[string]string `json:"attributes"`
	TextHidden bool              `json:"text_hidden"`
	Original   string            `json:"original_text"`
	// EmailConfirmed and PhoneConfirmed: the reporter confirmed the contact (confirm.go).
	EmailConfirmed bool `json:"email_confirmed"`
	PhoneConfirmed bool `json:"phone_confirmed"`
}

// HistoryEntry is one step of a report's workflow.
type HistoryEntry struct {
	At      time.Time `json:"at"`
	Status  string    `json:"status"`
	Comment string    `json:"comment"`
	Actor   string    `json:"actor,omitempty"`
}

// Store keeps reports in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	// Now is the clock (tests move it).
	Now func() time.Time
	// Difficulty of the proof of work asked of anonymous reporters (0: DefaultDifficulty).
	Difficulty int

	pow        powKey
	confirmKey powKey
	photos     photoDecoder
}

// NewStore returns a store over pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool, Now: time.Now} }

// Services returns the active categories in display order.
func (s *Store) Services(ctx context.Context) ([]Service, error) {
	rows, err := s.pool.Query(ctx, `SELECT code, department, name_kk, name_ru, name_en, description_kk,
			description_ru, description_en, keywords, group_name, attributes, sla_days
		FROM reports.services WHERE active ORDER BY sort_order, code`)
	if err != nil {
		return nil, fmt.Errorf("services: %w", err)
	}
	defer rows.Close()
	var out []Service
	for rows.Next() {
		sv, err := scanService(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sv)
	}
	return out, rows.Err()
}

// Service returns one active category.
func (s *Store) Service(ctx context.Context, code string) (Service, error) {
	sv, err := scanService(s.pool.QueryRow(ctx, `SELECT code, department, name_kk, name_ru, name_en,
			description_kk, description_ru, description_en, keywords, group_name, attributes, sla_days
		FROM reports.services WHERE code = $1 AND active`, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return Service{}, geoportal.Errorf(geoportal.ENOTFOUND, "service_code %q is not a known category", code)
	}
	return sv, err
}

func scanService(row pgx.Row) (Service, error) {
	var sv Service
	var attrs []byte
	err := row.Scan(&sv.Code, &sv.Department, &sv.Name.KK, &sv.Name.RU, &sv.Name.EN, &sv.Description.KK,
		&sv.Description.RU, &sv.Description.EN, &sv.Keywords, &sv.Group, &attrs, &sv.SLADays)
	if err != nil {
		return sv, err
	}
	if err := json.Unmarshal(attrs, &sv.Attributes); err != nil {
		return sv, fmt.Errorf("service %s: attributes: %w", sv.Code, err)
	}
	return sv, nil
}

const reportColumns = `r.id, r.service_code, r.status, r.description, coalesce(r.address, ''),
	coalesce(r.department, ''), ST_X(r.geom), ST_Y(r.geom), r.requested_at, r.updated_at, r.support_count,
	r.duplicate_of,
	coalesce((SELECT h.comment FROM reports.history h WHERE h.report_id = r.id AND h.comment <> ''
		ORDER BY h.at DESC, h.id DESC LIMIT 1), ''),
	(SELECT count(*) FROM reports.photos p WHERE p.report_id = r.id AND NOT p.hidden),
	p.expected_at, p.place_kk, p.place_ru, p.place_en`

func scanReport(row pgx.Row) (Report, error) {
	var r Report
	err := row.Scan(&r.ID, &r.ServiceCode, &r.Status, &r.Description, &r.Address, &r.Department, &r.Lon,
		&r.Lat, &r.RequestedAt, &r.UpdatedAt, &r.SupportCount, &r.DuplicateOf, &r.StatusNotes, &r.Photos,
		&r.ExpectedAt, &r.Place.KK, &r.Place.RU, &r.Place.EN)
	return r, err
}

// AddressIn is where the report is, in lang: the address the reporter gave, else the address
// of its point in lang (Russian when there is none in lang), else "".
func (r Report) AddressIn(lang string) string {
	if r.Address != "" {
		return r.Address
	}
	switch {
	case lang == "kk" && r.Place.KK != "":
		return r.Place.KK
	case lang == "en" && r.Place.EN != "":
		return r.Place.EN
	}
	return r.Place.RU
}

// Get returns one report.
func (s *Store) Get(ctx context.Context, id int64) (Report, error) {
	r, err := scanReport(s.pool.QueryRow(ctx, `SELECT `+reportColumns+`
		FROM layer.citizen_reports r JOIN reports.private p ON p.report_id = r.id WHERE r.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Report{}, geoportal.Errorf(geoportal.ENOTFOUND, "report %d not found", id)
	} else if err != nil {
		return Report{}, fmt.Errorf("report %d: %w", id, err)
	}
	return r, nil
}

// contactConfirmedColumns say whether the reporter's e-mail and phone (of reports.private p) are confirmed.
const contactConfirmedColumns = `EXISTS (SELECT 1 FROM reports.contacts k WHERE k.report_id = p.report_id
		AND k.channel = 'email' AND k.address = p.email AND k.confirmed_at IS NOT NULL),
	EXISTS (SELECT 1 FROM reports.contacts k WHERE k.report_id = p.report_id
		AND k.channel = 'sms' AND k.address = p.phone AND k.confirmed_at IS NOT NULL)`

// GetPrivate returns what only staff may see of a report.
func (s *Store) GetPrivate(ctx context.Context, id int64) (Private, error) {
	var p Private
	var attrs []byte
	err := s.pool.QueryRow(ctx, `SELECT first_name, last_name, email, phone, device_id, attributes,
			text_hidden, original_text, `+contactConfirmedColumns+` FROM reports.private p WHERE report_id = $1`, id).
		Scan(&p.FirstName, &p.LastName, &p.Email, &p.Phone, &p.DeviceID, &attrs, &p.TextHidden, &p.Original,
			&p.EmailConfirmed, &p.PhoneConfirmed)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, geoportal.Errorf(geoportal.ENOTFOUND, "report %d not found", id)
	} else if err != nil {
		return p, fmt.Errorf("report %d: %w", id, err)
	}
	json.Unmarshal(attrs, &p.Attributes)
	return p, nil
}

// Privates returns what only staff may see of several reports, in one query.
func (s *Store) Privates(ctx context.Context, ids []int64) (map[int64]Private, error) {
	rows, err := s.pool.Query(ctx, `SELECT report_id, first_name, last_name, email, phone, device_id, attributes,
			text_hidden, original_text, `+contactConfirmedColumns+` FROM reports.private p WHERE report_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("reports' private data: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]Private, len(ids))
	for rows.Next() {
		var id int64
		var p Private
		var attrs []byte
		if err := rows.Scan(&id, &p.FirstName, &p.LastName, &p.Email, &p.Phone, &p.DeviceID, &attrs,
			&p.TextHidden, &p.Original, &p.EmailConfirmed, &p.PhoneConfirmed); err != nil {
			return nil, err
		}
		json.Unmarshal(attrs, &p.Attributes)
		out[id] = p
	}
	return out, rows.Err()
}

// Filter selects reports for lists; zero fields do not filter.
type Filter struct {
	IDs          []int64
	ServiceCodes []string
	Statuses     []string // workflow statuses
	Department   string
	From, To     time.Time
	BBox         []float64 // west, south, east, north
	Limit        int
	Offset       int
}

// List returns reports matching f, newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Report, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if len(f.IDs) > 0 {
		add("r.id = ANY(?)", f.IDs)
	}
	if len(f.ServiceCodes) > 0 {
		add("r.service_code = ANY(?)", f.ServiceCodes)
	}
	if len(f.Statuses) > 0 {
		add("r.status = ANY(?)", f.Statuses)
	}
	if f.Department != "" {
		add("r.department = ?", f.Department)
	}
	if !f.From.IsZero() {
		add("r.requested_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		add("r.requested_at <= ?", f.To)
	}
	if len(f.BBox) == 4 {
		args = append(args, f.BBox[0], f.BBox[1], f.BBox[2], f.BBox[3])
		n := len(args)
		where = append(where, fmt.Sprintf("r.geom && ST_MakeEnvelope($%d, $%d, $%d, $%d, 4326)", n-3, n-2, n-1, n))
	}
	q := `SELECT ` + reportColumns + ` FROM layer.citizen_reports r JOIN reports.private p ON p.report_id = r.id`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	args = append(args, limit, f.Offset)
	q += fmt.Sprintf(" ORDER BY r.requested_at DESC, r.id DESC LIMIT $%d OFFSET $%d", len(args)-1, len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list reports: %w", err)
	}
	defer rows.Close()
	out := []Report{}
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, fmt.Errorf("list reports: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// History returns a report's workflow steps, oldest first.
func (s *Store) History(ctx context.Context, id int64, withActors bool) ([]HistoryEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT at, status, comment, actor FROM reports.history
		WHERE report_id = $1 ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("report %d history: %w", id, err)
	}
	defer rows.Close()
	out := []HistoryEntry{}
	for rows.Next() {
		var h HistoryEntry
		if err := rows.Scan(&h.At, &h.Status, &h.Comment, &h.Actor); err != nil {
			return nil, err
		}
		if !withActors {
			h.Actor = ""
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Nearby returns open reports of a category within radius metres of a point, nearest first: the
// duplicates a resident should see before filing another.
func (s *Store) Nearby(ctx context.Context, serviceCode string, lon, lat, radius float64) ([]Report, error) {
	if radius <= 0 || radius > 2000 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "radius must be between 0 and 2000 metres")
	}
	if err := checkLonLat(lon, lat); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+reportColumns+`
		FROM layer.citizen_reports r JOIN reports.private p ON p.report_id = r.id
		WHERE r.service_code = $1 AND r.status IN ('new', 'accepted', 'in_progress')
		  AND ST_DWithin(r.geom::geography, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography, $4)
		ORDER BY r.geom <-> ST_SetSRID(ST_MakePoint($2, $3), 4326) LIMIT 10`, serviceCode, lon, lat, radius)
	if err != nil {
		return nil, fmt.Errorf("nearby reports: %w", err)
	}
	defer rows.Close()
	out := []Report{}
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func checkLonLat(lon, lat float64) error {
	if lat < -90 || lat > 90 || lon < -180 || lon > 180 || lat != lat || lon != lon {
		return geoportal.Errorf(geoportal.EINVALID, "location %g, %g is not a longitude/latitude pair", lon, lat)
	}
	return nil
}

// cleanText trims s and refuses text that is too long or not UTF-8. HTML is kept as typed: it
// is text, escaped wherever it is shown.
func cleanText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", geoportal.Errorf(geoportal.EINVALID, "%s is not valid UTF-8 text", field)
	}
	if utf8.RuneCountInString(s) > max {
		return "", geoportal.Errorf(geoportal.EINVALID, "%s is longer than %d characters", field, max)
	}
	if strings.ContainsRune(s, 0) {
		return "", geoportal.Errorf(geoportal.EINVALID, "%s contains a NUL character", field)
	}
	return s, nil
}

func randomSecret(prefix string) string {
	b := make([]byte, 24)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// reporterKey is how bans and +1s recognise a reporter without storing the raw identifier twice.
func reporterKey(kind, v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return ""
	}
	h := sha256.Sum256([]byte(kind + ":" + v))
	return hex.EncodeToString(h[:16])
}

// Departments returns the departments' names by code.
func (s *Store) Departments(ctx context.Context) (map[string]layers.Titles, error) {
	rows, err := s.pool.Query(ctx, `SELECT code, name_kk, name_ru, name_en FROM reports.departments`)
	if err != nil {
		return nil, fmt.Errorf("departments: %w", err)
	}
	defer rows.Close()
	out := map[string]layers.Titles{}
	for rows.Next() {
		var code string
		var t layers.Titles
		if err := rows.Scan(&code, &t.KK, &t.RU, &t.EN); err != nil {
			return nil, err
		}
		out[code] = t
	}
	return out, rows.Err()
}
