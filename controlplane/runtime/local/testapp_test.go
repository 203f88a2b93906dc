package local

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the "app" the runtime supervises: with
// TESTAPP_MODE in its environment it behaves as one of these apps instead
// of running the tests. The runtime passes only the app's own env, so the
// mode travels in the deployment's env.
//
//	serve  listen on $PORT; GET / answers $TESTAPP_VERSION; SIGTERM drains
//	slow   like serve, after sleeping $TESTAPP_DELAY
//	crash  print a message on stderr and exit 3
//	hang   never listen; exit on SIGTERM
//
// Every mode writes its pid to $TESTAPP_DIR/<version>.pid (when set) and,
// on SIGTERM, $TESTAPP_DIR/<version>.term.
func TestMain(m *testing.M) {
	if mode := os.Getenv("TESTAPP_MODE"); mode != "" {
		os.Exit(testApp(mode))
	}
	os.Exit(m.Run())
}

func testApp(mode string) int {
	version := os.Getenv("TESTAPP_VERSION")
	dir := os.Getenv("TESTAPP_DIR")
	mark := func(suffix, body string) {
		if dir != "" {
			_ = os.WriteFile(filepath.Join(dir, version+suffix), []byte(body), 0o600)
		}
	}
	// Catch SIGTERM before announcing the pid: a test that waits for the
	// pid file may stop the process at once.
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	mark(".pid", fmt.Sprint(os.Getpid()))
	fmt.Printf("testapp %s starting in mode %s\n", version, mode)
	switch mode {
	case "crash":
		fmt.Fprintf(os.Stderr, "boom: %s cannot reach its database\n", version)
		return 3
	case "hang":
		<-term
		mark(".term", "")
		return 0
	case "slow":
		d, _ := time.ParseDuration(os.Getenv("TESTAPP_DELAY"))
		select {
		case <-time.After(d):
		case <-term:
			mark(".term", "")
			return 0
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		return 1
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, version)
	})}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("testapp %s listening on %s\n", version, ln.Addr())
	<-term
	mark(".term", "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	return 0
}
