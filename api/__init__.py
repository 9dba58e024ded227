"""The HTTP API (Litestar): the contract of ../shared/API.md.

    app           the application: routes, the error mapping, auth, bodies, OpenAPI
    routes/       one module per resource
    hooks         what runs before every handler: who is calling, are query and body acceptable
    bodies        JSON bodies checked field by field (every bad field named)
    errors        the one place that turns errors into problem+json answers
    reads         reading the read models after `Trail-Min-Position`
    responses     answers to commands, with `Trail-Position`, `Location`, `ETag`
    headers, paging, tokens, ratelimit, idempotency, docs   what their names say

It imports `commands/` (to act), `projections/` and `eventlog/` (to read); never `runtime/`,
which builds it (`runtime/bootstrap.py`), nor `workers/`.
"""
