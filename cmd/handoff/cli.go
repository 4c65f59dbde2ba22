package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff/ladder/laddercli"
)

// Set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

// exitError carries a process exit code. An empty msg prints nothing more.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return fmt.Sprintf("exit %d: %s", e.code, e.msg) }

// usageError is a mistake on the command line (exit 2).
func usageError(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}

const rootUsage = `handoff decides when an AI sales or marketing agent must hand a buyer to a
human, and creates one owned CRM task with the context that human needs.

Usage:
  handoff <command> [flags]

Commands:
  demo      run everything locally against fake CRMs and show the decisions and tasks
  serve     run the HTTP server and the job worker (configured by environment variables)
  ladder    lint, explain, test and diff escalation ladders
  report    print the outcome report (time to human, SLA breaches, accuracy...)
  version   print the version

Run 'handoff <command> --help' for a command's flags. Configuration is read from
the environment; see the README's configuration table.
`

// run is the whole program; main only wires the process to it, so tests can
// start Handoff in-process with their own environment and outputs.
func run(ctx context.Context, args []string, env envconfig.Lookuper, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, rootUsage)
		return usageError("no command given")
	}
	err := dispatch(ctx, args, env, stdout, stderr)
	var ee *exitError
	if errors.As(err, &ee) && ee.code == 0 {
		return nil // --help
	}
	return err
}

func dispatch(ctx context.Context, args []string, env envconfig.Lookuper, stdout, stderr io.Writer) error {
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, env, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, env, stdout, stderr)
	case "ladder":
		return runLadder(ctx, rest, stdout, stderr)
	case "report":
		return runReport(ctx, rest, env, stdout, stderr)
	case "version":
		return runVersion(rest, stdout, stderr)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, rootUsage)
		return nil
	default:
		fmt.Fprint(stderr, rootUsage)
		return usageError("unknown command %q", cmd)
	}
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "Usage: handoff version\n\nPrints the version.\n", helpOut(args, stdout, stderr))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("version takes no arguments, got %q", fs.Args())
	}
	v := version
	if info, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = "dev-" + s.Value[:12]
			}
		}
	}
	fmt.Fprintf(stdout, "handoff %s\n", v)
	return nil
}

// newFlagSet returns a flag set whose usage goes to out (stdout when the
// user asked for --help, stderr otherwise).
func newFlagSet(name, usage string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		var b strings.Builder
		fs.VisitAll(func(*flag.Flag) { b.WriteByte('x') })
		if b.Len() > 0 {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses; --help prints usage to stdout-equivalent and is not an error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return &exitError{code: 0}
	}
	if err != nil {
		return &exitError{code: 2}
	}
	return nil
}

// helpOut picks where usage goes: stdout when asked for, stderr on mistakes.
func helpOut(args []string, stdout, stderr io.Writer) io.Writer {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			return stdout
		}
		if a == "--" {
			break
		}
	}
	return stderr
}

func runLadder(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := laddercli.Run(ctx, args, stdout, stderr)
	var le *laddercli.ExitError
	if errors.As(err, &le) {
		return &exitError{code: le.Code}
	}
	return err
}
