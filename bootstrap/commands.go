package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Exit codes of the binary.
const (
	ExitOK     = 0
	ExitFailed = 1 // the command ran and failed (a start that could not complete, a failed migration)
	ExitUsage  = 2 // bad arguments or configuration: nothing was started
)

// Command is one subcommand of the etalase binary. A server command sets
// Options and runs until SIGTERM or SIGINT; a one-shot command sets Run.
type Command struct {
	Name    string
	Usage   string // arguments after the name, for the usage text
	Summary string

	// Options returns the fx options of a long-running command. It runs
	// after the configuration is loaded and, for dev, after the fallback
	// decision.
	Options func(c Config, log *zap.Logger, fb Fallback) fx.Option
	// Prepare runs before Options, for work that decides how to wire (dev
	// creates and migrates the database here). It may be nil.
	Prepare func(ctx context.Context, c Config, log *zap.Logger) (Fallback, error)
	// Run is the body of a one-shot command.
	Run func(ctx context.Context, c Config, args []string, stdout io.Writer) error
	// Probe makes every failure exit ExitFailed, bad arguments and
	// configuration included: Docker's HEALTHCHECK reads 1 as unhealthy and
	// reserves 2.
	Probe bool
}

// commands is the table of subcommands, in the order the usage text lists
// them. Add a command by adding a line.
var commands = []Command{
	apiCommand,
	workerCommand,
	allCommand,
	devCommand,
	migrateCommand,
	healthcheckCommand,
}

// apiCommand serves the HTTP API only.
var apiCommand = Command{
	Name:    "api",
	Summary: "serve the HTTP API (writes jobs to the outbox, runs none)",
	Options: APIOptions,
}

// APIOptions are the fx options of `etalase api`.
func APIOptions(c Config, log *zap.Logger, fb Fallback) fx.Option {
	return fx.Options(
		CoreModule(c, log, fb),
		StorageModule(fb),
		CacheModule(c, fb),
		CatalogModule(),
		HTTPModule(),
		JobsModule(fb),
		OpsModule(),
		ConsoleModule(),
	)
}

// findCommand returns the command named name.
func findCommand(name string) (Command, bool) {
	for _, c := range commands {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: etalase <command> [arguments]")
	fmt.Fprintln(w)
	for _, c := range commands {
		name := c.Name
		if c.Usage != "" {
			name += " " + c.Usage
		}
		fmt.Fprintf(w, "  %-28s %s\n", name, c.Summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Configuration comes from the environment; see the README.")
}

// Main runs the binary with its arguments (without the program name) and
// the process environment, and returns the exit code.
func Main(args []string) int {
	return run(args, os.Getenv, os.Stdout, os.Stderr)
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return ExitUsage
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return ExitOK
	}
	cmd, ok := findCommand(args[0])
	if !ok {
		fmt.Fprintf(stderr, "etalase: unknown command %q\n", args[0])
		usage(stderr)
		return ExitUsage
	}
	c, err := LoadConfig(cmd.Name, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "etalase: %v\n", err)
		if cmd.Probe {
			return ExitFailed
		}
		return ExitUsage
	}
	if cmd.Run != nil {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		if err := cmd.Run(ctx, c, args[1:], stdout); err != nil {
			fmt.Fprintf(stderr, "etalase %s: %v\n", cmd.Name, err)
			var ue usageError
			if errors.As(err, &ue) && !cmd.Probe {
				return ExitUsage
			}
			return ExitFailed
		}
		return ExitOK
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "etalase %s: unexpected arguments %s\n", cmd.Name, strings.Join(args[1:], " "))
		return ExitUsage
	}
	log, err := NewLogger(c)
	if err != nil {
		fmt.Fprintf(stderr, "etalase: build logger: %v\n", err)
		return ExitFailed
	}
	defer func() { _ = log.Sync() }()
	return serve(cmd, c, log)
}

// serve starts a long-running command, waits for SIGTERM or SIGINT and
// stops it within SHUTDOWN_TIMEOUT.
func serve(cmd Command, c Config, log *zap.Logger) int {
	log.Info("starting", zap.String("command", cmd.Name), zap.Stringer("config", c))
	// A failed start's stack is always this function's: the line says what
	// failed and how to fix it, without one.
	failed := log.WithOptions(zap.AddStacktrace(zapcore.FatalLevel))
	app, err := NewApp(context.Background(), cmd.Name, c, log)
	if err != nil {
		failed.Error("start failed", zap.Error(err))
		return ExitFailed
	}
	startCtx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	err = app.Start(startCtx)
	cancel()
	if err != nil {
		failed.Error("start failed", zap.Error(err))
		return ExitFailed
	}
	if c.GeneratedKey != nil {
		log.Warn("API_KEYS is unset: use this generated key for writes, it changes at every start",
			zap.String("authorization", "Bearer "+c.GeneratedKey.Secret))
	}
	if c.GeneratedAdminKey != nil {
		log.Warn("ADMIN_KEYS is unset: use this generated key for writes and /admin, it changes at every start",
			zap.String("authorization", "Bearer "+c.GeneratedAdminKey.Secret))
	}
	sig := <-app.Done()
	log.Info("stopping", zap.String("signal", sig.String()), zap.Duration("timeout", c.ShutdownTimeout))
	stopCtx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if err := app.Stop(stopCtx); err != nil {
		log.Error("stop failed", zap.Error(err))
		return ExitFailed
	}
	log.Info("stopped")
	return ExitOK
}

// App is a wired, not yet started, long-running command.
type App struct {
	app *fx.App
}

// NewApp prepares command (dev's database work and fallback decision),
// refuses a queue Redis that evicts, and wires its fx application. Errors
// mean nothing was started.
func NewApp(ctx context.Context, command string, c Config, log *zap.Logger) (*App, error) {
	cmd, ok := findCommand(command)
	if !ok || cmd.Options == nil {
		return nil, fmt.Errorf("%q is not a server command", command)
	}
	var fb Fallback
	if cmd.Prepare != nil {
		var err error
		if fb, err = cmd.Prepare(ctx, c, log); err != nil {
			return nil, err
		}
	}
	// Every server command runs the job queue (JobsModule); checking its
	// Redis here, before any hook, refuses an evicting one before anything
	// listens.
	if !fb.Redis {
		if err := checkQueueEviction(ctx, c, log); err != nil {
			return nil, err
		}
	}
	app := fx.New(cmd.Options(c, log, fb), appOptions(c, log))
	if err := app.Err(); err != nil {
		return nil, err
	}
	return &App{app: app}, nil
}

// appOptions are the options of every app: fx's own log lines go through
// zap at debug level, and the start and stop timeouts. fx.WithLogger must
// sit at the root: inside a module it would only cover that module.
func appOptions(c Config, log *zap.Logger) fx.Option {
	return fx.Options(
		fx.WithLogger(func() fxevent.Logger { return fxLogger(log) }),
		fx.StartTimeout(max(c.ShutdownTimeout, 15*time.Second)),
		fx.StopTimeout(c.ShutdownTimeout),
	)
}

// StartTimeout bounds Start.
func (a *App) StartTimeout() time.Duration { return a.app.StartTimeout() }

// Start runs every OnStart hook; on failure the hooks that ran are undone.
func (a *App) Start(ctx context.Context) error { return a.app.Start(ctx) }

// Stop runs every OnStop hook in reverse order within ctx.
func (a *App) Stop(ctx context.Context) error { return a.app.Stop(ctx) }

// Done delivers SIGINT or SIGTERM.
func (a *App) Done() <-chan os.Signal { return a.app.Done() }

// usageError marks a one-shot command's error as a usage mistake (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }
