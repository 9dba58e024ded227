"""The read side: read models built from the event log, and the queries the API answers from.

Queries take a psycopg `Connection` with `row_factory=dict_row` and read the stable public views
(`tickets`, `comments`, `ticket_history`, `users`, `projects`, `ticket_facts`). List queries
return `paging.Page[T]` (`items`, `next_cursor`) and raise `errors.InvalidQuery(field, message)`
for a bad `limit`, `sort` or `cursor`: answer 422 naming `field`.

    call (module.function)                                  answers
    ------------------------------------------------------  ---------------------------------
    tickets.list_tickets(conn, TicketFilters, Viewer,       GET /tickets
                         limit, cursor) -> Page[TicketView]
    tickets.get_ticket(conn, id, Viewer) -> TicketView|None GET /tickets/{id}; None is 404,
                                                            also for a ticket a reporter may
                                                            not see
    tickets.ticket_visible_to(conn, id, user_id) -> bool    /events/stream filtering
    comments.list_comments(conn, ticket_id, limit, cursor)  GET /tickets/{id}/comments
    comments.get_comment(conn, ticket_id, comment_id)       one comment (after POST/PATCH)
    history.ticket_history(conn, ticket_id, limit, cursor)  GET /tickets/{id}/history
    history.version_as_of(conn, ticket_id, moment)          ?as_of: the version to load
    users.list_users(conn, UserFilters, limit, cursor)      GET /users
    users.get_user(conn, user_id) -> UserView|None          GET /users/{id}, GET /me
    projects.list_projects(conn, ProjectFilters, limit,     GET /projects
                           cursor)
    projects.get_project(conn, id) -> ProjectView|None      GET /projects/{id}
    stats.stats(conn, StatsFilters) -> Stats                GET /stats
    positions.wait_for_position(conninfo_or_pool, names,    Trail-Min-Position: False after
                                n, timeout=5.0) -> bool     the timeout (answer 503)
    positions.projection_status(conninfo_or_pool)           GET /health "projections"
        -> {name: ProjectionStatus(position, lag)}

Projection names for `wait_for_position` (which read model a query reads): `tickets`,
`comments`, `history`, `users`, `projects`, `stats` (`catalog.BY_NAME`).

The writing half: `base` (extension points of a read model, used by the outbox too), `runner`
(`trail projector`), `rebuild` (`trail projections rebuild`), `versions` (blue/green switch).
"""
