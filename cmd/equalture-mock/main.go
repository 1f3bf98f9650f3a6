// Command equalture-mock is a mock server and contract-testing toolkit for the Equalture Open
// Assessment API. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/equalture/equalture-mock/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
