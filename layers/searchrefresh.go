package layers

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SearchIndexerName is the application_name of the search indexer's listening connection (seen
// in pg_stat_activity).
const SearchIndexerName = "geoportal search indexer"

// DefaultSearchDebounce is how long the search indexer waits after a change for the next one
// before it refreshes: an import or an editing session announces many changes in a row, and
// one refresh after them does the work of all.
const DefaultSearchDebounce = 300 * time.Millisecond

// maxSearchDelay bounds the wait of a change that is followed by more and more others: the
// refresh starts this long after the first of them at the latest.
const maxSearchDelay = 3 * time.Second

// SearchIndexer keeps geoportal.search_index current in the background. It listens to the
// layer_changed and layer_catalog_changed notifications on a connection of its own and, a moment
// after a change (Debounce), rebuilds the changed layers' rows (RefreshSearchIndex): the
// searches keep answering from the rows as they were until the rebuild commits, and no search
// waits for it. While it is not listening (before its first refresh, after the connection
// broke), Find checks the index and rebuilds a stale layer itself, as without an indexer.
type SearchIndexer struct {
	store *Store
	log   *slog.Logger
	// Debounce is the quiet time after a change before the refresh (DefaultSearchDebounce).
	// Set it before Run.
	Debounce time.Duration

	kick chan struct{} // a change was heard (buffered: one pending kick is enough)

	mu       sync.Mutex
	live     bool          // listening, and the index was refreshed since the connection opened
	ready    chan struct{} // closed while live
	refreshN int64         // refreshes done, for Refreshed
	done     chan struct{} // closed and replaced after each refresh
}

// SearchIndexer returns the store's background indexer, made on the first call; Find leaves the
// index to it while it runs (Run). logger may be nil.
func (s *Store) SearchIndexer(logger *slog.Logger) *SearchIndexer {
	s.indexerMu.Lock()
	defer s.indexerMu.Unlock()
	if s.indexer == nil {
		if logger == nil {
			logger = slog.New(slog.DiscardHandler)
		}
		s.indexer = &SearchIndexer{store: s, log: logger, Debounce: DefaultSearchDebounce,
			kick: make(chan struct{}, 1), ready: make(chan struct{}), done: make(chan struct{})}
	}
	return s.indexer
}

// searchIndexLive reports whether a background indexer is listening and keeps the index
// current, so that Find need not look at it.
func (s *Store) searchIndexLive() bool {
	s.indexerMu.Lock()
	ix := s.indexer
	s.indexerMu.Unlock()
	if ix == nil {
		return false
	}
	return ix.isLive()
}

// Ready returns a channel that is closed once the indexer listens and has brought the index up
// to date.
func (ix *SearchIndexer) Ready() <-chan struct{} {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.ready
}

// Refreshed returns how many refreshes the indexer has finished and a channel closed when the
// next one finishes.
func (ix *SearchIndexer) Refreshed() (int64, <-chan struct{}) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.refreshN, ix.done
}

// Run listens and refreshes until ctx ends (call it once), reconnecting with back-off (250 ms
// doubling to 10 s) when the connection or the database goes away.
func (ix *SearchIndexer) Run(ctx context.Context) {
	work, stopWork := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); ix.refresher(work) }()
	defer func() { stopWork(); wg.Wait() }()
	l := data.Listener{
		Config: ix.store.pool.Config().ConnConfig, Name: SearchIndexerName,
		Channels: []string{"layer_changed", "layer_catalog_changed"},
		// Anything committed from now on is heard; what was committed before, the first refresh
		// (at once, without the debounce) takes in. Until it is done searches check for themselves.
		Connected: func(ctx context.Context, _ *pgx.Conn) error {
			if err := ix.store.RefreshSearchIndex(ctx); err != nil {
				return err
			}
			ix.finished()
			ix.setLive(true)
			ix.log.Info("search: index current, listening for layer changes")
			return nil
		},
		// Every change may matter (a feature renamed, a layer made or dropped): the refresh
		// compares the layers' versions and rebuilds only those that changed.
		Notify:       func(context.Context, *pgx.Conn, *pgconn.Notification) error { ix.nudge(); return nil },
		Disconnected: func() { ix.setLive(false) },
		Logger:       ix.log,
		Lost:         "search: change listener disconnected, searches check the index themselves",
	}
	l.Run(ctx)
}

// setLive records whether the indexer keeps the index current.
func (ix *SearchIndexer) setLive(live bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	switch {
	case live && !ix.live:
		close(ix.ready)
	case !live && ix.live:
		ix.ready = make(chan struct{})
	}
	ix.live = live
}

func (ix *SearchIndexer) isLive() bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.live
}

// nudge asks for a refresh; a refresh already asked for covers this one too.
func (ix *SearchIndexer) nudge() {
	select {
	case ix.kick <- struct{}{}:
	default:
	}
}

// refresher runs the refreshes the listener asks for, each after the changes pause for the
// debounce (at most maxSearchDelay after the first), until ctx ends. A failed refresh is tried
// again while the listener is connected, after 1 s doubling to 30 s; once it is not, the first
// refresh of the next connection takes the changes in.
func (ix *SearchIndexer) refresher(ctx context.Context) {
	retry := time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-ix.kick:
		}
		deadline := time.Now().Add(maxSearchDelay)
		quiet := time.NewTimer(ix.Debounce)
	wait:
		for {
			select {
			case <-ctx.Done():
				quiet.Stop()
				return
			case <-ix.kick:
				quiet.Reset(min(ix.Debounce, time.Until(deadline)))
			case <-quiet.C:
				break wait
			}
		}
		if err := ix.store.RefreshSearchIndex(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			if !ix.isLive() {
				continue // the listener reconnects and refreshes
			}
			ix.log.Warn("search: index refresh failed; retrying", "retry_in", retry.String(), "error", err)
			time.AfterFunc(retry, ix.nudge)
			retry = min(retry*2, 30*time.Second)
			continue
		}
		retry = time.Second
		ix.finished()
	}
}

// finished counts a refresh done and wakes those waiting for one.
func (ix *SearchIndexer) finished() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.refreshN++
	close(ix.done)
	ix.done = make(chan struct{})
}
