package main

import (
	"context"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/web"
)

func TestLimitFlags(t *testing.T) {
	pool := dbtest.New(t)
	parse := func(env map[string]string, args ...string) (*limitFlags, error) {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f := registerLimitFlags(fs, func(k string) string { return env[k] })
		return f, fs.Parse(args)
	}
	t.Run("defaults and env", func(t *testing.T) {
		f, err := parse(map[string]string{"GEOPORTAL_WRITE_TIMEOUT": "5m", "GEOPORTAL_PUBLIC_READ_CONNS": "3"}, "-read-timeout", "30s")
		if err != nil {
			t.Fatal(err)
		}
		timeouts, rp, err := f.apply(context.Background(), layers.NewStore(pool), pool.Config())
		if err != nil {
			t.Fatal(err)
		}
		defer rp.Close()
		want := web.HTTPTimeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 5 * time.Minute,
			Idle: 2 * time.Minute, UploadRate: 64 << 10}
		if timeouts != want || rp.Config().MaxConns != 3 {
			t.Errorf("timeouts %+v, read pool %d connections", timeouts, rp.Config().MaxConns)
		}
		var timeout string
		if err := rp.QueryRow(context.Background(), "SHOW statement_timeout").Scan(&timeout); err != nil || timeout != "10s" {
			t.Errorf("public read pool statement_timeout %q (%v), want 10s", timeout, err)
		}
	})
	for _, tc := range []struct {
		env  map[string]string
		args []string
		says string
	}{
		{map[string]string{"GEOPORTAL_READ_TIMEOUT": "soon"}, nil, "-read-timeout"},
		{nil, []string{"-public-read-conns", "0"}, "-public-read-conns"},
		{map[string]string{"GEOPORTAL_PUBLIC_READ_CONNS": "many"}, nil, "-public-read-conns"},
		{map[string]string{"GEOPORTAL_MIN_UPLOAD_RATE": "-1"}, nil, "-min-upload-rate"},
		{map[string]string{"GEOPORTAL_COUNT_BUDGET": "1 s"}, nil, "-count-budget"},
	} {
		t.Run(tc.says, func(t *testing.T) {
			f, err := parse(tc.env, tc.args...)
			if err == nil {
				_, _, err = f.apply(context.Background(), layers.NewStore(pool), pool.Config())
			}
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%v %v: %v, want an error naming %s", tc.env, tc.args, err, tc.says)
			}
		})
	}
}
