"""Trail in a browser: server-rendered pages beside the API, in the same process.

    app        the routers `runtime/` mounts at `/` (pages, `/static`, the 404 page for browsers)
    site       the app's state for the process; every request's hook; pages, redirects, cookies
    visit      one request: its session, CSRF secret, form, last write, flash
    live       the session cookie as the credential of the API's `/ws`, for live pages
    notfound   the page for paths nothing answers, when a browser asks
    sessions   signed, expiring session cookies that a password reset or a sign-out ends
    csrf       the token every form and htmx request carries
    render     jinja2 templates and their filters
    forms      what a person typed, and the field errors to show next to each input
    timetravel a ticket's timeline and what any moment changed
    pages/     the routes, one module per area (the ticket page in several)

It uses `commands/` for every change and `projections/` (and the log) for every read, never
`api/`: the same rules answer both, and only `runtime/` imports this package.
"""
