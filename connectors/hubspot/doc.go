// Package hubspot is Handoff's HubSpot API client: OAuth install and token
// refresh per portal, the reads the enricher needs, and the task writes of
// a handoff. The HubSpot API facts it relies on, with their public
// sources, are in docs/crm/hubspot.md.
//
// # Tenants and tokens
//
// A tenant is a portal (hub) id. OAuth tokens live in the encrypted token
// store; a token expiring within 60 s is refreshed first, once per portal
// across processes (a local mutex, then the store's Redis lock, then a
// re-read). invalid_grant / BAD_REFRESH_TOKEN marks the portal as needing
// re-authorization and yields *handoff.AuthError{Refreshable: false}. A
// 401 leads to one forced refresh and one retry. HUBSPOT_PRIVATE_APP_TOKEN
// with HUBSPOT_PORTAL_ID serves that one portal with a static token.
//
// # Calls per Profile
//
// Cold, for a contact with one company and two deals: 3 calls — the
// contact read with associations=companies,deals, the company read, and a
// batch read of the deals (the last two run in parallel). Deal probability
// and closed/won come from HubSpot's calculated deal properties
// (hs_deal_stage_probability, hs_is_closed, hs_is_closed_won; UNCONFIRMED
// in the doc, requested explicitly). When they are missing, the pipelines
// API is read once per portal per HUBSPOT_PIPELINE_CACHE_TTL (4 calls cold,
// 3 warm); when the pipelines are cached (WarmPipelines) stage labels are
// filled too.
//
// # Idempotency marker
//
// HubSpot has no idempotency key (docs/crm/hubspot.md). The handoff id is written as a
// "Handoff ID: <id>" line at the end of hs_task_body, and, when
// HUBSPOT_HANDOFF_ID_PROPERTY names a custom task property created in the
// portal, in that property. FindTask searches (EQ on the property, else
// CONTAINS_TOKEN on the body, confirmed by an exact match). Search is
// eventually consistent, so the pipeline keeps its own handoff → task
// record and uses FindTask as the fallback.
//
// # Errors
//
// 429 → *handoff.RateLimitError (Retry-After seconds when sent; else by
// policyName: TEN_SECONDLY_ROLLING the window length, DAILY (or a "daily
// limit" message without policyName) one hour,
// secondly (search) one second); 423/477 → RateLimitError; 401 → refresh
// once, then AuthError; 404 / OBJECT_NOT_FOUND → handoff.ErrNotFound;
// 5xx and network errors → *handoff.TransientError; other 4xx
// (VALIDATION_ERROR, 403 MISSING_SCOPES …) → *handoff.PermanentError.
// The client-side limiter (HUBSPOT_RATE_LIMIT, HUBSPOT_SEARCH_RATE_LIMIT)
// refuses before calling HubSpot. Tokens, secrets and emails never appear
// in errors or logs.
package hubspot
