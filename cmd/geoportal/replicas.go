package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/data/replica"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/analysis"
	"github.com/aktobe/geoportal/tiles"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// replicaFlags name the PostgreSQL streaming replicas that tiles, feature and search reads and the
// analyses may use (docs/scaling.md).
type replicaFlags struct {
	urls   string
	maxLag time.Duration
}

func registerReplicaFlags(fs *flag.FlagSet, getenv func(string) string) *replicaFlags {
	f := &replicaFlags{}
	fs.StringVar(&f.urls, "replica-url", getenv("GEOPORTAL_REPLICA_URL"), "read replicas (PostgreSQL streaming standbys of DATABASE_URL), comma-separated URLs: tiles, OGC API, search and layer catalog reads and the analyses read from one that has replayed every change this node heard of, else from the primary; writes, sessions and notifications stay on the primary (env GEOPORTAL_REPLICA_URL; empty: none)")
	lag, err := time.ParseDuration(envOr(getenv, "GEOPORTAL_REPLICA_MAX_LAG", "5s"))
	if err != nil {
		lag = -1
	}
	fs.DurationVar(&f.maxLag, "replica-max-lag", lag, "a replica further behind the primary than this is taken out of rotation until it catches up (env GEOPORTAL_REPLICA_MAX_LAG)")
	return f
}

// open makes the replica set (with no replica, every read stays on the primary) and, when there
// are replicas, the read pools of each use over it.
func (f *replicaFlags) open(ctx context.Context, primary *pgxpool.Pool, logger *slog.Logger, reg prometheus.Registerer,
	ls *layers.Store, publicRead *pgxpool.Pool, lim *limitFlags, as *analysis.Store, tileOpts *tiles.Options, tilePool *pgxpool.Pool) (*replica.Set, func(), error) {
	if f.maxLag <= 0 {
		return nil, nil, fmt.Errorf("-replica-max-lag (or GEOPORTAL_REPLICA_MAX_LAG): want a positive duration such as 5s")
	}
	var urls []string
	for _, u := range strings.Split(f.urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, u)
		}
	}
	set, err := replica.New(primary, urls, logger, reg, replica.Options{MaxLag: f.maxLag})
	if err != nil {
		return nil, nil, err
	}
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
		set.Close()
	}
	if set.Replicas() == 0 {
		return set, closeAll, nil
	}
	pub, err := set.Reads(ctx, "public", publicRead, func(c *pgxpool.Config) *pgxpool.Config {
		return data.PublicReadConfig(c, int32(lim.publicConns), lim.publicReadTimeout)
	})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, pub.Close)
	ls.SetReads(pub, set)
	tr, err := set.Reads(ctx, "tiles", tilePool, func(c *pgxpool.Config) *pgxpool.Config { return tiles.PoolConfig(c, 0) })
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, tr.Close)
	tileOpts.Reads = tr
	ar, err := set.Reads(ctx, "analysis", primary, func(c *pgxpool.Config) *pgxpool.Config { return c })
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, ar.Close)
	as.SetReads(ar)
	cr, err := set.Reads(ctx, "catalog", primary, func(c *pgxpool.Config) *pgxpool.Config { return c })
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, cr.Close)
	ls.SetCatalogReads(cr)
	logger.Info("read replicas configured", "replicas", set.Replicas(), "max_lag", f.maxLag.String())
	return set, closeAll, nil
}
