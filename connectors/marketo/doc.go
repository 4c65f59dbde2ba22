// Package marketo is the Adobe Marketo Engage REST client of Handoff: it
// reads leads (with their named account tier) and records handoffs. It
// serves the one instance configured by MARKETO_BASE_URL; its tenant is the
// munchkin id (the host's first label, or MARKETO_MUNCHKIN_ID) and any other
// tenant gets handoff.ErrNotInstalled.
//
// # Auth
//
// Client credentials against <base>/identity/oauth/token (or
// MARKETO_IDENTITY_URL + /oauth/token) with the documented request,
// GET ?grant_type=client_credentials&client_id=…&client_secret=…; if the
// endpoint refuses it (4xx), the POST form decides
// (golang.org/x/oauth2/clientcredentials, AuthStyleInParams). The token is cached in the shared, encrypted token
// store, so every process uses the same one, and replaced under the
// store's cross-process lock a minute before it expires. Requests carry it
// only as "Authorization: Bearer" (oauth2.Transport); never as the
// access_token query parameter, which Marketo has removed. Marketo answers
// HTTP 200 with success=false; on 600/601/602 the client drops the token,
// fetches a new one and retries once; a second rejection is an AuthError.
// HTTP 401 from the identity endpoint (bad client id/secret) is an
// AuthError with Refreshable=false.
//
// # Limits
//
// MARKETO_RATE_LIMIT (default 100/20s) feeds the shared GCRA limiter, keyed
// "marketo:<munchkin>", as a steady rate of 3/4 of the budget plus a burst
// of 1/4, so no 20 s window exceeds it; refusals under a second are waited
// out, longer ones return a RateLimitError without calling Marketo.
// MARKETO_CONCURRENCY (default 10) is a Redis
// semaphore with expiring leases shared by every process. 606 starts a
// cooldown, shared through Redis, for the rest of Marketo's 20 s window:
// until it ends calls fail fast with a RateLimitError carrying the time
// left. 615 (10 in flight) is a RateLimitError with a 2 s delay; 607 (daily
// quota) lasts until 12:00 AM CST. 604/608/611/713/719, HTTP 5xx and
// transport errors are TransientError; 1004/1013/702 wrap ErrNotFound;
// other 6xx/7xx/1xxx are PermanentError.
//
// # Handoffs (MARKETO_TASK_TARGET)
//
// Marketo has no task object. A handoff is:
//
//   - campaign:<campaignId>: Request Campaign
//     (POST /rest/v1/campaigns/{id}/trigger.json) for the lead with the
//     tokens from RenderTask. Set up in Marketo: a program with Text My
//     Tokens handoff_subject, handoff_body, handoff_owner_email, handoff_due,
//     handoff_priority and handoff_id; in it an active trigger campaign with
//     "Campaign is Requested, Source: Web Service API" whose flow has the
//     Salesforce (or Dynamics) "Create Task" step: Subject
//     {{my.handoff_subject}}, Comments {{my.handoff_body}}, owner
//     assigned from {{my.handoff_owner_email}} (e.g. a "Change Owner" step
//     or a choice per owner), Due In as the program needs. Set the
//     campaign's qualification rules to "every time". Do not put the
//     campaign in a nested program (611 with tokens).
//   - activity: only the custom activity below is logged; the pipeline
//     creates the task in the synced CRM through that CRM's connector.
//
// Each write of a handoff (the campaign request, then the activity) is a
// step recorded in Redis (steps.go): a retry after an error on any later
// call (606 on the activity, on a token refresh ...) resumes after the last
// step known to be done and never requests the campaign twice; such an
// error is marked handoff.PartlyWritten. An answer lost after the campaign
// request went out counts as "it may have run" (at most once).
//
// In both cases a custom activity is logged on the lead
// (POST /rest/v1/activities/external.json). Create and approve the type
// first, and set MARKETO_ACTIVITY_TYPE_ID to its id:
//
//	name "Handoff", primary attribute "Handoff ID" (string) = the handoff id
//	secondary attributes (apiName, type): handoffKind string
//	(created|update|reassign), ownerEmail string, priority string, subject
//	string, due string (RFC 3339), note text
//
// FindTask looks that activity up (paging token, then Get Lead Activities
// filtered by the type and, thanks to a hint kept in Redis at creation, by
// the lead). Task ids are markers "<leadId>:<unix>:<handoffId>". GetTask
// reports State TaskUnknown: Marketo cannot read the CRM task, so SLA
// tracking for Marketo handoffs relies on the synced CRM. AppendToTask and
// ReassignTask add "update"/"reassign" activities (custom activities cannot
// be edited); ReassignTask also re-requests the campaign with the new
// owner's email so the flow creates the task for them.
//
// # Owners
//
// Marketo exposes no sales-owner directory. OwnerByEmail returns the email
// itself as the Owner id (no API call); it travels in
// {{my.handoff_owner_email}}. Profile reports sfdcLeadOwnerId as the
// contact owner id, and the email from MARKETO_OWNER_EMAIL_FIELD when set
// (the standard Lead Owner fields have no REST API name).
//
// # Profile
//
// One call for the lead (GET /rest/v1/lead/{id}.json or leads.json with
// filterType=email), one for its Named Account by company name when the
// tier lives there (MARKETO_TIER_FIELD=namedaccount:<field>; leads cannot be
// linked to named accounts through the API), and, only when
// MARKETO_CRM_SYNCED=false, two for opportunity roles and opportunities
// (with CRM sync, read deals in the CRM).
package marketo
