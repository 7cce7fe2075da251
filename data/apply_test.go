package data_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/data/dbtest"
)

// A migration that fails leaves no trace, neither its changes nor its record, and the ones
// before it stay applied.
func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	ms := []data.Migration{
		{Version: 9001, Name: "9001_ok.sql", SQL: `CREATE TABLE public.first_ok (id int);`},
		{Version: 9002, Name: "9002_bad.sql", SQL: `CREATE TABLE public.half_done (id int); SELECT 1/0;`},
	}
	n, err := data.Apply(ctx, pool, ms)
	if err == nil || !strings.Contains(err.Error(), "9002_bad.sql") {
		t.Fatalf("apply = %d, %v; want an error naming 9002_bad.sql", n, err)
	}
	if n != 1 {
		t.Fatalf("applied %d before the failure, want 1", n)
	}
	var half, first bool
	pool.QueryRow(ctx, `SELECT to_regclass('public.half_done') IS NOT NULL, to_regclass('public.first_ok') IS NOT NULL`).Scan(&half, &first)
	if half || !first {
		t.Fatalf("half_done exists=%v (want false), first_ok exists=%v (want true)", half, first)
	}
	var recorded []int
	rows, _ := pool.Query(ctx, `SELECT version FROM public.schema_migrations WHERE version > 9000 ORDER BY 1`)
	for rows.Next() {
		var v int
		rows.Scan(&v)
		recorded = append(recorded, v)
	}
	if len(recorded) != 1 || recorded[0] != 9001 {
		t.Fatalf("recorded %v, want [9001]", recorded)
	}
}
