// Command ferretdb-launcher runs an embedded FerretDB 1.x (MongoDB wire protocol)
// with its SQLite backend, for gridstream's local stack where no real mongod exists.
//
// It embeds the public package github.com/FerretDB/FerretDB/ferretdb rather than
// building cmd/ferretdb, whose build/version package panics when version.txt is
// missing from the module zip (it only checks that when FerretDB is the main module).
// Build it with build.sh, which also applies the FerretDB fixes under patches/.
//
// Usage:
//
//	ferretdb-launcher --listen 127.0.0.1:27017 --data ./data/ferretdb [--log-level info]
//	                  [--auth-user gridstream --auth-password-file FILE]
//
// With --auth-user every command but the handshake needs that user's SCRAM-SHA-256
// credentials (FerretDB's new authentication); the user is made in the admin database on the
// first start, with the password read from the file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-launcher: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("ferretdb-launcher", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:27017", "TCP address to listen on (host:port)")
	data := fs.String("data", "", "directory for the SQLite databases (created if missing; required)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	authUser := fs.String("auth-user", "", "require authentication; the user made in the admin database on first start")
	authPasswordFile := fs.String("auth-password-file", "", "file holding --auth-user's password")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err // the flag package has already printed the usage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("bad --log-level %q: want debug, info, warn or error", *logLevel)
	}

	if err := checkListen(*listen); err != nil {
		return err
	}

	if *data == "" {
		return errors.New("--data is required")
	}
	dir, err := filepath.Abs(*data)
	if err != nil {
		return fmt.Errorf("bad --data %q: %w", *data, err)
	}
	if err = os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create data directory: %w", err)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	// The SQLite URL must start with "file:", end with "/" and name an existing directory.
	sqliteURL := "file:" + filepath.ToSlash(dir) + "/"

	config := &ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	}
	if *authUser != "" {
		secret, err := os.ReadFile(*authPasswordFile)
		if err != nil {
			return fmt.Errorf("--auth-password-file: %w", err)
		}
		password := strings.TrimSpace(string(secret))
		if password == "" {
			return fmt.Errorf("--auth-password-file %q is empty", *authPasswordFile)
		}
		config.EnableNewAuth = true
		config.SetupDatabase = "admin"
		config.SetupUsername = *authUser
		config.SetupPassword = password
	}

	f, err := ferretdb.New(config)
	if err != nil {
		return fmt.Errorf("cannot start FerretDB on %s: %w", *listen, err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger.Info("ferretdb-launcher listening", "addr", *listen, "uri", f.MongoDBURI(), "data", sqliteURL)

	if err = f.Run(ctx); err != nil {
		return err
	}

	logger.Info("ferretdb-launcher stopped")
	return nil
}

// checkListen rejects addresses that are not host:port with a numeric port.
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("bad --listen %q: want host:port, e.g. 127.0.0.1:27017", addr)
	}
	if host == "" {
		return fmt.Errorf("bad --listen %q: host is empty (use 127.0.0.1)", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("bad --listen %q: port must be a number 0-65535", addr)
	}
	return nil
}
