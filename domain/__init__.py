"""The domain: every rule of the tracker, pure (no clock, no ids made here, no I/O).

    ticket, ticket_events   the Ticket aggregate and its events (`Ticket.StatusChanged`, …)
    project, user, claim    the other aggregates; a Claim makes a name unique on the write side
    team                    a Team: members see its tickets, its lead works them
    links                   link types, how each end sees a link, the blocking and parent cycles
    values                  value types and the field rules of the contract
    visibility              who may see a ticket: the one rule every other layer translates
    history                 what an event changed, `{field: {from, to}}`, as auditors read it
    stamped                 the aggregate base: every event says who, which command, and when
    errors                  the domain's error hierarchy

It imports only the standard library, `eventsourcing.domain` and msgspec.
"""
