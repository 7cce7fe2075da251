package modules_test

import (
	"context"
	"testing"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/modules"
)

// What the map asks of the contest: the seasons, latest first, and one resident's vote and
// nominations in a season.
func TestYardSeasonsAndParticipation(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	m := modules.NewStore(pool, nil, nil)
	acc := accounts.NewStore(pool)
	var users []int64
	for _, email := range []string{"a@example.kz", "b@example.kz"} {
		u, err := acc.CreateUser(ctx, accounts.NewUser{Email: email, Role: accounts.Citizen, Password: "a long enough password 3"})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u.ID)
	}
	if s, err := m.Seasons(ctx); err != nil || len(s) != 0 {
		t.Fatalf("no seasons = %+v, %v", s, err)
	}
	if _, err := m.Participation(ctx, users[0], 2026); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("participation in no season: %v", err)
	}
	for _, y := range []int{2025, 2026} {
		if _, err := m.OpenSeason(ctx, y); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.CloseSeason(ctx, 2025, 3); err != nil {
		t.Fatal(err)
	}
	p, err := m.Participation(ctx, users[0], 2026)
	if err != nil || p.VotedFor != nil || len(p.Nominations) != 0 || p.NominationsLeft != modules.MaxNominationsPerAccount {
		t.Fatalf("before = %+v, %v", p, err)
	}
	var noms []int64
	for _, title := range []string{"Двор 1", "Двор 2"} {
		n, err := m.Nominate(ctx, users[0], modules.NewNomination{Title: title, Geometry: geojson(`{"type":"Point","coordinates":[57.17,50.28]}`)})
		if err != nil {
			t.Fatal(err)
		}
		noms = append(noms, n.ID)
	}
	if err := m.Vote(ctx, users[1], noms[1]); err != nil {
		t.Fatal(err)
	}
	p, err = m.Participation(ctx, users[0], 2026)
	if err != nil || p.VotedFor != nil || len(p.Nominations) != 2 || p.Nominations[0] != noms[0] || p.NominationsLeft != 1 {
		t.Errorf("nominator = %+v, %v", p, err)
	}
	p, err = m.Participation(ctx, users[1], 2026)
	if err != nil || p.VotedFor == nil || *p.VotedFor != noms[1] || len(p.Nominations) != 0 {
		t.Errorf("voter = %+v, %v", p, err)
	}
	// Another season's vote does not count in this one.
	if p, err := m.Participation(ctx, users[1], 2025); err != nil || p.VotedFor != nil {
		t.Errorf("voter in 2025 = %+v, %v", p, err)
	}
	// Closing publishes the yards with votes only: "Двор 1" has none, so one winner of three.
	closed, err := m.CloseSeason(ctx, 2026, 3)
	if err != nil || len(closed.Winners) != 1 || closed.Winners[0] != noms[1] {
		t.Errorf("winners = %+v, %v; want only %d", closed, err, noms[1])
	}
	s, err := m.Seasons(ctx)
	if err != nil || len(s) != 2 || s[0].Season != 2026 || s[0].Status != "closed" || s[1].Season != 2025 || s[1].Status != "closed" || s[1].ClosedAt == nil {
		t.Errorf("seasons = %+v, %v", s, err)
	}
}
