package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/web"
	"github.com/jackc/pgx/v5/pgxpool"
)

// limitFlags are the serve flags that bound what one client can hold: connection timeouts, and
// the pool, time budget and count budget of the reads anyone may ask for.
type limitFlags struct {
	readHeader, read, write, idle        time.Duration
	uploadKiBps                          int64
	publicConns                          int
	publicReadTimeout, publicCountBudget time.Duration
}

func registerLimitFlags(fs *flag.FlagSet, getenv func(string) string) *limitFlags {
	f := &limitFlags{}
	def := web.DefaultHTTPTimeouts()
	dur := func(p *time.Duration, name, env string, d time.Duration, usage string) {
		v, err := time.ParseDuration(envOr(getenv, env, d.String()))
		if err != nil {
			v = -1 // refused by apply, naming the variable
		}
		fs.DurationVar(p, name, v, usage+" (env "+env+")")
	}
	dur(&f.readHeader, "read-header-timeout", "GEOPORTAL_READ_HEADER_TIMEOUT", def.ReadHeader, "time a client has to send a request's headers")
	dur(&f.read, "read-timeout", "GEOPORTAL_READ_TIMEOUT", def.Read, "time a client has to send a whole request; upload routes get more, see -min-upload-rate")
	dur(&f.write, "write-timeout", "GEOPORTAL_WRITE_TIMEOUT", def.Write, "time to send an answer (the live vehicle stream is exempt; exports extend it while the client reads)")
	dur(&f.idle, "idle-timeout", "GEOPORTAL_IDLE_TIMEOUT", def.Idle, "how long a kept-alive connection waits for its next request")
	kib, err := strconv.ParseInt(envOr(getenv, "GEOPORTAL_MIN_UPLOAD_RATE", strconv.FormatInt(def.UploadRate>>10, 10)), 10, 64)
	if err != nil {
		kib = -1
	}
	fs.Int64Var(&f.uploadKiBps, "min-upload-rate", kib, "slowest upload (KiB/s) that imports and photo uploads are given time for (env GEOPORTAL_MIN_UPLOAD_RATE)")
	conns, err := strconv.Atoi(envOr(getenv, "GEOPORTAL_PUBLIC_READ_CONNS", "8"))
	if err != nil {
		conns = -1
	}
	fs.IntVar(&f.publicConns, "public-read-conns", conns, "connections of the pool for reads anyone may ask for (OGC API items, search, nearest); the main pool keeps its own for sign-in, sessions and writes (env GEOPORTAL_PUBLIC_READ_CONNS)")
	dur(&f.publicReadTimeout, "public-read-timeout", "GEOPORTAL_PUBLIC_READ_TIMEOUT", 10*time.Second, "statement_timeout of those reads: past it the request is answered 503 (0: none)")
	dur(&f.publicCountBudget, "count-budget", "GEOPORTAL_COUNT_BUDGET", time.Second, "time an exact numberMatched count may take before the planner's estimate is given (0: no bound)")
	return f
}

// apply checks the flags, opens the public read pool over base (which the caller closes) and
// gives it to the layer store with the count budget; it returns the HTTP timeouts.
func (f *limitFlags) apply(ctx context.Context, ls *layers.Store, base *pgxpool.Config) (web.HTTPTimeouts, *pgxpool.Pool, error) {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"-read-header-timeout", f.readHeader}, {"-read-timeout", f.read}, {"-write-timeout", f.write}, {"-idle-timeout", f.idle},
		{"-public-read-timeout", f.publicReadTimeout}, {"-count-budget", f.publicCountBudget}} {
		if d.v < 0 {
			return web.HTTPTimeouts{}, nil, fmt.Errorf("%s (or its GEOPORTAL_ variable): want a duration such as 30s or 2m, 0 for none", d.name)
		}
	}
	if f.uploadKiBps < 0 {
		return web.HTTPTimeouts{}, nil, fmt.Errorf("-min-upload-rate (or GEOPORTAL_MIN_UPLOAD_RATE): want KiB per second, 0 for no extra time")
	}
	if f.publicConns < 1 || f.publicConns > 1000 {
		return web.HTTPTimeouts{}, nil, fmt.Errorf("-public-read-conns (or GEOPORTAL_PUBLIC_READ_CONNS) %d: want 1 to 1000 connections", f.publicConns)
	}
	timeouts := web.HTTPTimeouts{ReadHeader: f.readHeader, Read: f.read, Write: f.write, Idle: f.idle,
		UploadRate: f.uploadKiBps << 10}
	pool, err := pgxpool.NewWithConfig(ctx, data.PublicReadConfig(base, int32(f.publicConns), f.publicReadTimeout))
	if err != nil {
		return web.HTTPTimeouts{}, nil, fmt.Errorf("public read pool: %w", err)
	}
	ls.SetReadPool(pool)
	ls.SetCountBudget(f.publicCountBudget)
	return timeouts, pool, nil
}
