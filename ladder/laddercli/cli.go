// Package laddercli implements `handoff ladder ...`: lint, explain, test,
// diff and eval for escalation ladders. Run takes the arguments after "ladder".
//
// Exit codes: Run returns nil for success, and an *ExitError for failure:
// Code 1 when the check failed (lint errors, failing test cases, an
// unreadable file), Code 2 for a usage error. eval differs: Code 1 means a
// target was not met, Code 2 also covers unreadable or invalid labelled
// files and ladders that do not load. The caller prints nothing more
// for an ExitError (Run has already written the details) and exits with
// its Code.
package laddercli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/ladder"
)

// ExitError tells the caller to exit with Code; the details were already
// written to stdout or stderr.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

// BuiltinDefault names the embedded default ladder wherever a ladder file
// is expected.
const BuiltinDefault = ladder.BuiltinDefault

const usage = `Usage: handoff ladder <command> [arguments]

Commands:
  lint FILE...                 check ladder files; prints file:line: problems, exit 1 if any
  explain FILE EVENTS...       show the decision for recorded events, with the full trace
  test [FILE] CASES.yaml       run a case file against a ladder; exit 1 if a case fails
  diff OLD NEW EVENTS...       replay events through two ladders and show what changes
  eval FILE LABELLED...        measure a ladder on labelled conversations; exit 1 below targets

FILE may be "builtin:default" for the embedded default ladder.
Run "handoff ladder <command> --help" for details.
`

// Run executes one ladder command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &ExitError{Code: 2, Msg: "no ladder command"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "lint":
		return runLint(ctx, rest, stdout, stderr)
	case "explain":
		return runExplain(ctx, rest, stdout, stderr)
	case "test":
		return runTest(ctx, rest, stdout, stderr)
	case "diff":
		return runDiff(ctx, rest, stdout, stderr)
	case "eval":
		return runEval(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "handoff ladder: unknown command %q\n\n%s", cmd, usage)
	return &ExitError{Code: 2, Msg: "unknown ladder command " + cmd}
}

// newFlags builds a flag set whose --help prints the verb's usage to
// stdout; parse reports (help, error).
func newFlags(name, synopsis, help string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: handoff ladder %s %s\n\n%s\n", name, synopsis, help)
		if hasFlags(fs) {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parse handles --help (usage on stdout, success) and usage errors.
func parse(fs *flag.FlagSet, args []string, stdout io.Writer, nargs func(int) bool) (done bool, err error) {
	usage := fs.Usage
	fs.Usage = func() {} // printed below, to stdout for --help
	err = fs.Parse(args)
	fs.Usage = usage
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			out := fs.Output()
			fs.SetOutput(stdout)
			fs.Usage()
			fs.SetOutput(out)
			return true, nil
		}
		fs.Usage()
		return true, &ExitError{Code: 2, Msg: err.Error()}
	}
	if !nargs(fs.NArg()) {
		fmt.Fprintf(fs.Output(), "handoff ladder %s: wrong number of arguments\n\n", fs.Name())
		fs.Usage()
		return true, &ExitError{Code: 2, Msg: "wrong number of arguments"}
	}
	return false, nil
}

func loadLadder(path string) (*ladder.Ladder, error) { return ladder.Load(path) }

// loadOrReport loads a ladder, printing lint errors to stderr.
func loadOrReport(path string, stderr io.Writer) (*ladder.Ladder, error) {
	l, err := loadLadder(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, &ExitError{Code: 1, Msg: "ladder " + path + " does not load"}
	}
	return l, nil
}

// withSignals computes the text signals when the recorded context has none
// (a hand-written event file): the pipeline's enricher normally sets them.
func withSignals(l *ladder.Ladder, c handoff.Context) handoff.Context {
	if c.Signals.Topics == nil && c.Event.Text != "" {
		sent := c.Signals
		c.Signals = l.Signals(c.Event.Text)
		if sent.HumanRequest {
			c.Signals.HumanRequest = true
		}
	}
	return c
}

func runLint(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("lint", "FILE...", `Checks each ladder file: YAML syntax and unknown fields, duplicate ids,
CEL conditions (syntax and types against the context), unknown topics,
thresholds, teams and workflows, bad durations and priorities, templates,
and rungs that can never be reached. Problems are printed as
"file:line: rung \"id\": message"; the exit status is 1 if there are any.`, stdout, stderr)
	quiet := fs.Bool("q", false, "print nothing for files without problems")
	if done, err := parse(fs, args, stdout, func(n int) bool { return n >= 1 }); done {
		return err
	}
	failed := 0
	for _, f := range fs.Args() {
		l, err := loadLadder(f)
		if err != nil {
			failed++
			fmt.Fprintln(stdout, err)
			continue
		}
		if !*quiet {
			fmt.Fprintf(stdout, "%s: ok (version %q, %d exceptions, %d rungs, %d teams)\n",
				f, l.Version(), len(l.ExceptionIDs()), len(l.RungIDs()), len(l.Teams()))
		}
	}
	if failed > 0 {
		return &ExitError{Code: 1, Msg: fmt.Sprintf("%d ladder file(s) with problems", failed)}
	}
	return nil
}
