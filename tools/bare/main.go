// Command bare is the yardstick scripts/load measures the mock against: a plain net/http server
// that answers every request with status 200 and one fixed body and Content-Type (the bytes the
// mock answers to the measured request), doing nothing else.
//
//	bare --addr 127.0.0.1:9000 --body-file jobs.json --content-type 'application/json; charset=utf-8'
//
// --body-file - reads the body from standard input.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stderr)
	stop()
	os.Exit(code)
}

// run serves until ctx is done; it returns the process exit code (2 for usage errors).
func run(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) int {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	bodyFile := fs.String("body-file", "", "file holding the body to answer (- for standard input)")
	contentType := fs.String("content-type", "application/json; charset=utf-8", "Content-Type of the answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *bodyFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: bare --body-file FILE [--addr HOST:PORT] [--content-type TYPE]")
		return 2
	}
	body, err := readBody(*bodyFile, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "bare:", err)
		return 1
	}
	if err := serve(ctx, *addr, handler(body, *contentType)); err != nil {
		fmt.Fprintln(stderr, "bare:", err)
		return 1
	}
	return 0
}

// server is an http.Server for h set as the mock's (internal/app.HTTPServer; a test holds them
// equal): the same timeouts make net/http do the same work per request (two read deadlines each
// with ReadTimeout set), so that the difference the load script measures is the handler's.
func server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
}

func readBody(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}

// handler answers every request with body, writing it the way the mock's JSON writer does
// (Content-Type, WriteHeader, one Write; net/http adds Content-Length and Date), so both answers
// carry the same bytes and take the same path through net/http.
func handler(body []byte, contentType string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}

// serve runs h on addr in server(h) until ctx is done.
func serve(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := server(h)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
