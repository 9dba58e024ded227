"""Live updates: the WebSocket and SSE streams of an API process, served from one follower of
the log per process (any process serves any client: no sticky sessions).

    follower    the thread that reads each new event once and prepares its frames once
    hub         the recent slots in memory, the streams, and which slot concerns which stream
    audiences   who each ticket's events concern, as the ticket is now
    session     one stream's authority (from the log, as events pass), topics and frames
    stream      one stream's own loop: the ring, or the log when it is behind; in order
    subscribe   the `/ws` topics and what subscribing sends
    slots       an event or notifications with their frames encoded
"""
