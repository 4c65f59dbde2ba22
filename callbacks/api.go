package callbacks

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
)

// Delivery is one callback as GET /api/callbacks lists it.
type Delivery struct {
	ID            string     `json:"id"`         // the task id (replay it with this)
	WebhookID     string     `json:"webhook_id"` // what the receiver deduplicates on
	Type          string     `json:"type"`
	Status        string     `json:"status"` // pending | active | scheduled | retry | archived | completed
	Retried       int        `json:"retried"`
	MaxRetry      int        `json:"max_retry"`
	LastError     string     `json:"last_error,omitempty"`
	LastFailedAt  *time.Time `json:"last_failed_at,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	CompletedAt   *time.Time `json:"completed_at,omitempty"`
	Conversation  string     `json:"conversation,omitempty"`
	Sequence      int64      `json:"sequence,omitempty"`
	Replay        bool       `json:"replay,omitempty"`
	// Target is where a notification to people goes: its format and
	// host (the rest of a chat webhook's URL is its secret).
	Target string `json:"target,omitempty"`
}

// RegisterAPI mounts, on the admin /api group:
//
//	GET  /callbacks?status=&limit=     recent deliveries, newest state first
//	POST /callbacks/:id/replay         send one again
func (s *Sender) RegisterAPI(g *echo.Group) {
	g.GET("/callbacks", s.list)
	g.POST("/callbacks/:id/replay", s.replay)
}

func apiFail(c echo.Context, status int, code, msg string) error {
	return c.JSON(status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func (s *Sender) list(c echo.Context) error {
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return apiFail(c, http.StatusBadRequest, "bad_limit", "limit must be a number from 1 to 1000")
		}
		limit = n
	}
	listers := map[string]func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		"active": s.insp.ListActiveTasks, "pending": s.insp.ListPendingTasks, "scheduled": s.insp.ListScheduledTasks,
		"retry": s.insp.ListRetryTasks, "archived": s.insp.ListArchivedTasks, "completed": s.insp.ListCompletedTasks,
	}
	order := []string{"active", "pending", "retry", "scheduled", "archived", "completed"}
	if st := c.QueryParam("status"); st != "" {
		if listers[st] == nil {
			return apiFail(c, http.StatusBadRequest, "bad_status", "status must be one of active, pending, retry, scheduled, archived, completed")
		}
		order = []string{st}
	}
	out := []Delivery{}
	for _, st := range order {
		infos, err := listers[st](Queue, asynq.PageSize(limit))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			break
		}
		if err != nil {
			s.log.ErrorContext(c.Request().Context(), "api: list callbacks", "status", st, "error", err)
			return apiFail(c, http.StatusServiceUnavailable, "unavailable", "listing callbacks failed; try again")
		}
		ds := make([]Delivery, 0, len(infos))
		for _, ti := range infos {
			ds = append(ds, deliveryOf(ti))
		}
		sort.SliceStable(ds, func(i, j int) bool { return recent(ds[i]).After(recent(ds[j])) })
		out = append(out, ds...)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return c.JSON(http.StatusOK, map[string]any{"callbacks": out})
}

func recent(d Delivery) time.Time {
	for _, t := range []*time.Time{d.CompletedAt, d.LastFailedAt, d.NextAttemptAt} {
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}

func deliveryOf(ti *asynq.TaskInfo) Delivery {
	var pl payload
	_ = json.Unmarshal(ti.Payload, &pl)
	d := Delivery{ID: ti.ID, WebhookID: pl.ID, Type: pl.Type, Status: ti.State.String(), Retried: ti.Retried, MaxRetry: ti.MaxRetry,
		LastError: ti.LastErr, Conversation: pl.Conversation, Sequence: pl.Seq, Replay: pl.Replay}
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	d.LastFailedAt, d.NextAttemptAt, d.CompletedAt = at(ti.LastFailedAt), at(ti.NextProcessAt), at(ti.CompletedAt)
	return d
}

// replay sends a delivery again: an archived, retrying or scheduled one
// runs now (same task); a completed one is queued as a new task with the
// same webhook-id and body (a receiver that deduplicates drops it).
func (s *Sender) replay(c echo.Context) error {
	id := c.Param("id")
	info, err := s.insp.GetTaskInfo(Queue, id)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return apiFail(c, http.StatusNotFound, "not_found", "no callback "+id+" (delivered ones are kept for AGENT_CALLBACK_RETENTION)")
	}
	if err != nil {
		s.log.ErrorContext(c.Request().Context(), "api: read callback", "error", err)
		return apiFail(c, http.StatusServiceUnavailable, "unavailable", "reading the callback failed; try again")
	}
	switch info.State {
	case asynq.TaskStateArchived, asynq.TaskStateRetry, asynq.TaskStateScheduled:
		if err := s.insp.RunTask(Queue, id); err != nil {
			s.log.ErrorContext(c.Request().Context(), "api: run callback", "error", err)
			return apiFail(c, http.StatusServiceUnavailable, "unavailable", "queueing the callback failed; try again")
		}
		return c.JSON(http.StatusAccepted, map[string]any{"id": id, "status": "pending"})
	case asynq.TaskStateCompleted:
		var pl payload
		if err := json.Unmarshal(info.Payload, &pl); err != nil {
			return apiFail(c, http.StatusConflict, "bad_payload", "callback "+id+" cannot be read")
		}
		pl.Replay = true
		nid := pl.ID + "_replay_" + strconv.FormatInt(s.now().UnixNano(), 36)
		if err := s.enqueue(c.Request().Context(), pl, nid); err != nil {
			s.log.ErrorContext(c.Request().Context(), "api: replay callback", "error", err)
			return apiFail(c, http.StatusServiceUnavailable, "unavailable", "queueing the replay failed; try again")
		}
		return c.JSON(http.StatusAccepted, map[string]any{"id": nid, "webhook_id": pl.ID, "status": "pending"})
	default:
		return apiFail(c, http.StatusConflict, "in_flight", "callback "+id+" is "+info.State.String()+": it is being delivered already")
	}
}
