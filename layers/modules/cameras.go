package modules

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/jackc/pgx/v5"
)

// Safe city (issue 19): owners of private cameras register them to join the city's video
// control; safe-city staff approve, ask for changes or reject them. The table and the two map
// layers it feeds (private_cameras, public with the owner's consent; private_cameras_staff) are
// in data/migrations/0160_private_cameras.sql.

// SafeCityDepartment is the department of department_staff who moderate private cameras.
const SafeCityDepartment = "safe_city"

// Camera registration limits and the rules of duplicates.
const (
	MaxCamerasPerAccount = 50
	MaxCameraRange       = 300.0 // metres
	MaxCameraHeight      = 100.0 // metres
	MaxRetentionDays     = 365
	// DuplicateMetres and DuplicateDegrees: a camera this close that looks this nearly the same
	// way is a duplicate (of the owner's own: refused; of a city camera or someone else's: shown
	// to staff).
	DuplicateMetres  = 5.0
	DuplicateDegrees = 30.0
	// CityRetentionDays is how long the city's own cameras keep footage (the Safe City
	// programme's 30 days; the cameras layer does not record it per camera).
	CityRetentionDays = 30
)

// Camera statuses.
const (
	CameraPending          = "pending"
	CameraChangesRequested = "changes_requested"
	CameraApproved         = "approved"
	CameraRejected         = "rejected"
	CameraWithdrawn        = "withdrawn"
)

// What a private camera films.
var CameraFilms = []string{"street", "yard", "entrance"}

// IsSafeCityStaff says whether u moderates private cameras: department staff of the safe-city
// department, or an admin.
func IsSafeCityStaff(u *accounts.User) bool {
	if u == nil {
		return false
	}
	return u.Role == accounts.Admin || (u.Role == accounts.DepartmentStaff && u.Department == SafeCityDepartment)
}

// NewCamera is an owner's registration (or its edit).
type NewCamera struct {
	Lon           float64 `json:"lon"`
	Lat           float64 `json:"lat"`
	Name          string  `json:"name"`
	Heading       float64 `json:"heading"` // degrees clockwise from north
	FOV           float64 `json:"fov"`     // degrees, 360 for a dome
	Range         float64 `json:"range_m"`
	Height        float64 `json:"height_m"`
	Films         string  `json:"films"` // street, yard or entrance
	RetentionDays int     `json:"retention_days"`
	Contact       string  `json:"contact"`
	// The terms: footage may be requested by the police for an incident (required); the camera
	// may be counted in the city's coverage; it is shown on the public map.
	ConsentPolice   bool `json:"consent_police"`
	ConsentCoverage bool `json:"consent_coverage"`
	ShowPublic      bool `json:"show_public"`
}

