package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
)

func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs, getenv)
	return fs.Parse(args)
}

func loadDemoIfEmpty(ctx context.Context, db *database, logger *slog.Logger) error { return nil }
