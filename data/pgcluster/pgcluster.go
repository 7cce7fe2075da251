// Package pgcluster runs the project-local PostgreSQL 15 + PostGIS cluster under .data/ that the
// geoportal uses when DATABASE_URL is not set: initdb on first use, start on a free loopback port,
// reuse when another process already started it, stop when the last user leaves.
//
// PostgreSQL refuses to run as root, so when the caller is root the cluster's files belong to,
// and its server runs as, Debian's "postgres" system user.
package pgcluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPort is tried first when the cluster starts; a busy port makes it pick a free one.
const DefaultPort = 55432

// Database and role the cluster is created with.
const (
	Role     = "geoportal"
	Database = "geoportal"
)

// Cluster is a PostgreSQL cluster in Dir (usually the repository's .data folder).
type Cluster struct {
	Dir    string
	Logger *slog.Logger
	// Standby, when set, is the URL of a primary this cluster is a streaming replica of: the
	// first Start copies it with pg_basebackup (-R: standby.signal and primary_conninfo) instead of
	// running initdb. Used by scripts/cluster.sh and the replica tests.
	Standby string

	bin   string
	runAs *user.User
	lock  *os.File // shared "user" lock held while this process uses the cluster

	pgdataDir string // set by resolve when the server's files cannot live in Dir
}

// New returns the cluster kept in dir. Nothing is touched until Start.
func New(dir string, logger *slog.Logger) *Cluster {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Cluster{Dir: dir, Logger: logger}
}

func (c *Cluster) pgdata() string {
	if c.pgdataDir != "" {
		return c.pgdataDir
	}
	return filepath.Join(c.Dir, "pgdata")
}

// resolve decides who runs the server and where its files live. When the caller is root and the
// server's user cannot enter Dir (a clone under /root, say), the server's files go to a folder
// under /var/tmp named after Dir; the password and locks stay in Dir.
func (c *Cluster) resolve() error {
	abs, err := filepath.Abs(c.Dir)
	if err != nil {
		return err
	}
	c.Dir = abs
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return errors.New("pgcluster: running as root needs the unprivileged \"postgres\" user that Debian's postgresql package creates (apt-get install postgresql-15)")
	}
	c.runAs = u
	if err := c.command(context.Background(), "/bin/sh", "-c", `cd "$1"`, "sh", c.Dir).Run(); err != nil {
		sum := sha256.Sum256([]byte(c.Dir))
		parent := filepath.Join(os.TempDir(), "geoportal-pgdata-"+hex.EncodeToString(sum[:6]))
		if os.Getenv("TMPDIR") == "" {
			parent = filepath.Join("/var/tmp", "geoportal-pgdata-"+hex.EncodeToString(sum[:6]))
		}
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		os.Chmod(parent, 0o755)
		c.pgdataDir = filepath.Join(parent, "pgdata")
		c.Logger.Info("data folder not reachable by the postgres user; keeping the server's files elsewhere",
			"dir", c.Dir, "pgdata", c.pgdataDir)
	}
	return nil
}

