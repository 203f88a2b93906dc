// Package pgtest gives tests a real, fresh PostgreSQL database: one uniquely
// named database per test run (dropped afterwards) and, inside it, a fresh
// schema per test. Tests skip — loudly — only when no server answers;
// with AETHER_REQUIRE_POSTGRES=1 (CI) they fail instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server the tests use unless AETHER_TEST_POSTGRES names
// another (trust auth on the loopback, as on the dev and CI machines).
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL is the maintenance database URL tests connect to.
func AdminURL() string {
	if u := os.Getenv("AETHER_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

// Unreachable reports whether err means no server answered at all (as
// opposed to a server that answered with an error, which is a failure).
func Unreachable(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &oe) || errors.As(err, &ne) || strings.Contains(err.Error(), "connect: connection refused") ||
		strings.Contains(err.Error(), "dial error")
}

// skipOrFail skips the test loudly when the server is unreachable, unless
// the environment requires PostgreSQL.
func skipOrFail(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("\n*** POSTGRESQL NOT REACHABLE at %s: %v\n*** The PostgreSQL store is NOT tested by this run. Start it (pg_ctlcluster <version> main start) or set AETHER_TEST_POSTGRES.\n", redact(AdminURL()), err)
	if os.Getenv("AETHER_REQUIRE_POSTGRES") == "1" || !Unreachable(err) {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return p.Redacted()
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Run is one test run's database, created on first use.
type Run struct {
	once sync.Once
	url  string
	name string
	err  error
}

// Database returns the run's database URL, creating the database on first
// call. The caller (usually TestMain) calls Drop when the run ends.
func (r *Run) Database(t testing.TB) string {
	t.Helper()
	r.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		r.name = fmt.Sprintf("aether_test_%d_%s", os.Getpid(), randomSuffix())
		r.url, r.err = create(ctx, r.name)
	})
	if r.err != nil {
		skipOrFail(t, r.err)
	}
	return r.url
}

// Drop removes the run's database if one was created.
func (r *Run) Drop() {
	if r.url == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := drop(ctx, r.name); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: drop database %s: %v\n", r.name, err)
	}
}

// NewDatabase creates a fresh database for one test and drops it when the
// test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	name := fmt.Sprintf("aether_test_%d_%s", os.Getpid(), randomSuffix())
	u, err := create(ctx, name)
	if err != nil {
		skipOrFail(t, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := drop(ctx, name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return u
}

// Schema creates a fresh schema in the database at dbURL and returns a URL
// whose connections use it (search_path), dropping it when the test ends.
func Schema(t testing.TB, dbURL string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	name := "s_" + randomSuffix()
	if err := execOn(ctx, dbURL, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := execOn(ctx, dbURL, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func create(ctx context.Context, name string) (string, error) {
	if err := execOn(ctx, AdminURL(), "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	u, err := url.Parse(AdminURL())
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func drop(ctx context.Context, name string) error {
	return execOn(ctx, AdminURL(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

func execOn(ctx context.Context, dbURL, sql string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}
