package postgres_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/aetherengine/aether/controlplane/pgtest"
	"github.com/aetherengine/aether/controlplane/store"
	"github.com/aetherengine/aether/controlplane/store/postgres"
	"github.com/aetherengine/aether/controlplane/store/storetest"
	"github.com/aetherengine/aether/pkg/api"
)

// run is this test run's database, dropped in TestMain.
var run pgtest.Run

func TestMain(m *testing.M) {
	code := m.Run()
	run.Drop()
	os.Exit(code)
}

func open(t *testing.T, url string) store.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	db := run.Database(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.Schema(t, db)) })
}

// TestConcurrentMigrations: replicas starting together on an empty schema
// all come up, and each migration is recorded once (the advisory lock).
func TestConcurrentMigrations(t *testing.T) {
	url := pgtest.Schema(t, run.Database(t))
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 2})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent open: %v", err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, distinct int
	if err := conn.QueryRow(ctx, "SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != distinct || n == 0 {
		t.Fatalf("schema_migrations has %d rows for %d versions", n, distinct)
	}
	// And the store works after the race.
	s := open(t, url)
	if _, err := s.CreateApp(ctx, api.App{Name: "web"}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrorsHideThePassword(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=1", postgres.Options{})
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error leaks the password: %v", err)
	}
	_, err = postgres.Open(context.Background(), "postgres://u:s3cret@[::1/db", postgres.Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad URL error = %v", err)
	}
}