// BinDir finds PostgreSQL 15's server programs.
func BinDir() (string, error) {
	for _, d := range []string{"/usr/lib/postgresql/15/bin"} {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("pgcluster: PostgreSQL 15 server programs not found (apt-get install postgresql-15 postgresql-15-postgis-3, or run make deps)")
}

// checkPostGIS fails clearly when the PostGIS extension files are missing.
func checkPostGIS(bin string) error {
	share := filepath.Join(filepath.Dir(filepath.Dir(bin)), "..", "..", "share", "postgresql", "15", "extension")
	if out, err := exec.Command(filepath.Join(bin, "pg_config"), "--sharedir").Output(); err == nil {
		share = filepath.Join(strings.TrimSpace(string(out)), "extension")
	} else if _, err := os.Stat("/usr/share/postgresql/15/extension"); err == nil {
		share = "/usr/share/postgresql/15/extension"
	}
	matches, _ := filepath.Glob(filepath.Join(share, "postgis.control"))
	if len(matches) == 0 {
		return fmt.Errorf("pgcluster: PostGIS is not installed for PostgreSQL 15 (no postgis.control in %s): apt-get install postgresql-15-postgis-3, or run make deps", share)
	}
	return nil
}

// Start makes sure the cluster exists and runs, and returns a connection URL for the geoportal
// database. It holds a shared lock until Close (or the process's exit) so that the last user can
// stop the server.
func (c *Cluster) Start(ctx context.Context) (string, error) {
	bin, err := BinDir()
	if err != nil {
		return "", err
	}
	if err := checkPostGIS(bin); err != nil {
		return "", err
	}
	c.bin = bin
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return "", fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.resolve(); err != nil {
		return "", err
	}

	// The exclusive lock serialises set-up between processes sharing Dir.
	setup, err := lockFile(filepath.Join(c.Dir, "setup.lock"), syscall.LOCK_EX)
	if err != nil {
		return "", err
	}
	defer setup.Close()

	if _, err := os.Stat(filepath.Join(c.pgdata(), "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		init := c.initdb
		if c.Standby != "" {
			init = c.basebackup
		}
		if err := init(ctx); err != nil {
			return "", err
		}
	}
	password, err := os.ReadFile(filepath.Join(c.Dir, "password"))
	if err != nil {
		return "", fmt.Errorf("pgcluster: read password: %w", err)
	}

	port, running := c.runningPort()
	if !running {
		if port, err = c.startServer(ctx); err != nil {
			return "", err
		}
	} else {
		c.Logger.Info("reusing running local PostgreSQL", "dir", c.pgdata(), "port", port)
	}
	u := &url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(Role, strings.TrimSpace(string(password))),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path:     "/" + Database,
		RawQuery: "sslmode=disable",
	}
	if err := ensureDatabase(ctx, u); err != nil {
		return "", err
	}
	if c.lock, err = lockFile(filepath.Join(c.Dir, "users.lock"), syscall.LOCK_SH); err != nil {
		return "", err
	}
	return u.String(), nil
}

// Close releases this process's use of the cluster and stops the server when nobody else uses it
// now, unless `geoportal db start` asked for it to keep running.
func (c *Cluster) Close() error {
	if c.lock == nil {
		return nil
	}
	defer func() { c.lock.Close(); c.lock = nil }()
	if _, err := os.Stat(filepath.Join(c.Dir, "keep-running")); err == nil {
		return nil
	}
	if err := syscall.Flock(int(c.lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		c.Logger.Info("local PostgreSQL left running for its other users")
		return nil
	}
	return c.Stop()
}

// KeepRunning marks the cluster to be left running by Close (until Stop).
func (c *Cluster) KeepRunning() error {
	return os.WriteFile(filepath.Join(c.Dir, "keep-running"), nil, 0o644)
}

// Stop stops the server (fast shutdown) if it runs.
func (c *Cluster) Stop() error {
	if c.bin == "" {
		bin, err := BinDir()
		if err != nil {
			return err
		}
		c.bin = bin
	}
	if c.runAs == nil {
		if err := c.resolve(); err != nil {
			return err
		}
	}
	os.Remove(filepath.Join(c.Dir, "keep-running"))
	if _, running := c.runningPort(); !running {
		return nil
	}
	out, err := c.pgctl(context.Background(), "stop", "-D", c.pgdata(), "-m", "fast", "-w")
	if err != nil {
		return fmt.Errorf("pgcluster: pg_ctl stop: %w: %s", err, out)
	}
	c.Logger.Info("local PostgreSQL stopped", "dir", c.pgdata())
	return nil
}

// runningPort reads postmaster.pid: the server's port and whether its process is alive.
func (c *Cluster) runningPort() (int, bool) {
	f, err := os.Open(filepath.Join(c.pgdata(), "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 4 {
		return 0, false
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(lines[0]))
	port, err2 := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err1 != nil || err2 != nil || pid <= 0 {
		return 0, false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return 0, false
	}
	// A live pid may be a stale file reused by another program: the port must answer.
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return 0, false
	}
	conn.Close()
	return port, true
}

func (c *Cluster) initdb(ctx context.Context) error {
	c.Logger.Info("creating local PostgreSQL cluster", "dir", c.pgdata())
	if err := os.MkdirAll(c.pgdata(), 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	buf := make([]byte, 18)
	rand.Read(buf)
	password := hex.EncodeToString(buf)
	pwfile := filepath.Join(c.pgdata(), "..", "initdb.pw")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	defer os.Remove(pwfile)
	if err := c.chown(c.pgdata(), pwfile); err != nil {
		return err
	}
	if err := c.reachable(); err != nil {
		return err
	}
	cmd := c.command(ctx, filepath.Join(c.bin, "initdb"), "-D", c.pgdata(), "-U", Role,
		"--auth=scram-sha-256", "--pwfile="+pwfile, "-E", "UTF8", "--locale=C.UTF-8")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(c.pgdata())
		return fmt.Errorf("pgcluster: initdb: %w: %s", err, out)
	}
	conf := strings.Join([]string{
		"listen_addresses = '127.0.0.1'",
		"unix_socket_directories = ''",
		"max_connections = 300",
		"shared_buffers = '512MB'",
		"work_mem = '32MB'",
		"maintenance_work_mem = '256MB'",
		// Parallel query makes heavy tile queries slower on 2 cores (shared/bench/README.md).
		"max_parallel_workers_per_gather = 0",
		// JIT costs ~50 ms on spatial queries whose cost PostGIS overestimates.
		"jit = off",
		"max_wal_size = '2GB'",
		"log_min_messages = warning",
		"",
	}, "\n")
	f, err := os.OpenFile(filepath.Join(c.pgdata(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n# geoportal\n" + conf); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return os.WriteFile(filepath.Join(c.Dir, "password"), []byte(password+"\n"), 0o600)
}

// basebackup makes the cluster a copy of the primary at c.Standby that follows it by streaming
// replication. The role and its password are the primary's.
func (c *Cluster) basebackup(ctx context.Context) error {
	u, err := url.Parse(c.Standby)
	if err != nil || u.User == nil {
		return fmt.Errorf("pgcluster: standby of %q: want postgres://role:password@host:port/db", c.Standby)
	}
	password, _ := u.User.Password()
	c.Logger.Info("copying the primary for a streaming replica", "dir", c.pgdata(), "primary", u.Host)
	if err := os.MkdirAll(c.pgdata(), 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.chown(c.pgdata()); err != nil {
		return err
	}
	if err := c.reachable(); err != nil {
		return err
	}
	cmd := c.command(ctx, filepath.Join(c.bin, "pg_basebackup"), "-D", c.pgdata(), "-R", "-X", "stream",
		"-c", "fast", "-h", u.Hostname(), "-p", u.Port(), "-U", u.User.Username())
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PGPASSWORD="+password)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(c.pgdata())
		return fmt.Errorf("pgcluster: pg_basebackup: %w: %s", err, out)
	}
	os.Chmod(c.pgdata(), 0o700)
	return os.WriteFile(filepath.Join(c.Dir, "password"), []byte(password+"\n"), 0o600)
}

// reachable checks that the server's user can reach the data directory (CI clones into other
// folders, and PostgreSQL cannot run in a folder its user cannot enter).
func (c *Cluster) reachable() error {
	if c.runAs == nil {
		return nil
	}
	cmd := c.command(context.Background(), "/bin/sh", "-c", `test -w "$1"`, "sh", c.pgdata())
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgcluster: user %s cannot reach %s: every parent folder must be enterable by others (chmod o+x)", c.runAs.Username, c.pgdata())
	}
	return nil
}

func (c *Cluster) startServer(ctx context.Context) (int, error) {
	port := DefaultPort
	if b, err := os.ReadFile(filepath.Join(c.Dir, "port")); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			port = p
		}
	}
	if !portFree(port) {
		p, err := freePort()
		if err != nil {
			return 0, err
		}
		port = p
	}
	os.Remove(filepath.Join(c.pgdata(), "postmaster.pid")) // stale: the server is not running
	logfile := filepath.Join(c.pgdata(), "server.log")
	out, err := c.pgctl(ctx, "start", "-D", c.pgdata(), "-l", logfile, "-w", "-t", "120",
		"-o", "-p "+strconv.Itoa(port))
	if err != nil {
		tail, _ := os.ReadFile(logfile)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return 0, fmt.Errorf("pgcluster: pg_ctl start: %w: %s\n%s", err, out, tail)
	}
	os.WriteFile(filepath.Join(c.Dir, "port"), []byte(strconv.Itoa(port)+"\n"), 0o644)
	c.Logger.Info("local PostgreSQL started", "dir", c.pgdata(), "port", port)
	return port, nil
}

func (c *Cluster) pgctl(ctx context.Context, args ...string) ([]byte, error) {
	cmd := c.command(ctx, filepath.Join(c.bin, "pg_ctl"), args...)
	// The server outlives this process's signals (Ctrl-C in a terminal): its own session.
	cmd.SysProcAttr.Setsid = true
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	cmd.Dir = "/"
	if c.runAs != nil {
		uid, _ := strconv.Atoi(c.runAs.Uid)
		gid, _ := strconv.Atoi(c.runAs.Gid)
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + c.runAs.HomeDir, "LANG=C.UTF-8"}
	}
	return cmd
}

func (c *Cluster) chown(paths ...string) error {
	if c.runAs == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.runAs.Uid)
	gid, _ := strconv.Atoi(c.runAs.Gid)
	for _, p := range paths {
		if err := os.Chown(p, uid, gid); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	return nil
}

func ensureDatabase(ctx context.Context, u *url.URL) error {
	admin := *u
	admin.Path = "/postgres"
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return fmt.Errorf("pgcluster: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, Database).Scan(&exists); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{Database}.Sanitize())
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) && pgErr.SQLState() == "42P04" { // created meanwhile
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgcluster: create database: %w", err)
	}
	return nil
}

func lockFile(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("pgcluster: lock %s: %w", path, err)
	}
	return f, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// State is what Status reports of a cluster.
type State struct {
	Running bool
	PID     int
	Port    int
	// Standby is true while the server replays a primary's WAL (a streaming replica).
	Standby bool
	// Replicas are the standbys streaming from this server, as pg_stat_replication shows them.
	Replicas []ReplicaState
	// Receiver is a standby's WAL receiver status ("streaming" when connected to its primary).
	Receiver string
}

// ReplicaState is one standby as its primary sees it.
type ReplicaState struct {
	Addr  string
	State string
	// LagBytes is how much WAL the primary has that the standby has not replayed yet.
	LagBytes int64
	// ReplayLag is PostgreSQL's replay_lag: how long the last replayed commit took to reach the
	// standby's data (empty when there has been no recent write).
	ReplayLag string
}

// Status reports whether the cluster runs, its pid and port, whether it is a standby and how far
// behind the standbys streaming from it are. It starts nothing.
func (c *Cluster) Status(ctx context.Context) (State, error) {
	if err := c.resolve(); err != nil {
		return State{}, err
	}
	port, running := c.runningPort()
	if !running {
		return State{}, nil
	}
	st := State{Running: true, Port: port, PID: c.pid()}
	password, err := os.ReadFile(filepath.Join(c.Dir, "password"))
	if err != nil {
		return st, fmt.Errorf("pgcluster: read password: %w", err)
	}
	u := &url.URL{Scheme: "postgres", User: url.UserPassword(Role, strings.TrimSpace(string(password))),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Path: "/postgres", RawQuery: "sslmode=disable"}
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return st, fmt.Errorf("pgcluster: connect: %w", err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT pg_is_in_recovery(),
		coalesce((SELECT status FROM pg_stat_wal_receiver), '')`).Scan(&st.Standby, &st.Receiver); err != nil {
		return st, fmt.Errorf("pgcluster: status: %w", err)
	}
	if st.Standby {
		return st, nil
	}
	rows, err := conn.Query(ctx, `SELECT coalesce(host(client_addr), 'local'), state,
		coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint, coalesce(replay_lag::text, '')
		FROM pg_stat_replication ORDER BY client_addr, client_port`)
	if err != nil {
		return st, fmt.Errorf("pgcluster: replication status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r ReplicaState
		if err := rows.Scan(&r.Addr, &r.State, &r.LagBytes, &r.ReplayLag); err != nil {
			return st, fmt.Errorf("pgcluster: replication status: %w", err)
		}
		st.Replicas = append(st.Replicas, r)
	}
	return st, rows.Err()
}

// pid is the server's process id from postmaster.pid (0 when unknown).
func (c *Cluster) pid() int {
	b, err := os.ReadFile(filepath.Join(c.pgdata(), "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}
