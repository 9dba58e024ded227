-- `GET /events?actor_id=`: what one user did, in log order, read through an index instead of
-- decoding every event's JSON. The actor is inside each event's stored JSON (`state`, bytea);
-- the function reads it out, and the index keeps (actor, position) pairs.
--
-- IMMUTABLE is true here: UTF-8 decoding and the JSON path depend on nothing but the bytes.
-- A state without a well-formed `actor_id` gives NULL, never an error, so no insert can fail
-- because of this index.

CREATE OR REPLACE FUNCTION trail_event_actor(state bytea) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN actor ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                THEN actor::uuid END
    FROM (SELECT convert_from(state, 'UTF8')::jsonb ->> 'actor_id' AS actor) AS s
$$;

CREATE INDEX IF NOT EXISTS trail_events_by_actor
    ON trail_events (trail_event_actor(state), notification_id);
