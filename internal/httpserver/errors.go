package httpserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Error is an HTTP error with a stable machine code and a message for people.
// It is written as {"error":{"code":"...","message":"..."}}.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

var codes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "payload_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusServiceUnavailable:    "unavailable",
	http.StatusInternalServerError:   "internal",
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, msg := http.StatusInternalServerError, "internal", "internal error"
	var he *echo.HTTPError
	var ae *Error
	switch {
	case errors.As(err, &ae):
		status, code, msg = ae.Status, ae.Code, ae.Message
	case errors.As(err, &he):
		status = he.Code
		code = codes[status]
		if code == "" {
			code = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
		}
		switch m := he.Message.(type) {
		case string:
			msg = m
		case error:
			msg = m.Error()
		default:
			msg = http.StatusText(status)
		}
		if status == http.StatusRequestEntityTooLarge {
			msg = "request body is larger than the limit for this route"
		}
	}
	if status >= 500 {
		s.log.Error("request failed", "route", routeOf(c), "request_id", requestID(c), "status", status, "err", err.Error())
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	var body ErrorBody
	body.Error.Code, body.Error.Message = code, msg
	_ = c.JSON(status, body)
}

func (s *Server) accessLog(hist *prometheus.HistogramVec) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // write the error now so the status below is the real one
			}
			status := c.Response().Status
			route := routeOf(c)
			d := time.Since(start)
			hist.WithLabelValues(route, c.Request().Method, fmt.Sprint(status)).Observe(d.Seconds())
			level := slog.LevelInfo
			switch {
			case status >= 500:
				level = slog.LevelError
			case route == "/healthz" || route == "/readyz" || route == "/metrics":
				level = slog.LevelDebug
			}
			// Never the body, the query string or headers: they can carry
			// OAuth codes, signatures or personal data.
			s.log.Log(c.Request().Context(), level, "http request",
				"method", c.Request().Method, "route", route, "status", status,
				"duration_ms", float64(d.Microseconds())/1000, "bytes_in", c.Request().ContentLength,
				"bytes_out", c.Response().Size, "request_id", requestID(c), "remote_ip", c.RealIP())
			return nil
		}
	}
}

// routeOf returns the registered route pattern (bounded cardinality), not
// the raw path.
func routeOf(c echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return "unmatched"
}

func requestID(c echo.Context) string {
	if v, ok := c.Get("request_id").(string); ok {
		return v
	}
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
