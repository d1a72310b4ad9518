/// The OpenAPI 3.1 document of the service (`GET /openapi.yaml`): the route table of DESIGN.md,
/// "The ledger service". A test checks that every route the router serves is here and that every
/// path and method here is served.
enum OpenAPIDocument {
    static let yaml = #"""
openapi: 3.1.0
info:
  title: Burnrate ledger service
  version: "1"
  description: >-
    A prepaid-credit ledger over HTTP. Amounts are decimal strings of credits (at most six
    decimals). Every POST needs an Idempotency-Key header (1-255 characters): a repeat with the same
    key and request is answered with the first response and `Idempotent-Replayed: true`, the same key
    with a different request is 422, a repeat while the first is in flight is 409. A success is sent
    only once its command is durable. Errors are RFC 9457 problems with the ledger's refusal code as
    `reason`; identity is checked before balance (403 before 402). A command that could not be
    committed is 503 `storage_failure` with Retry-After, never a refusal: retry it with the same
    Idempotency-Key (on a PostgreSQL ledger, on any instance).
servers:
  - url: http://127.0.0.1:8080
security:
  - bearer: []
paths:
  /healthz:
    get:
      summary: Alive
      security: []
      responses:
        "200": { description: The process answers., content: { application/json: { schema: { $ref: "#/components/schemas/Status" } } } }
  /readyz:
    get:
      summary: The journal is open and recovered
      security: []
      responses:
        "200": { description: Ready., content: { application/json: { schema: { $ref: "#/components/schemas/Status" } } } }
  /metrics:
    get:
      summary: Prometheus text exposition
      security: []
      responses:
        "200": { description: "Requests by route and status, latency histogram, commits and batch sizes, pools' available credits.", content: { text/plain: { schema: { type: string } } } }
  /openapi.yaml:
    get:
      summary: This document
      security: []
      responses:
        "200": { description: OpenAPI 3.1., content: { application/yaml: { schema: { type: string } } } }
  /v1/pools:
    post:
      summary: Create a pool (admin)
      parameters: [{ $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/CreatePool" } } } }
      responses: { "201": { $ref: "#/components/responses/Accepted" }, "400": { $ref: "#/components/responses/Problem" }, "401": { $ref: "#/components/responses/Problem" }, "403": { $ref: "#/components/responses/Problem" }, "404": { $ref: "#/components/responses/Problem" }, "409": { $ref: "#/components/responses/Problem" }, "422": { $ref: "#/components/responses/Problem" } }
  /v1/identities:
    post:
      summary: Create an identity entitled to pools (admin)
      parameters: [{ $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/CreateIdentity" } } } }
      responses: { "201": { $ref: "#/components/responses/Accepted" }, "400": { $ref: "#/components/responses/Problem" }, "401": { $ref: "#/components/responses/Problem" }, "403": { $ref: "#/components/responses/Problem" }, "404": { $ref: "#/components/responses/Problem" }, "409": { $ref: "#/components/responses/Problem" }, "422": { $ref: "#/components/responses/Problem" } }
  /v1/identities/{identity}/suspend:
    post:
      summary: Suspend an identity (admin)
      parameters: [{ $ref: "#/components/parameters/Identity" }, { $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { content: { application/json: { schema: { $ref: "#/components/schemas/Empty" } } } }
      responses: { "200": { $ref: "#/components/responses/Accepted" }, "400": { $ref: "#/components/responses/Problem" }, "401": { $ref: "#/components/responses/Problem" }, "403": { $ref: "#/components/responses/Problem" }, "404": { $ref: "#/components/responses/Problem" }, "409": { $ref: "#/components/responses/Problem" }, "422": { $ref: "#/components/responses/Problem" } }
  /v1/identities/{identity}/resume:
    post:
      summary: Resume a suspended identity (admin)
      parameters: [{ $ref: "#/components/parameters/Identity" }, { $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { content: { application/json: { schema: { $ref: "#/components/schemas/Empty" } } } }
      responses: { "200": { $ref: "#/components/responses/Accepted" }, "400": { $ref: "#/components/responses/Problem" }, "401": { $ref: "#/components/responses/Problem" }, "403": { $ref: "#/components/responses/Problem" }, "404": { $ref: "#/components/responses/Problem" }, "409": { $ref: "#/components/responses/Problem" }, "422": { $ref: "#/components/responses/Problem" } }
  /v1/identities/{identity}/revoke:
    post:
      summary: Revoke an identity for good (admin)
      parameters: [{ $ref: "#/components/parameters/Identity" }, { $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { content: { application/json: { schema: { $ref: "#/components/schemas/Empty" } } } }
      responses: { "200": { $ref: "#/components/responses/Accepted" }, "400": { $ref: "#/components/responses/Problem" }, "401": { $ref: "#/components/responses/Problem" }, "403": { $ref: "#/components/responses/Problem" }, "404": { $ref: "#/components/responses/Problem" }, "409": { $ref: "#/components/responses/Problem" }, "422": { $ref: "#/components/responses/Problem" } }
  /v1/identities/{identity}/entitlements:
    post:
      summary: Replace an identity's entitlement on a pool (admin)
      parameters: [{ $ref: "#/components/parameters/Identity" }, { $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Entitle" } } } }
      responses: { "200": { $ref: "#/components/responses/Accepted" }, "400": { $ref: "#/components/responses/Problem" }, "401": { $ref: "#/components/responses/Problem" }, "403": { $ref: "#/components/responses/Problem" }, "404": { $ref: "#/components/responses/Problem" }, "409": { $ref: "#/components/responses/Problem" }, "422": { $ref: "#/components/responses/Problem" } }
  /v1/pools/{pool}/grants:
    post:
      summary: Fund a pool with a grant (admin)
      parameters: [{ $ref: "#/components/parameters/Pool" }, { $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Grant" } } } }
      responses: { "201": { $ref: "#/components/responses/Accepted" }, "400": { $ref: "#/components/responses/Problem" }, "401": { $ref: "#/components/responses/Problem" }, "403": { $ref: "#/components/responses/Problem" }, "404": { $ref: "#/components/responses/Problem" }, "409": { $ref: "#/components/responses/Problem" }, "422": { $ref: "#/components/responses/Problem" } }
  /v1/debits:
    post:
      summary: Debit a pool as an identity
      parameters: [{ $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Debit" } } } }
      responses: { "201": { $ref: "#/components/responses/Accepted" }, "400": { $ref: "#/components/responses/Problem" }, "401": { $ref: "#/components/responses/Problem" }, "402": { $ref: "#/components/responses/Problem" }, "403": { $ref: "#/components/responses/Problem" }, "404": { $ref: "#/components/responses/Problem" }, "409": { $ref: "#/components/responses/Problem" }, "422": { $ref: "#/components/responses/Problem" } }
  /v1/holds:
    post:
      summary: Authorize (hold) credits before a model or tool call
      parameters: [{ $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Authorize" } } } }
      responses: { "201": { $ref: "#/components/responses/Accepted" }, "400": { $ref: "#/components/responses/Problem" }, "401": { $ref: "#/components/responses/Problem" }, "402": { $ref: "#/components/responses/Problem" }, "403": { $ref: "#/components/responses/Problem" }, "404": { $ref: "#/components/responses/Problem" }, "409": { $ref: "#/components/responses/Problem" }, "422": { $ref: "#/components/responses/Problem" } }
  /v1/holds/{hold}/capture:
    post:
      summary: Capture a hold (its identity only)
      parameters: [{ $ref: "#/components/parameters/Hold" }, { $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Capture" } } } }
      responses: { "200": { $ref: "#/components/responses/Accepted" }, "400": { $ref: "#/components/responses/Problem" }, "401": { $ref: "#/components/responses/Problem" }, "402": { $ref: "#/components/responses/Problem" }, "403": { $ref: "#/components/responses/Problem" }, "404": { $ref: "#/components/responses/Problem" }, "409": { $ref: "#/components/responses/Problem" }, "422": { $ref: "#/components/responses/Problem" } }
  /v1/holds/{hold}/release:
    post:
      summary: Release a hold (its identity only)
      parameters: [{ $ref: "#/components/parameters/Hold" }, { $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { content: { application/json: { schema: { $ref: "#/components/schemas/Release" } } } }
      responses: { "200": { $ref: "#/components/responses/Accepted" }, "400": { $ref: "#/components/responses/Problem" }, "401": { $ref: "#/components/responses/Problem" }, "403": { $ref: "#/components/responses/Problem" }, "404": { $ref: "#/components/responses/Problem" }, "409": { $ref: "#/components/responses/Problem" }, "422": { $ref: "#/components/responses/Problem" } }
  /v1/delegations:
    post:
      summary: Delegate part of the identity's budget to a child identity (from a pool, or from a delegation it holds)
      parameters: [{ $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/Delegate" } } } }
      responses: { "201": { $ref: "#/components/responses/Accepted" }, "400": { $ref: "#/components/responses/Problem" }, "401": { $ref: "#/components/responses/Problem" }, "402": { $ref: "#/components/responses/Problem" }, "403": { $ref: "#/components/responses/Problem" }, "404": { $ref: "#/components/responses/Problem" }, "409": { $ref: "#/components/responses/Problem" }, "422": { $ref: "#/components/responses/Problem" } }
  /v1/delegations/{delegation}/close:
    post:
      summary: Close a delegation and everything below it (a delegator on its chain, or an admin)
      parameters: [{ $ref: "#/components/parameters/Delegation" }, { $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { content: { application/json: { schema: { $ref: "#/components/schemas/Release" } } } }
      responses: { "200": { $ref: "#/components/responses/Accepted" }, "400": { $ref: "#/components/responses/Problem" }, "401": { $ref: "#/components/responses/Problem" }, "403": { $ref: "#/components/responses/Problem" }, "404": { $ref: "#/components/responses/Problem" }, "409": { $ref: "#/components/responses/Problem" }, "422": { $ref: "#/components/responses/Problem" } }
  /v1/pools/{pool}/balance:
    get:
      summary: A pool's balance (admin, or an identity entitled to the pool)
      parameters: [{ $ref: "#/components/parameters/Pool" }]
      responses:
        "200": { description: The balance., content: { application/json: { schema: { $ref: "#/components/schemas/Balance" } } } }
        "401": { $ref: "#/components/responses/Problem" }
        "403": { $ref: "#/components/responses/Problem" }
        "404": { $ref: "#/components/responses/Problem" }
  /v1/pools/{pool}/statement:
    get:
      summary: A pool's movements in journal order (as balance)
      parameters:
        - { $ref: "#/components/parameters/Pool" }
        - { name: after, in: query, description: Lines after this journal sequence number., schema: { type: integer, minimum: 0 } }
        - { name: limit, in: query, description: At most this many lines (default 100)., schema: { type: integer, minimum: 1, maximum: 1000 } }
      responses:
        "200": { description: The statement., content: { application/json: { schema: { $ref: "#/components/schemas/Statement" } } } }
        "400": { $ref: "#/components/responses/Problem" }
        "401": { $ref: "#/components/responses/Problem" }
        "403": { $ref: "#/components/responses/Problem" }
        "404": { $ref: "#/components/responses/Problem" }
  /v1/keys:
    post:
      summary: Issue an API key (admin); the secret is shown once
      parameters: [{ $ref: "#/components/parameters/IdempotencyKey" }]
      requestBody: { required: true, content: { application/json: { schema: { $ref: "#/components/schemas/CreateKey" } } } }
      responses:
        "201": { description: The key; only a hash of the secret is kept., content: { application/json: { schema: { $ref: "#/components/schemas/IssuedKey" } } } }
        "400": { $ref: "#/components/responses/Problem" }
        "401": { $ref: "#/components/responses/Problem" }
        "403": { $ref: "#/components/responses/Problem" }
        "404": { $ref: "#/components/responses/Problem" }
        "409": { $ref: "#/components/responses/Problem" }
        "422": { $ref: "#/components/responses/Problem" }
  /v1/keys/{key_id}:
    delete:
      summary: Revoke an API key (admin)
      parameters: [{ name: key_id, in: path, required: true, schema: { type: string } }]
      responses:
        "200": { description: Revoked (again, if it was)., content: { application/json: { schema: { $ref: "#/components/schemas/RevokedKey" } } } }
        "401": { $ref: "#/components/responses/Problem" }
        "403": { $ref: "#/components/responses/Problem" }
        "404": { $ref: "#/components/responses/Problem" }
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer, description: "A secret from `burnrate ledger key create` or POST /v1/keys: brk_<key id>_<43 characters>." }
  parameters:
    IdempotencyKey: { name: Idempotency-Key, in: header, required: true, schema: { type: string, minLength: 1, maxLength: 255 } }
    Pool: { name: pool, in: path, required: true, schema: { $ref: "#/components/schemas/Name" } }
    Identity: { name: identity, in: path, required: true, schema: { $ref: "#/components/schemas/Name" } }
    Hold: { name: hold, in: path, required: true, schema: { type: string, pattern: "^[0-9]+$" } }
    Delegation: { name: delegation, in: path, required: true, schema: { type: string, pattern: "^[0-9]+$" } }
  responses:
    Accepted:
      description: The command was accepted and is durable.
      headers: { Idempotent-Replayed: { description: "\"true\" on a replayed answer.", schema: { type: string, enum: ["true"] } } }
      content: { application/json: { schema: { $ref: "#/components/schemas/Acceptance" } } }
    Problem:
      description: An RFC 9457 problem.
      content: { application/problem+json: { schema: { $ref: "#/components/schemas/Problem" } } }
  schemas:
    Name: { type: string, pattern: "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$" }
    Credits:
      description: Credits as a decimal string ("0.25"), or an exact JSON number; at most six decimals.
      oneOf: [{ type: string, pattern: "^[0-9]+(\\.[0-9]{1,6})?$" }, { type: number, minimum: 0 }]
    Duration: { type: string, description: "A relative time: 30s, 15m, 1h, 90d." }
    Status: { type: object, properties: { status: { type: string } }, required: [status] }
    Empty: { type: object, additionalProperties: false }
    CreatePool:
      type: object
      additionalProperties: false
      required: [pool]
      properties: { pool: { $ref: "#/components/schemas/Name" }, parent: { $ref: "#/components/schemas/Name" }, policies: { type: array, items: { type: object } }, period: { $ref: "#/components/schemas/Duration" }, refill: { type: object }, environment: { $ref: "#/components/schemas/Name" } }
    CreateIdentity:
      type: object
      additionalProperties: false
      required: [identity]
      properties: { identity: { $ref: "#/components/schemas/Name" }, pools: { type: array, items: { $ref: "#/components/schemas/Name" } }, stop: { type: object }, environment: { $ref: "#/components/schemas/Name" } }
    Entitle:
      type: object
      additionalProperties: false
      required: [pool]
      properties: { pool: { $ref: "#/components/schemas/Name" }, tiers: { type: array, items: { type: integer, minimum: 0, maximum: 63 } }, cap: { $ref: "#/components/schemas/Credits" }, cap_period: { $ref: "#/components/schemas/Duration" }, rate_max: { type: integer, minimum: 1 }, rate_window: { $ref: "#/components/schemas/Duration" } }
    Grant:
      type: object
      additionalProperties: false
      required: [amount]
      properties: { amount: { $ref: "#/components/schemas/Credits" }, expires_in: { $ref: "#/components/schemas/Duration" }, effective_in: { $ref: "#/components/schemas/Duration" }, priority: { type: integer }, category: { type: string, enum: [paid, promotional, rollover] }, price: { $ref: "#/components/schemas/Credits" } }
    DelegationID: { description: "A delegation id from a delegate answer.", oneOf: [{ type: integer, minimum: 0 }, { type: string, pattern: "^[0-9]+$" }] }
    Debit:
      type: object
      additionalProperties: false
      description: Exactly one of pool and delegation (a delegation made to the identity).
      required: [amount]
      oneOf: [{ required: [pool] }, { required: [delegation] }]
      properties: { identity: { $ref: "#/components/schemas/Name", description: "Admin keys only: the identity acted for." }, pool: { $ref: "#/components/schemas/Name" }, delegation: { $ref: "#/components/schemas/DelegationID" }, amount: { $ref: "#/components/schemas/Credits" }, tier: { type: integer, minimum: 0, maximum: 63 } }
    Authorize:
      type: object
      additionalProperties: false
      description: Exactly one of pool and delegation (a delegation made to the identity).
      required: [amount]
      oneOf: [{ required: [pool] }, { required: [delegation] }]
      properties: { identity: { $ref: "#/components/schemas/Name" }, pool: { $ref: "#/components/schemas/Name" }, delegation: { $ref: "#/components/schemas/DelegationID" }, amount: { $ref: "#/components/schemas/Credits" }, tier: { type: integer, minimum: 0, maximum: 63 }, expires_in: { $ref: "#/components/schemas/Duration" } }
    Capture:
      type: object
      additionalProperties: false
      required: [amount]
      properties: { identity: { $ref: "#/components/schemas/Name" }, amount: { $ref: "#/components/schemas/Credits" }, delegation: { $ref: "#/components/schemas/DelegationID", description: "The delegation the hold was placed through (checked)." } }
    Delegate:
      type: object
      additionalProperties: false
      description: "From a pool (a root delegation, held on it under the identity's entitlement and the pool's policies) or from a delegation the identity holds (at most 4 levels deep). The child is created if it does not exist."
      required: [child, amount]
      oneOf: [{ required: [pool] }, { required: [delegation] }]
      properties: { identity: { $ref: "#/components/schemas/Name", description: "Admin keys only: the delegating identity." }, child: { $ref: "#/components/schemas/Name" }, pool: { $ref: "#/components/schemas/Name" }, delegation: { $ref: "#/components/schemas/DelegationID" }, amount: { $ref: "#/components/schemas/Credits" }, expires_in: { $ref: "#/components/schemas/Duration" } }
    Release:
      type: object
      additionalProperties: false
      properties: { identity: { $ref: "#/components/schemas/Name" } }
    Acceptance:
      type: object
      properties: { status: { type: string, enum: [accepted] }, seq: { type: integer }, charged_credits: { $ref: "#/components/schemas/Credits" }, hold: { type: string }, delegation: { type: integer }, released_credits: { $ref: "#/components/schemas/Credits" } }
      required: [status, seq]
    Balance:
      type: object
      required: [pool, total_credits, held_credits, available_credits]
      properties: { pool: { type: string }, total_credits: { type: string }, held_credits: { type: string }, available_credits: { type: string } }
    Statement:
      type: object
      required: [pool, lines, closing_credits]
      properties:
        pool: { type: string }
        closing_credits: { type: string, description: The pool account's balance after the last journal record. }
        next_after: { type: integer, description: "Present when more lines follow: pass it as `after`." }
        lines:
          type: array
          items:
            type: object
            required: [seq, at, counterparty, amount_credits, balance_credits]
            properties: { seq: { type: integer }, at: { type: string, format: date-time }, counterparty: { type: string }, amount_credits: { type: string }, balance_credits: { type: string }, grant: { type: integer } }
    CreateKey:
      type: object
      additionalProperties: false
      properties: { identity: { $ref: "#/components/schemas/Name" }, admin: { type: boolean }, expires_in: { $ref: "#/components/schemas/Duration" } }
    IssuedKey:
      type: object
      required: [key_id, secret]
      properties: { key_id: { type: string }, secret: { type: string }, identity: { type: string }, admin: { type: boolean }, expires_at: { type: string, format: date-time } }
    RevokedKey:
      type: object
      required: [key_id, status]
      properties: { key_id: { type: string }, status: { type: string, enum: [revoked] } }
    Problem:
      type: object
      required: [type, title, status, detail, reason]
      properties: { type: { type: string }, title: { type: string }, status: { type: integer }, detail: { type: string }, reason: { type: string }, field: { type: string }, available_credits: { type: string } }

"""#
}