// PrivateCamera is a registration as its owner and staff see it.
type PrivateCamera struct {
	ID int64 `json:"id"`
	NewCamera
	AccountID  int64      `json:"account_id"`
	Owner      string     `json:"owner,omitempty"` // the owner's e-mail, for staff
	Status     string     `json:"status"`
	Reason     string     `json:"reason"`
	DecidedAt  *time.Time `json:"decided_at"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	Duplicates []Nearby   `json:"duplicates,omitempty"`
}

// Nearby is a camera close to a registration that looks the same way.
type Nearby struct {
	Kind     string  `json:"kind"` // city or private
	ID       int64   `json:"id"`
	Name     string  `json:"name"`
	Status   string  `json:"status"`
	Distance float64 `json:"distance_m"`
	Heading  float64 `json:"heading"`
	// Where it is and what it sees, for the moderators' small map (a city camera's unknown
	// field of view is 360, its unknown range 0).
	Lon   float64 `json:"lon"`
	Lat   float64 `json:"lat"`
	FOV   float64 `json:"fov"`
	Range float64 `json:"range_m"`
}

func fieldError(field, format string, args ...any) error {
	return geoportal.Errorf(geoportal.EINVALID, "%s: %s", field, fmt.Sprintf(format, args...))
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

// check cleans n and names the first field that is wrong.
func (n *NewCamera) check() error {
	n.Name = strings.TrimSpace(n.Name)
	n.Contact = strings.TrimSpace(n.Contact)
	n.Films = strings.TrimSpace(n.Films)
	switch {
	case bad(n.Lon) || bad(n.Lat) || n.Lon < -180 || n.Lon > 180 || n.Lat < -90 || n.Lat > 90 || (n.Lon == 0 && n.Lat == 0):
		return fieldError("position", "lon %g, lat %g is not a place on the Earth (degrees, WGS 84)", n.Lon, n.Lat)
	case n.Name == "" || len([]rune(n.Name)) > 200:
		return fieldError("name", "a name of the camera is required, at most 200 characters")
	case bad(n.Heading) || n.Heading < 0 || n.Heading >= 360:
		return fieldError("heading", "heading must be from 0 to under 360 degrees, got %g", n.Heading)
	case bad(n.FOV) || n.FOV <= 0 || n.FOV > 360:
		return fieldError("fov", "the field of view must be more than 0 and at most 360 degrees, got %g", n.FOV)
	case bad(n.Range) || n.Range <= 0 || n.Range > MaxCameraRange:
		return fieldError("range_m", "the range must be more than 0 and at most %g metres, got %g", MaxCameraRange, n.Range)
	case bad(n.Height) || n.Height <= 0 || n.Height > MaxCameraHeight:
		return fieldError("height_m", "the mounting height must be more than 0 and at most %g metres, got %g", MaxCameraHeight, n.Height)
	case !validFilms(n.Films):
		return fieldError("films", "what the camera films must be one of %s, got %q", strings.Join(CameraFilms, ", "), n.Films)
	case n.RetentionDays < 1 || n.RetentionDays > MaxRetentionDays:
		return fieldError("retention_days", "recording retention must be from 1 to %d days, got %d", MaxRetentionDays, n.RetentionDays)
	case len([]rune(n.Contact)) < 3 || len([]rune(n.Contact)) > 200:
		return fieldError("contact", "a contact (phone or e-mail) of 3 to 200 characters is required")
	case !n.ConsentPolice:
		return fieldError("consent_police", "the terms must be accepted: footage may be requested by the police for an incident")
	}
	return nil
}

func validFilms(s string) bool {
	for _, f := range CameraFilms {
		if f == s {
			return true
		}
	}
	return false
}

const cameraColumns = `c.id, ST_X(c.geom), ST_Y(c.geom), c.name, c.heading, c.fov, c.range_m, c.height_m, c.films,
	c.retention_days, c.contact, c.consent_police, c.consent_coverage, c.show_public, c.account_id, u.email,
	c.status, c.reason, c.decided_at, c.created_at, c.updated_at`

func scanCamera(row pgx.Row) (PrivateCamera, error) {
	var c PrivateCamera
	err := row.Scan(&c.ID, &c.Lon, &c.Lat, &c.Name, &c.Heading, &c.FOV, &c.Range, &c.Height, &c.Films,
		&c.RetentionDays, &c.Contact, &c.ConsentPolice, &c.ConsentCoverage, &c.ShowPublic, &c.AccountID, &c.Owner,
		&c.Status, &c.Reason, &c.DecidedAt, &c.CreatedAt, &c.UpdatedAt)
	return c, err
}

func cameraNotFound(id int64) error {
	return geoportal.Errorf(geoportal.ENOTFOUND, "there is no camera registration %d", id)
}

// insideCity checks the position lies inside the city boundary (when the city has one).
func insideCity(ctx context.Context, tx pgx.Tx, lon, lat float64) error {
	var inside *bool
	if err := tx.QueryRow(ctx, `SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM layer.city_boundary) THEN NULL
			ELSE EXISTS (SELECT 1 FROM layer.city_boundary b
				WHERE ST_Intersects(b.geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))) END`, lon, lat).Scan(&inside); err != nil {
		return fmt.Errorf("city boundary: %w", err)
	}
	if inside != nil && !*inside {
		return fieldError("position", "lon %.5f, lat %.5f is outside the city", lon, lat)
	}
	return nil
}

// ownDuplicate refuses a second active registration of the same owner at the same place
// looking the same way (except the registration being edited).
func ownDuplicate(ctx context.Context, tx pgx.Tx, accountID, except int64, n NewCamera) error {
	var dup int64
	err := tx.QueryRow(ctx, `SELECT id FROM modules.private_cameras
		WHERE account_id = $1 AND id <> $2 AND status NOT IN ('withdrawn', 'rejected')
		  AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint($3, $4), 4326)::geography, $5)
		  AND least(abs(heading - $6), 360 - abs(heading - $6)) <= $7
		LIMIT 1`, accountID, except, n.Lon, n.Lat, DuplicateMetres, n.Heading, DuplicateDegrees).Scan(&dup)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("duplicate check: %w", err)
	}
	return geoportal.Errorf(geoportal.ECONFLICT, "position: you have already registered camera %d within %g m looking the same way", dup, DuplicateMetres)
}

func auditCamera(c PrivateCamera) map[string]any {
	return map[string]any{"status": c.Status, "name": c.Name, "lon": c.Lon, "lat": c.Lat, "heading": c.Heading,
		"fov": c.FOV, "range_m": c.Range, "show_public": c.ShowPublic, "consent_coverage": c.ConsentCoverage, "reason": c.Reason}
}

// RegisterCamera adds an owner's camera, pending moderation; audited as private_camera.register.
func (s *Store) RegisterCamera(ctx context.Context, accountID int64, n NewCamera) (PrivateCamera, error) {
	if accountID == 0 {
		return PrivateCamera{}, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to register a camera")
	}
	if err := n.check(); err != nil {
		return PrivateCamera{}, err
	}
	var out PrivateCamera
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// One owner's registrations are checked one at a time (duplicates, the limit).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(19, $1::int)`, accountID%math.MaxInt32); err != nil {
			return fmt.Errorf("register camera: %w", err)
		}
		if err := insideCity(ctx, tx, n.Lon, n.Lat); err != nil {
			return err
		}
		var mine int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM modules.private_cameras WHERE account_id = $1
			AND status NOT IN ('withdrawn', 'rejected')`, accountID).Scan(&mine); err != nil {
			return fmt.Errorf("register camera: %w", err)
		}
		if mine >= MaxCamerasPerAccount {
			return geoportal.Errorf(geoportal.ECONFLICT, "you already have %d cameras registered (at most %d)", mine, MaxCamerasPerAccount)
		}
		if err := ownDuplicate(ctx, tx, accountID, 0, n); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO modules.private_cameras (account_id, geom, name, heading, fov, range_m,
				height_m, films, retention_days, contact, consent_police, consent_coverage, show_public)
			VALUES ($1, ST_SetSRID(ST_MakePoint($2, $3), 4326), $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
			accountID, n.Lon, n.Lat, n.Name, n.Heading, n.FOV, n.Range, n.Height, n.Films, n.RetentionDays, n.Contact,
			n.ConsentPolice, n.ConsentCoverage, n.ShowPublic).Scan(&id); err != nil {
			return fmt.Errorf("register camera: %w", err)
		}
		var err error
		if out, err = cameraTx(ctx, tx, id, false); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "private_camera.register", ObjectType: "private_camera",
			ObjectID: fmt.Sprint(id), After: auditCamera(out)})
	})
	return out, err
}

func cameraTx(ctx context.Context, tx pgx.Tx, id int64, lock bool) (PrivateCamera, error) {
	q := `SELECT ` + cameraColumns + ` FROM modules.private_cameras c JOIN auth.users u ON u.id = c.account_id WHERE c.id = $1`
	if lock {
		q += ` FOR UPDATE OF c`
	}
	c, err := scanCamera(tx.QueryRow(ctx, q, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, cameraNotFound(id)
	}
	if err != nil {
		return c, fmt.Errorf("camera %d: %w", id, err)
	}
	return c, nil
}

// ownCamera locks an owner's registration; someone else's is a 403 naming the camera.
func ownCamera(ctx context.Context, tx pgx.Tx, accountID, id int64) (PrivateCamera, error) {
	c, err := cameraTx(ctx, tx, id, true)
	if err != nil {
		return c, err
	}
	if c.AccountID != accountID {
		return c, geoportal.Errorf(geoportal.EFORBIDDEN, "id: camera %d is registered by another owner; you may change only your own cameras", id)
	}
	if c.Status == CameraWithdrawn {
		return c, geoportal.Errorf(geoportal.ECONFLICT, "status: camera %d is withdrawn; register it again instead", id)
	}
	return c, nil
}

// UpdateCamera changes an owner's registration; it goes back to moderation (an approved camera
// leaves the maps until staff approve it again). Audited as private_camera.update.
func (s *Store) UpdateCamera(ctx context.Context, accountID, id int64, n NewCamera) (PrivateCamera, error) {
	if accountID == 0 {
		return PrivateCamera{}, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to change a camera")
	}
	if err := n.check(); err != nil {
		return PrivateCamera{}, err
	}
	var out PrivateCamera
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := ownCamera(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if err := insideCity(ctx, tx, n.Lon, n.Lat); err != nil {
			return err
		}
		if err := ownDuplicate(ctx, tx, accountID, id, n); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE modules.private_cameras SET geom = ST_SetSRID(ST_MakePoint($2, $3), 4326),
				name = $4, heading = $5, fov = $6, range_m = $7, height_m = $8, films = $9, retention_days = $10,
				contact = $11, consent_police = $12, consent_coverage = $13, show_public = $14,
				status = 'pending', reason = '', decided_by = NULL, decided_at = NULL, updated_at = now()
			WHERE id = $1`, id, n.Lon, n.Lat, n.Name, n.Heading, n.FOV, n.Range, n.Height, n.Films, n.RetentionDays,
			n.Contact, n.ConsentPolice, n.ConsentCoverage, n.ShowPublic); err != nil {
			return fmt.Errorf("update camera %d: %w", id, err)
		}
		if out, err = cameraTx(ctx, tx, id, false); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "private_camera.update", ObjectType: "private_camera",
			ObjectID: fmt.Sprint(id), Before: auditCamera(before), After: auditCamera(out)})
	})
	return out, err
}

