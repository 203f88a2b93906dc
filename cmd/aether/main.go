// Command aether packages Node.js apps into signed OCI artifacts, pushes them
// to any OCI registry and deploys them through the AetherEngine control plane.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/aetherengine/aether/cmd/aether/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], cli.StdStreams())
	stop()
	os.Exit(code)
}
