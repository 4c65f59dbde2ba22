package marketo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/crmhttp"
)

// A handoff is two Marketo writes: Request Campaign (its flow creates the
// task in the synced CRM) and the handoff activity. Each write is a step
// recorded in Redis, so a retry resumes after the last step known to be
// done: a rate limit (or any error) on the activity call, the token call,
// or anything after the campaign request never requests the campaign
// again, since every run of its flow is one more CRM task.
//
// The record is a hash per operation and handoff:
//
//	lead, at   the lead and the activity time chosen by the first attempt
//	campaign   "sent" just before the request, "done" after its answer
//
// "sent" without "done" means the answer was lost (a timeout or a reset
// after the request went out, an unreadable 200): the
// campaign may have run, so it is not requested again (at most once); the
// activity notes it.
const (
	stepLead     = "lead"
	stepAt       = "at"
	stepCampaign = "campaign"
	campaignSent = "sent"
	campaignDone = "done"
)

// Unconfirmed lists, in one place, what the steps and errors of this
// package assume beyond Marketo's published documentation
// (docs/crm/marketo.md holds the documented facts and their sources):
//   - the identity endpoint may refuse a token request with the REST
//     envelope (HTTP 200, success=false, e.g. 606); the documentation shows
//     only HTTP 401 there, so such an answer is mapped like a REST error;
//   - an HTTP 502 (documented as "retry with backoff") means the request
//     did not run, so a campaign request that got one is made again;
//   - no documented read tells whether a campaign request ran, so an answer
//     lost after the request went out is taken as "it may have run".
const Unconfirmed = "identity envelope errors; 502 did not run; no read-back of a campaign request"

// steps is the recorded progress of one multi-call write.
type steps struct {
	c   *Client
	key string
	v   map[string]string
}

// loadSteps reads the steps recorded for op (e.g. "create") of a handoff.
// A Redis failure is a TransientError before anything is written.
func (c *Client) loadSteps(ctx context.Context, op, handoffID string) (*steps, error) {
	key := c.prefix + "steps:" + op + ":" + handoffID
	v, err := c.d.Redis.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, &handoff.TransientError{CRM: crm, Err: fmt.Errorf("read the recorded steps of handoff %s: %w", handoffID, err)}
	}
	return &steps{c: c, key: key, v: v}, nil
}

func (s *steps) get(f string) string { return s.v[f] }

// set records fields (name, value pairs) for hintTTL.
func (s *steps) set(ctx context.Context, kv ...string) error {
	args := make([]any, len(kv))
	for i, x := range kv {
		args[i] = x
	}
	pipe := s.c.d.Redis.TxPipeline()
	pipe.HSet(ctx, s.key, args...)
	pipe.Expire(ctx, s.key, hintTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return &handoff.TransientError{CRM: crm, Err: fmt.Errorf("record step %s: %w", kv[0], err)}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		s.v[kv[i]] = kv[i+1]
	}
	return nil
}

// place returns the lead and time an earlier attempt recorded, if any.
func (s *steps) place() (int64, time.Time, bool) {
	lid, e1 := strconv.ParseInt(s.get(stepLead), 10, 64)
	sec, e2 := strconv.ParseInt(s.get(stepAt), 10, 64)
	if e1 != nil || e2 != nil {
		return 0, time.Time{}, false
	}
	return lid, time.Unix(sec, 0).UTC(), true
}

// campaignRequested says a campaign request of this operation was sent
// (done, or its answer lost).
func (s *steps) campaignRequested() bool { return s.get(stepCampaign) != "" }

// requestCampaignOnce requests the campaign unless an earlier attempt did
// (or may have), and returns the note for the activity. An error after the
// request may have run is marked handoff.PartlyWritten.
func (c *Client) requestCampaignOnce(ctx context.Context, st *steps, campaignID int, leadID int64, tokens TaskTokens) (string, error) {
	note := fmt.Sprintf("requested campaign %d", campaignID)
	switch st.get(stepCampaign) {
	case campaignDone:
		return note, nil
	case campaignSent:
		c.log.WarnContext(ctx, "marketo campaign request answer was lost earlier; not requesting it again", "campaign", campaignID, "lead", leadID)
		return note + " (the answer to the request was lost; it is not requested twice: check that the CRM task exists)", nil
	}
	if err := st.set(ctx, stepCampaign, campaignSent); err != nil {
		return "", err // nothing sent
	}
	if err := c.trigger(ctx, campaignID, leadID, tokens); err != nil {
		if mayHaveRun(err) {
			return "", handoff.PartlyWritten(err)
		}
		// Marketo answered that the request did not run (6xx/7xx/1xxx in
		// the envelope), or it was never sent: the next attempt requests it.
		if derr := c.d.Redis.HDel(context.WithoutCancel(ctx), st.key, stepCampaign).Err(); derr != nil {
			c.log.ErrorContext(ctx, "marketo campaign request failed and its step could not be cleared; it will not be requested again", "campaign", campaignID, "err", derr)
		}
		return "", err
	}
	if err := st.set(context.WithoutCancel(ctx), stepCampaign, campaignDone); err != nil {
		// "sent" stays recorded: the campaign is not requested again either way.
		c.log.WarnContext(ctx, "marketo campaign requested but the step was not recorded as done", "campaign", campaignID, "err", err)
	}
	return note, nil
}

func mayHaveRun(err error) bool { return crmhttp.MayHaveRun(err) }