// WithdrawCamera takes an owner's camera out of the system: it leaves every map and analysis in
// the same transaction. Audited as private_camera.withdraw.
func (s *Store) WithdrawCamera(ctx context.Context, accountID, id int64) (PrivateCamera, error) {
	if accountID == 0 {
		return PrivateCamera{}, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to withdraw a camera")
	}
	var out PrivateCamera
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := ownCamera(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE modules.private_cameras SET status = 'withdrawn', updated_at = now() WHERE id = $1`, id); err != nil {
			return fmt.Errorf("withdraw camera %d: %w", id, err)
		}
		if out, err = cameraTx(ctx, tx, id, false); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "private_camera.withdraw", ObjectType: "private_camera",
			ObjectID: fmt.Sprint(id), Before: auditCamera(before), After: auditCamera(out)})
	})
	return out, err
}

// MyCameras lists an owner's registrations, newest first (withdrawn ones included).
func (s *Store) MyCameras(ctx context.Context, accountID int64) ([]PrivateCamera, error) {
	return s.listCameras(ctx, `WHERE c.account_id = $1 ORDER BY c.created_at DESC, c.id DESC`, accountID)
}

// CameraQueue lists registrations for staff: status "" is the queue (pending), "all" every
// one; each with its duplicates nearby.
func (s *Store) CameraQueue(ctx context.Context, status string) ([]PrivateCamera, error) {
	var out []PrivateCamera
	var err error
	switch status {
	case "", CameraPending:
		out, err = s.listCameras(ctx, `WHERE c.status = 'pending' ORDER BY c.updated_at, c.id`)
	case "all":
		out, err = s.listCameras(ctx, `ORDER BY c.created_at DESC, c.id DESC`)
	case CameraChangesRequested, CameraApproved, CameraRejected, CameraWithdrawn:
		out, err = s.listCameras(ctx, `WHERE c.status = $1 ORDER BY c.updated_at DESC, c.id DESC`, status)
	default:
		return nil, fieldError("status", "status must be pending, changes_requested, approved, rejected, withdrawn or all, got %q", status)
	}
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Duplicates, err = s.CameraDuplicates(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) listCameras(ctx context.Context, where string, args ...any) ([]PrivateCamera, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+cameraColumns+` FROM modules.private_cameras c
		JOIN auth.users u ON u.id = c.account_id `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("cameras: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PrivateCamera, error) { return scanCamera(r) })
	if err != nil {
		return nil, fmt.Errorf("cameras: %w", err)
	}
	if out == nil {
		out = []PrivateCamera{}
	}
	return out, nil
}

// CameraDuplicates lists the city cameras and the other active registrations within
// DuplicateMetres of registration id that look within DuplicateDegrees of its heading.
func (s *Store) CameraDuplicates(ctx context.Context, id int64) ([]Nearby, error) {
	rows, err := s.pool.Query(ctx, `WITH me AS (SELECT geom, heading FROM modules.private_cameras WHERE id = $1)
		SELECT 'city', k.id, coalesce(k.name, ''), coalesce(k.status, ''), ST_Distance(k.geom::geography, me.geom::geography),
			coalesce(k.heading, 0), ST_X(k.geom), ST_Y(k.geom), coalesce(nullif(k.fov, 0), 360), coalesce(k.range_m, 0)
		FROM layer.cameras k, me
		WHERE ST_DWithin(k.geom::geography, me.geom::geography, $2)
		  AND (k.heading IS NULL OR least(abs(k.heading - me.heading), 360 - abs(k.heading - me.heading)) <= $3)
		UNION ALL
		SELECT 'private', c.id, c.name, c.status, ST_Distance(c.geom::geography, me.geom::geography), c.heading,
			ST_X(c.geom), ST_Y(c.geom), c.fov, c.range_m
		FROM modules.private_cameras c, me
		WHERE c.id <> $1 AND c.status NOT IN ('withdrawn', 'rejected')
		  AND ST_DWithin(c.geom::geography, me.geom::geography, $2)
		  AND least(abs(c.heading - me.heading), 360 - abs(c.heading - me.heading)) <= $3
		ORDER BY 5`, id, DuplicateMetres, DuplicateDegrees)
	if err != nil {
		return nil, fmt.Errorf("duplicates of camera %d: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Nearby, error) {
		var n Nearby
		err := r.Scan(&n.Kind, &n.ID, &n.Name, &n.Status, &n.Distance, &n.Heading, &n.Lon, &n.Lat, &n.FOV, &n.Range)
		n.Distance = round(n.Distance, 1)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("duplicates of camera %d: %w", id, err)
	}
	if out == nil {
		out = []Nearby{}
	}
	return out, nil
}

// Staff decisions on a registration.
const (
	DecisionApprove = "approve"
	DecisionChanges = "changes" // ask the owner for changes
	DecisionReject  = "reject"
)

// DecideCamera records a safe-city staff decision: approve, ask for changes or reject (the
// last two with a reason). A withdrawn registration takes no decision. The owner is notified
// through the outbox and the decision audited as private_camera.<decision>, all in one
// transaction.
func (s *Store) DecideCamera(ctx context.Context, staffID, id int64, decision, reason string) (PrivateCamera, error) {
	reason = strings.TrimSpace(reason)
	status := map[string]string{DecisionApprove: CameraApproved, DecisionChanges: CameraChangesRequested, DecisionReject: CameraRejected}[decision]
	switch {
	case status == "":
		return PrivateCamera{}, fieldError("decision", "decision must be approve, changes or reject, got %q", decision)
	case decision != DecisionApprove && reason == "":
		return PrivateCamera{}, fieldError("reason", "a reason is required to %s", map[string]string{DecisionChanges: "ask for changes", DecisionReject: "reject"}[decision])
	case len([]rune(reason)) > 2000:
		return PrivateCamera{}, fieldError("reason", "the reason is longer than 2000 characters")
	}
	var out PrivateCamera
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := cameraTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if before.Status == CameraWithdrawn {
			return geoportal.Errorf(geoportal.ECONFLICT, "status: camera %d was withdrawn by its owner; it can no longer be decided on", id)
		}
		if before.Status == status {
			return geoportal.Errorf(geoportal.ECONFLICT, "status: camera %d is already %s", id, status)
		}
		if _, err := tx.Exec(ctx, `UPDATE modules.private_cameras SET status = $2, reason = $3, decided_by = nullif($4, 0),
				decided_at = now(), updated_at = now() WHERE id = $1`, id, status, reason, staffID); err != nil {
			return fmt.Errorf("decide camera %d: %w", id, err)
		}
		if out, err = cameraTx(ctx, tx, id, false); err != nil {
			return err
		}
		if err := notifyOwner(ctx, tx, out); err != nil {
			return err
		}
		return accounts.Audit(ctx, tx, accounts.Entry{Action: "private_camera." + decision, ObjectType: "private_camera",
			ObjectID: fmt.Sprint(id), Before: auditCamera(before), After: auditCamera(out), Detail: reason})
	})
	return out, err
}

// notifyOwner queues an e-mail to the owner's account about a decision (the reports outbox).
func notifyOwner(ctx context.Context, tx pgx.Tx, c PrivateCamera) error {
	var subject, body string
	switch c.Status {
	case CameraApproved:
		subject = fmt.Sprintf("Камера «%s» қосылды / Камера «%s» подключена / Camera %q approved", c.Name, c.Name, c.Name)
		body = fmt.Sprintf("Сіздің №%d камераңыз «Қауіпсіз қала» жүйесіне қосылды.\nВаша камера №%d подключена к системе «Безопасный город».\nYour camera #%d has joined the Safe City system.\n", c.ID, c.ID, c.ID)
	case CameraChangesRequested:
		subject = fmt.Sprintf("Камера «%s»: түзету қажет / нужны изменения / changes needed", c.Name)
		body = fmt.Sprintf("№%d камера / Камера №%d / Camera #%d:\n%s\n", c.ID, c.ID, c.ID, c.Reason)
	case CameraRejected:
		subject = fmt.Sprintf("Камера «%s»: қабылданбады / отклонена / rejected", c.Name)
		body = fmt.Sprintf("№%d камера / Камера №%d / Camera #%d:\n%s\n", c.ID, c.ID, c.ID, c.Reason)
	default:
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO reports.outbox (private_camera_id, channel, to_addr, subject, body)
		VALUES ($1, 'email', $2, $3, $4)`, c.ID, c.Owner, subject, body); err != nil {
		return fmt.Errorf("notify owner of camera %d: %w", c.ID, err)
	}
	return nil
}

