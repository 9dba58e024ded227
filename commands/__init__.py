"""The write side: command messages and the application services that carry them out.

    messages      what a caller asks for, in the imperative (`CreateTicket`, `EditTicket`, …)
    base          the event store (`Trail`) and `Service`: load → decide → save, retry on a
                  concurrent conflict, claims on unique names
    accounts      registration, log in, the caller as it is now, user changes, password reset
    projects      create, revise, archive
    tickets       create, edit, assign, comment
    links         link two tickets and unlink them (one fact, both tickets, one save)
    teams         form, rename, change the lead, set the members (recorded on the users too)
    ticket_refs   what ticket commands read of other aggregates: parents, teams, blockers
    serial        one decision at a time about a graph spanning tickets (no cycles)
    attachments   add a file (its bytes first, then the event) and remove it
    permissions   who may do what (roles); who may see a ticket is `domain.visibility`
    credentials   password hashes and reset tokens: secrets, kept out of the log
    numbering     ticket numbers per project
    services      the services assembled (`build_commands`)
    errors        the layer's errors; the API maps them to HTTP in one place

It imports `domain/`, `eventlog/`, eventsourcing and psycopg; never `projections/` or HTTP.
"""
