package layers_test

import (
	"context"
	"testing"
	"time"

	"github.com/aktobe/geoportal/layers"
)

// TestSearchIndexerRefreshesInBackground renames a feature while the background indexer runs: the
// rename reaches the index without any search asking for it, and while the rebuild is held up
// the search answers at once from the index as it was instead of rebuilding it itself. The
// waits are bounds, not measurements: a working indexer is done long before them.
func TestSearchIndexerRefreshesInBackground(t *testing.T) {
	pool := searchFixture(t)
	store := layers.NewStore(pool)
	ctx := context.Background()
	ix := store.SearchIndexer(nil)
	ix.Debounce = 20 * time.Millisecond
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); ix.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	select {
	case <-ix.Ready():
	case <-time.After(time.Minute):
		t.Fatal("the indexer did not become ready within a minute")
	}
	// The first refresh was the indexer's: the index is built before any search.
	if n := count(t, pool, `SELECT count(*) FROM geoportal.search_index WHERE layer = 'clinics'`); n != 3 {
		t.Fatalf("clinics in the index before any search: %d, want 3", n)
	}
	oldName := layers.SearchQuery{Q: "Поликлиника №3", Lang: "ru", Limit: 10}
	newName := layers.SearchQuery{Q: "Көкжиекбұлақ", Lang: "kk", Limit: 10}
	if h := first(find(t, store, oldName)); h.Layer != "clinics" || h.ID != 2 {
		t.Fatalf("before the rename: first %+v", h)
	}

	// Hold the rebuild of the clinics' rows (the lock indexLayer takes), then rename.
	hold, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx)
	if _, err := hold.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('geoportal.search_index'), hashtext('clinics'))`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE layer.clinics SET name = 'Көкжиекбұлақ' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	// A search now reads the previous index; one that tried to rebuild would wait for the lock
	// until its context ends.
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	p, err := store.Find(sctx, oldName)
	cancel()
	if err != nil {
		t.Fatalf("search while the rebuild waits: %v (did it try to rebuild?)", err)
	}
	if h := first(p); h.Layer != "clinics" || h.ID != 2 {
		t.Fatalf("while the rebuild waits, the previous index should answer: first %+v", h)
	}
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	// No search from here until the new name is in the index table.
	deadline := time.Now().Add(time.Minute)
	for count(t, pool, `SELECT count(*) FROM geoportal.search_index WHERE layer = 'clinics' AND feature_id = 2 AND name = 'Көкжиекбұлақ'`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the renamed clinic did not reach the index within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if h := first(find(t, store, newName)); h.Layer != "clinics" || h.ID != 2 {
		t.Errorf("after the refresh: first %+v, want clinics/2 by its new name", h)
	}
	if p := find(t, store, oldName); has(p, "clinics", "Поликлиника №3") {
		t.Errorf("the old name is still found: %v", names(p))
	}
}