// IncidentCamera is a camera whose view sector covers an incident's place.
type IncidentCamera struct {
	Kind          string  `json:"kind"` // city or private
	ID            int64   `json:"id"`
	Name          string  `json:"name"`
	Lon           float64 `json:"lon"`
	Lat           float64 `json:"lat"`
	Distance      float64 `json:"distance_m"`
	Heading       float64 `json:"heading"`
	FOV           float64 `json:"fov"`
	Range         float64 `json:"range_m"`
	RetentionDays int     `json:"retention_days"`
	// RetentionReaches is false when the footage of the window's start is already erased.
	RetentionReaches bool   `json:"retention_reaches"`
	Owner            string `json:"owner"`   // the city, or the owner's account e-mail
	Contact          string `json:"contact"` // whom to ask for the footage
}

// Incident is the answer of IncidentLookup.
type Incident struct {
	Lon     float64          `json:"lon"`
	Lat     float64          `json:"lat"`
	From    time.Time        `json:"from"`
	To      time.Time        `json:"to"`
	Cameras []IncidentCamera `json:"cameras"`
}

// IncidentLookup finds the cameras whose view sector covers (lon, lat): the installed city
// cameras and the approved private cameras (their owners agreed the police may ask for
// footage), nearest first, with the contacts to ask. A camera whose retention does not reach
// back to from is marked (RetentionReaches false). now is the clock (time.Now in service).
func (s *Store) IncidentLookup(ctx context.Context, lon, lat float64, from, to, now time.Time) (Incident, error) {
	out := Incident{Lon: lon, Lat: lat, From: from, To: to, Cameras: []IncidentCamera{}}
	switch {
	case bad(lon) || bad(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90:
		return out, fieldError("position", "lon %g, lat %g is not a place on the Earth", lon, lat)
	case from.IsZero():
		return out, fieldError("from", "the start of the time window is required (RFC 3339)")
	case to.IsZero():
		return out, fieldError("to", "the end of the time window is required (RFC 3339)")
	case to.Before(from):
		return out, fieldError("to", "the end of the window %s is before its start %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	case from.After(now):
		return out, fieldError("from", "the window starts in the future (%s)", from.Format(time.RFC3339))
	}
	// A camera sees the place when it is within range and the bearing from the camera to the
	// place is within half the field of view of the heading (a 360° camera: any bearing).
	rows, err := s.pool.Query(ctx, `WITH p AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326) AS g),
		cams AS (
			SELECT 'city' AS kind, k.id, coalesce(k.name, '') AS name, k.geom, coalesce(k.heading, 0) AS heading,
				coalesce(nullif(k.fov, 0), 360) AS fov, k.range_m, $3::int AS retention, 'city' AS owner,
				'Safe City operations centre' AS contact
			FROM layer.cameras k WHERE k.status = 'installed' AND k.range_m > 0
			UNION ALL
			SELECT 'private', c.id, c.name, c.geom, c.heading, c.fov, c.range_m, c.retention_days, u.email, c.contact
			FROM modules.private_cameras c JOIN auth.users u ON u.id = c.account_id
			WHERE c.status = 'approved' AND c.consent_police)
		SELECT kind, id, name, ST_X(geom), ST_Y(geom), d, heading, fov, range_m, retention,
			$5::timestamptz - make_interval(days => retention) <= $4::timestamptz, owner, contact
		FROM (SELECT cams.*, ST_Distance(cams.geom::geography, p.g::geography) AS d,
				degrees(ST_Azimuth(cams.geom::geography, p.g::geography)) AS bearing
			FROM cams, p WHERE ST_DWithin(cams.geom::geography, p.g::geography, cams.range_m)) x
		WHERE fov >= 360 OR d < 0.01
		   OR least(abs(bearing - heading), 360 - abs(bearing - heading)) <= fov / 2
		ORDER BY d, kind, id`, lon, lat, CityRetentionDays, from, now)
	if err != nil {
		return out, fmt.Errorf("incident lookup: %w", err)
	}
	cams, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (IncidentCamera, error) {
		var c IncidentCamera
		err := r.Scan(&c.Kind, &c.ID, &c.Name, &c.Lon, &c.Lat, &c.Distance, &c.Heading, &c.FOV, &c.Range,
			&c.RetentionDays, &c.RetentionReaches, &c.Owner, &c.Contact)
		c.Distance = round(c.Distance, 1)
		return c, err
	})
	if err != nil {
		return out, fmt.Errorf("incident lookup: %w", err)
	}
	if cams != nil {
		out.Cameras = cams
	}
	return out, nil
}
