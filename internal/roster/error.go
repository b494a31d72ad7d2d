package roster

import (
	"errors"
	"fmt"
)

// Error codes: the kinds of failure every adapter understands. The web layer
// maps each to an HTTP status; storage maps database errors to them.
const (
	EINVALID      = "invalid"      // the input breaks a rule; the message says which
	ENOTFOUND     = "not_found"    // absent, or not visible to the caller
	ECONFLICT     = "conflict"     // the change clashes with the current state
	EFORBIDDEN    = "forbidden"    // the caller may see this but not do it
	EUNAUTHORIZED = "unauthorized" // not signed in, or wrong credentials
	ETOOMANY      = "too_many"     // rate limited
	EGONE         = "gone"         // a link that expired, was revoked or used
	EINTERNAL     = "internal"     // anything unexpected; never shown in detail
)

// Error is a domain error: a code and a message written for the person who
// will read it. Anything that is not an *Error is treated as EINTERNAL.
type Error struct {
	Code    string
	Message string
	// Field names the form field the message belongs to, when there is one.
	Field string
}

func (e *Error) Error() string { return fmt.Sprintf("roster %s: %s", e.Code, e.Message) }

// Errorf returns a domain error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID error that belongs to one form field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for anything that is not a
// domain error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of a domain error, and a generic one
// for anything else, so that internals never reach a page.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. Please try again in a moment."
}

// ErrorField returns the form field a domain error belongs to, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
