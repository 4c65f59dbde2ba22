package handoff

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors shared by connectors, the enricher and jobs.
var (
	// ErrNotFound: the CRM has no such record.
	ErrNotFound = errors.New("not found")
	// ErrNotInstalled: no authorization is stored for the tenant (portal,
	// org or instance). Jobs retry until the tenant installs the app.
	ErrNotInstalled = errors.New("tenant not installed")
	// ErrDuplicate: the thing was already recorded (e.g. a webhook redelivery).
	ErrDuplicate = errors.New("duplicate")
	// ErrUnavailable: a dependency (Redis, a CRM) cannot be reached now.
	ErrUnavailable = errors.New("unavailable")
	// ErrPartlyWritten marks a CreateTask error that came after some of the
	// CRM writes of a multi-call create were done (e.g. Marketo's campaign
	// request before its activity). The connector recorded those steps, and
	// calling CreateTask again resumes after the last one known to be done,
	// so the caller must not read the error (even a rate limit) as "the CRM
	// wrote nothing". It is found with errors.Is next to the error's class
	// (RateLimitError, TransientError ...), which still sets the retry.
	ErrPartlyWritten = errors.New("partly written")
	// ErrOwnerUnavailable: the owner a write names cannot own records (a
	// deactivated or archived CRM user, e.g. Salesforce's
	// INACTIVE_OWNER_OR_USER). Nothing was written; the caller should pick
	// another owner rather than retry or give up.
	ErrOwnerUnavailable = errors.New("owner unavailable")
)

// RateLimitError means the CRM (or our own limiter) refused the call for
// now. Retrying after RetryAfter is expected to succeed; it is not a failure.
type RateLimitError struct {
	CRM        Source
	Tenant     string
	RetryAfter time.Duration
	Detail     string // e.g. the policy name or daily/secondly limit
}

func (e *RateLimitError) Error() string {
	msg := fmt.Sprintf("%s rate limit reached for tenant %s; retry after %s", e.CRM, e.Tenant, e.RetryAfter)
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// AuthError is a rejected or missing credential. Refreshable says whether a
// token refresh can help; when false, the tenant must re-authorize.
type AuthError struct {
	CRM         Source
	Tenant      string
	Refreshable bool
	Detail      string
}

func (e *AuthError) Error() string {
	if e.Refreshable {
		return fmt.Sprintf("%s authorization for tenant %s expired: %s", e.CRM, e.Tenant, e.Detail)
	}
	return fmt.Sprintf("%s authorization for tenant %s was revoked or is invalid; re-authorize the app (%s)", e.CRM, e.Tenant, e.Detail)
}

// PermanentError is a request the CRM will never accept as sent (validation
// errors, missing fields, a deleted owner). Retrying without a change is
// pointless.
type PermanentError struct {
	CRM    Source
	Status int    // HTTP status, or 0
	Code   string // the CRM's error code (e.g. VALIDATION_ERROR, 1003, REQUIRED_FIELD_MISSING)
	Detail string
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("%s rejected the request (status %d, %s): %s", e.CRM, e.Status, e.Code, e.Detail)
}

// TransientError is a failure expected to go away (5xx, timeouts, resets).
type TransientError struct {
	CRM    Source
	Status int
	Err    error
}

func (e *TransientError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s temporarily failed (status %d): %v", e.CRM, e.Status, e.Err)
	}
	return fmt.Sprintf("%s temporarily failed: %v", e.CRM, e.Err)
}

func (e *TransientError) Unwrap() error { return e.Err }

// IsPermanent reports whether err cannot succeed on retry as is.
func IsPermanent(err error) bool {
	var pe *PermanentError
	if errors.As(err, &pe) {
		return true
	}
	var ae *AuthError
	return errors.As(err, &ae) && !ae.Refreshable
}

// PartlyWritten marks err as coming after some CRM writes of a multi-call
// create (see ErrPartlyWritten); errors.As and errors.Is still find err's
// own class and cause. nil stays nil.
func PartlyWritten(err error) error {
	if err == nil {
		return nil
	}
	return partlyWritten{err}
}

type partlyWritten struct{ err error }

func (e partlyWritten) Error() string {
	return e.err.Error() + " (after some CRM writes; a retry resumes after them)"
}
func (e partlyWritten) Unwrap() error        { return e.err }
func (e partlyWritten) Is(target error) bool { return target == ErrPartlyWritten }
