"""The API's front page and its tags in the OpenAPI schema, for SPECTACULAR_SETTINGS.

Plain text, no imports: the settings read it. Written for the API's callers, from the contract
(sections 0, 2-5, 7, 8, 10); each operation's own text is on its view (`extend_schema`).
"""

API_DESCRIPTION = """\
Loopback closes three loops between your software and people:

* **widget** (`/v1`): a chat runtime proposes an action to a website visitor (a contact form, a
  newsletter sign-up, a booking), the visitor's browser carries it out and posts the outcome.
* **notifications** (`/api/v1`): a service asks a person a question; the person answers with
  their token (or in the inbox at `/inbox/`) and the service gets a signed webhook.
* **actions** (`/actions`): a service registers a URL and triggers it with a decision; Loopback
  sends the signed request and says what happened.
* **delivery** (`/api/v1/webhook-events`): a service reads and replays the webhooks sent to it.

### Credentials
Every call but two (the visitor's result post and `POST /api/v1/client/token`) carries
`Authorization: Bearer <secret>`:

| credential | prefix | held by | calls |
|---|---|---|---|
| service key | `sk_` | the machine owning bots, notifications, actions | every other route |
| user token | `ut_` | a person who answers notifications | `/api/v1/client/...` |

Both are shown once when created and stored only as a hash; both can be revoked. A service sees
only what it owns: anything owned by another service answers exactly as if it did not exist (404).

### Conventions
* Bodies are JSON objects sent as `application/json`, at most 64 KiB. Anything else is refused
  (400, or 413 when too large, 415 for another content type); `NaN`, `Infinity` and a lone
  UTF-16 surrogate are not JSON.
* Ids are UUIDs unless stated; timestamps are RFC 3339 in UTC with a `Z` suffix.
* Every answer carries `X-Request-ID`: yours echoed when it matches `[A-Za-z0-9._-]{1,128}`,
  else a new one. Quote it when you report a problem: our log line for the request has it.
* Each family keeps its own casing and error body; every error under a family's prefix uses that
  body, an unknown route (404) or method (405) included, never an HTML page:

  * widget (camelCase): `{"error": {"code": "NOT_FOUND", "message": "..."}}`
  * notifications and delivery (snake_case):
    `{"error": {"code": "NOTIFICATION_EXPIRED", "message": "...", "details": {...}}}`
    (`details` optional)
  * actions (snake_case):
    `{"error": {"type": "not_found", "message": "...", "location": null, "suggestion": null}}`

Branch on `code` (or `type`), never on `message`.

### What Loopback sends you
Webhooks and triggered actions are JSON POSTs signed per
[Standard Webhooks](https://www.standardwebhooks.com/): `webhook-id` (the same across retries
and replays of one event), `webhook-timestamp` and `webhook-signature` (`v1,` + base64
HMAC-SHA256 of `id.timestamp.body` with your `whsec_` secret), so a Standard Webhooks library
verifies them unchanged. Only a 2xx answer counts; redirects are not followed.
"""

TAGS = [
    {
        "name": "widget",
        "description": """\
Widget actions (`/v1`, camelCase). A bot belongs to your service and has an allowlist of target
URLs. Your chat runtime (service key) records a proposal; the visitor's browser carries it out
and posts the outcome to the public result route, which needs no credential, answers any origin
(CORS) and takes at most 5 posts an hour per bot and visitor. Exactly one result is recorded per
execution. The `params` of contact forms and newsletter sign-ups are masked once the result is
in; an execution left pending expires (the operator's `expire_executions`, e.g. after 24 h) and
its `params` are masked then. A visitor can be erased altogether.

Allowlist patterns: `https://example.com` (that origin, any path), `https://example.com/contact`
(that origin, `/contact` and below, not `/contactus`), `https://*.example.com` (any subdomain,
not the apex). Scheme, host and port must match; a target with `user@` in it never matches.

Errors: `{"error": {"code", "message"}}`; 401 `UNAUTHENTICATED` without a valid service key.""",
    },
    {
        "name": "notifications",
        "description": """\
Decisions by people (`/api/v1`, snake_case). Your service (service key) creates a notification:
a question for one or more people with 1 to 10 actions, each of one response type (see *Create a
notification* for the table), an optional deadline with an optional default outcome, and an
optional escalation. A recipient (user token from `POST /api/v1/client/token`) reads it and
answers; the first answer wins and every later one is refused. The answer reaches your service
as a signed `notification.responded` webhook, stored with the answer in one transaction, so it
is sent at least once (see the *delivery* tag).

Webhooks: `notification.responded` `{"type", "notification_id", "action_id", "response_data",
"responded_at", "responder": {"id", "username"} or null, "defaulted", "metadata"}`,
`notification.expired` `{"type", "notification_id", "expired_at", "metadata"}`,
`notification.escalated` `{"type", "notification_id", "escalated_at", "recipients", "metadata"}`.

Errors: `{"error": {"code", "message", "details"?}}`; every 401 is `AUTH_INVALID_TOKEN`.""",
    },
    {
        "name": "actions",
        "description": """\
Triggered actions (`/actions`, snake_case). Your service (service key) registers an action, a
target URL with a rule for which decisions fire it (`fire_on`), then triggers it with a decision.
Loopback sends the signed request and answers with an ActionResult: `skipped`, `would_trigger`
(a dry run), `triggered` (the target answered 2xx in time) or `failed` (with the reason in
`error`). An `Idempotency-Key` makes a retry within 24 hours return the first result without
sending again.

Errors: exactly `{"error": {"type", "message", "location", "suggestion"}}`: `location` names the
field (`body.decision`), `suggestion` says what would be accepted. Types: `syntax_error`,
`type_error`, `parameter_error` (400), `auth_error` (401), `not_found` (404, also an unknown route
or method), `conflict` (409), `bounds_exceeded` (413), `rate_limit_exceeded` (429, with
`Retry-After`).""",
    },
    {
        "name": "delivery",
        "description": """\
The delivery log (`/api/v1/webhook-events`, service key, your own events only). Every webhook
Loopback owes your service is an event: stored with what caused it, sent by the delivery workers
and retried after about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (a `Retry-After` is honoured
within reason) before it is `failed`. Every attempt is recorded. Read the log, replay one event or
every failed (or delivered) one since a moment, all under their original `webhook-id`, and rotate
the secret they are signed with. Payloads may be purged after a retention period
(`RETAIN_WEBHOOK_PAYLOADS`, 30 days by default); a purged event shows `payload: null` and cannot
be replayed.

Errors: the notifications family's body, `{"error": {"code", "message", "details"?}}`.""",
    },
]
