-- The schema of a Trail database made before migrations existed (pg_dump --schema-only of a
-- database the previous release built: event store, credentials, ticket numbers, idempotency keys,
-- every read model at version 1 and the email outbox). tests/runtime/test_migrate.py upgrades it.


SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

CREATE SCHEMA rm_comments_v1;

CREATE SCHEMA rm_history_v1;

CREATE SCHEMA rm_outbox_v1;

CREATE SCHEMA rm_projects_v1;

CREATE SCHEMA rm_stats_v1;

CREATE SCHEMA rm_tickets_v1;

CREATE SCHEMA rm_users_v1;

CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;

COMMENT ON EXTENSION btree_gin IS 'support for indexing common datatypes in GIN';

CREATE TYPE public.stored_event_uuid AS (
	originator_id uuid,
	originator_version bigint,
	topic text,
	state bytea
);

CREATE FUNCTION public.es_insert_events_uuid(events public.stored_event_uuid[]) RETURNS SETOF bigint
    LANGUAGE plpgsql
    AS $$BEGIN    SET LOCAL lock_timeout = '0s';    NOTIFY "trail_events";    RETURN QUERY    INSERT INTO "public"."trail_events" AS t (    originator_id, originator_version, topic, state)    SELECT originator_id, originator_version, topic, state    FROM unnest(events)    RETURNING notification_id;END;$$;

SET default_tablespace = '';

SET default_table_access_method = heap;

CREATE TABLE public.api_idempotency_keys (
    caller text NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    status integer,
    headers jsonb,
    body bytea,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE rm_comments_v1.comments (
    id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    seq bigint NOT NULL,
    author_id uuid NOT NULL,
    body text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    edited_at timestamp with time zone
);

CREATE VIEW public.comments AS
 SELECT comments.id,
    comments.ticket_id,
    comments.seq,
    comments.author_id,
    comments.body,
    comments.created_at,
    comments.edited_at
   FROM rm_comments_v1.comments;

CREATE TABLE public.credentials (
    user_id uuid NOT NULL,
    password_hash text NOT NULL,
    changed_at timestamp with time zone NOT NULL
);

CREATE TABLE rm_outbox_v1.outbox (
    seq bigint NOT NULL,
    id uuid NOT NULL,
    command_id uuid NOT NULL,
    recipient_id uuid NOT NULL,
    kind text NOT NULL,
    ticket_id uuid,
    "position" bigint,
    recipient_email text NOT NULL,
    subject text NOT NULL,
    payload jsonb NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    queued_at timestamp with time zone,
    sent_at timestamp with time zone,
    CONSTRAINT outbox_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'queued'::text, 'sent'::text, 'failed'::text])))
);

CREATE VIEW public.outbox AS
 SELECT outbox.seq,
    outbox.id,
    outbox.command_id,
    outbox.recipient_id,
    outbox.kind,
    outbox.ticket_id,
    outbox."position",
    outbox.recipient_email,
    outbox.subject,
    outbox.payload,
    outbox.status,
    outbox.attempts,
    outbox.last_error,
    outbox.created_at,
    outbox.next_attempt_at,
    outbox.queued_at,
    outbox.sent_at
   FROM rm_outbox_v1.outbox;

CREATE TABLE rm_outbox_v1.outbox_projects (
    id uuid NOT NULL,
    key text NOT NULL
);

CREATE VIEW public.outbox_projects AS
 SELECT outbox_projects.id,
    outbox_projects.key
   FROM rm_outbox_v1.outbox_projects;

CREATE TABLE rm_outbox_v1.outbox_tickets (
    id uuid NOT NULL,
    project_id uuid NOT NULL,
    number integer NOT NULL,
    title text NOT NULL,
    assignee_ids uuid[] NOT NULL,
    last_command_id uuid NOT NULL
);

CREATE VIEW public.outbox_tickets AS
 SELECT outbox_tickets.id,
    outbox_tickets.project_id,
    outbox_tickets.number,
    outbox_tickets.title,
    outbox_tickets.assignee_ids,
    outbox_tickets.last_command_id
   FROM rm_outbox_v1.outbox_tickets;

CREATE TABLE rm_outbox_v1.outbox_users (
    id uuid NOT NULL,
    name text NOT NULL,
    email text NOT NULL,
    active boolean NOT NULL
);

CREATE VIEW public.outbox_users AS
 SELECT outbox_users.id,
    outbox_users.name,
    outbox_users.email,
    outbox_users.active
   FROM rm_outbox_v1.outbox_users;

CREATE TABLE public.password_reset_tokens (
    token_digest text NOT NULL,
    user_id uuid NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone
);

CREATE TABLE rm_projects_v1.project_tickets (
    ticket_id uuid NOT NULL,
    project_id uuid NOT NULL
);

CREATE VIEW public.project_tickets AS
 SELECT project_tickets.ticket_id,
    project_tickets.project_id
   FROM rm_projects_v1.project_tickets;

CREATE TABLE public.projection_versions (
    name text NOT NULL,
    version integer NOT NULL,
    revision integer NOT NULL,
    "position" bigint NOT NULL,
    switched_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE rm_projects_v1.projects (
    id uuid NOT NULL,
    seq bigint NOT NULL,
    name text NOT NULL,
    key text NOT NULL,
    description text,
    archived boolean NOT NULL,
    open_tickets integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone
);

CREATE VIEW public.projects AS
 SELECT projects.id,
    projects.seq,
    projects.name,
    projects.key,
    projects.description,
    projects.archived,
    projects.open_tickets,
    projects.created_at,
    projects.updated_at
   FROM rm_projects_v1.projects;

CREATE TABLE rm_stats_v1.ticket_facts (
    ticket_id uuid NOT NULL,
    project_id uuid NOT NULL,
    status text NOT NULL,
    priority text NOT NULL,
    type text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    resolved_at timestamp with time zone
);

CREATE VIEW public.ticket_facts AS
 SELECT ticket_facts.ticket_id,
    ticket_facts.project_id,
    ticket_facts.status,
    ticket_facts.priority,
    ticket_facts.type,
    ticket_facts.created_at,
    ticket_facts.resolved_at
   FROM rm_stats_v1.ticket_facts;

CREATE TABLE rm_history_v1.ticket_history (
    ticket_id uuid NOT NULL,
    version integer NOT NULL,
    "position" bigint NOT NULL,
    type text NOT NULL,
    at timestamp with time zone NOT NULL,
    actor_id uuid NOT NULL,
    changes jsonb NOT NULL
);

CREATE VIEW public.ticket_history AS
 SELECT ticket_history.ticket_id,
    ticket_history.version,
    ticket_history."position",
    ticket_history.type,
    ticket_history.at,
    ticket_history.actor_id,
    ticket_history.changes
   FROM rm_history_v1.ticket_history;

CREATE TABLE public.ticket_numbers (
    project_id uuid NOT NULL,
    last_number integer NOT NULL
);

CREATE TABLE rm_tickets_v1.ticket_projects (
    id uuid NOT NULL,
    key text NOT NULL
);

CREATE VIEW public.ticket_projects AS
 SELECT ticket_projects.id,
    ticket_projects.key
   FROM rm_tickets_v1.ticket_projects;

CREATE TABLE rm_tickets_v1.tickets (
    id uuid NOT NULL,
    seq bigint NOT NULL,
    number integer NOT NULL,
    project_id uuid NOT NULL,
    project_key text NOT NULL,
    title text NOT NULL,
    description text,
    status text NOT NULL,
    priority text NOT NULL,
    type text NOT NULL,
    tags text[] NOT NULL,
    due_date date,
    reporter_id uuid NOT NULL,
    assignee_ids uuid[] NOT NULL,
    version integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone,
    comment_bodies jsonb NOT NULL,
    priority_rank smallint GENERATED ALWAYS AS (
CASE priority
    WHEN 'urgent'::text THEN 0
    WHEN 'high'::text THEN 1
    WHEN 'medium'::text THEN 2
    WHEN 'low'::text THEN 3
    ELSE NULL::integer
END) STORED,
    touched_at timestamp with time zone GENERATED ALWAYS AS (COALESCE(updated_at, created_at)) STORED,
    due_key date GENERATED ALWAYS AS (COALESCE(due_date, '9999-12-31'::date)) STORED,
    search tsvector GENERATED ALWAYS AS (((setweight(to_tsvector('english'::regconfig, title), 'A'::"char") || setweight(to_tsvector('english'::regconfig, COALESCE(description, ''::text)), 'B'::"char")) || setweight(jsonb_to_tsvector('english'::regconfig, comment_bodies, '["string"]'::jsonb), 'C'::"char"))) STORED
);

CREATE VIEW public.tickets AS
 SELECT tickets.id,
    tickets.seq,
    tickets.number,
    tickets.project_id,
    tickets.project_key,
    tickets.title,
    tickets.description,
    tickets.status,
    tickets.priority,
    tickets.type,
    tickets.tags,
    tickets.due_date,
    tickets.reporter_id,
    tickets.assignee_ids,
    tickets.version,
    tickets.created_at,
    tickets.updated_at,
    tickets.comment_bodies,
    tickets.priority_rank,
    tickets.touched_at,
    tickets.due_key,
    tickets.search
   FROM rm_tickets_v1.tickets;

CREATE TABLE public.trail_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigint NOT NULL
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');

CREATE SEQUENCE public.trail_events_notification_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.trail_events_notification_id_seq OWNED BY public.trail_events.notification_id;

CREATE TABLE rm_users_v1.users (
    id uuid NOT NULL,
    seq bigint NOT NULL,
    name text NOT NULL,
    email text NOT NULL,
    role text NOT NULL,
    status text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone
);

CREATE VIEW public.users AS
 SELECT users.id,
    users.seq,
    users.name,
    users.email,
    users.role,
    users.status,
    users.created_at,
    users.updated_at
   FROM rm_users_v1.users;

CREATE TABLE rm_comments_v1.tracking (
    application_name text NOT NULL,
    notification_id bigint
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');

CREATE TABLE rm_history_v1.tracking (
    application_name text NOT NULL,
    notification_id bigint
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');

ALTER TABLE rm_outbox_v1.outbox ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME rm_outbox_v1.outbox_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE rm_outbox_v1.tracking (
    application_name text NOT NULL,
    notification_id bigint
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');

CREATE TABLE rm_projects_v1.tracking (
    application_name text NOT NULL,
    notification_id bigint
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');

CREATE TABLE rm_stats_v1.tracking (
    application_name text NOT NULL,
    notification_id bigint
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');

CREATE TABLE rm_tickets_v1.tracking (
    application_name text NOT NULL,
    notification_id bigint
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');

CREATE TABLE rm_users_v1.tracking (
    application_name text NOT NULL,
    notification_id bigint
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');

ALTER TABLE ONLY public.trail_events ALTER COLUMN notification_id SET DEFAULT nextval('public.trail_events_notification_id_seq'::regclass);

ALTER TABLE ONLY public.api_idempotency_keys
    ADD CONSTRAINT api_idempotency_keys_pkey PRIMARY KEY (caller, key);

ALTER TABLE ONLY public.credentials
    ADD CONSTRAINT credentials_pkey PRIMARY KEY (user_id);

ALTER TABLE ONLY public.password_reset_tokens
    ADD CONSTRAINT password_reset_tokens_pkey PRIMARY KEY (token_digest);

ALTER TABLE ONLY public.projection_versions
    ADD CONSTRAINT projection_versions_pkey PRIMARY KEY (name);

ALTER TABLE ONLY public.ticket_numbers
    ADD CONSTRAINT ticket_numbers_pkey PRIMARY KEY (project_id);

ALTER TABLE ONLY public.trail_events
    ADD CONSTRAINT trail_events_pkey PRIMARY KEY (originator_id, originator_version);

ALTER TABLE ONLY rm_comments_v1.comments
    ADD CONSTRAINT comments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY rm_comments_v1.tracking
    ADD CONSTRAINT tracking_pkey PRIMARY KEY (application_name);

ALTER TABLE ONLY rm_history_v1.ticket_history
    ADD CONSTRAINT ticket_history_pkey PRIMARY KEY (ticket_id, version);

ALTER TABLE ONLY rm_history_v1.tracking
    ADD CONSTRAINT tracking_pkey PRIMARY KEY (application_name);

ALTER TABLE ONLY rm_outbox_v1.outbox
    ADD CONSTRAINT outbox_command_recipient UNIQUE (command_id, recipient_id);

ALTER TABLE ONLY rm_outbox_v1.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);

ALTER TABLE ONLY rm_outbox_v1.outbox_projects
    ADD CONSTRAINT outbox_projects_pkey PRIMARY KEY (id);

ALTER TABLE ONLY rm_outbox_v1.outbox_tickets
    ADD CONSTRAINT outbox_tickets_pkey PRIMARY KEY (id);

ALTER TABLE ONLY rm_outbox_v1.outbox_users
    ADD CONSTRAINT outbox_users_pkey PRIMARY KEY (id);

ALTER TABLE ONLY rm_outbox_v1.tracking
    ADD CONSTRAINT tracking_pkey PRIMARY KEY (application_name);

ALTER TABLE ONLY rm_projects_v1.project_tickets
    ADD CONSTRAINT project_tickets_pkey PRIMARY KEY (ticket_id);

ALTER TABLE ONLY rm_projects_v1.projects
    ADD CONSTRAINT projects_pkey PRIMARY KEY (id);

ALTER TABLE ONLY rm_projects_v1.tracking
    ADD CONSTRAINT tracking_pkey PRIMARY KEY (application_name);

ALTER TABLE ONLY rm_stats_v1.ticket_facts
    ADD CONSTRAINT ticket_facts_pkey PRIMARY KEY (ticket_id);

ALTER TABLE ONLY rm_stats_v1.tracking
    ADD CONSTRAINT tracking_pkey PRIMARY KEY (application_name);

ALTER TABLE ONLY rm_tickets_v1.ticket_projects
    ADD CONSTRAINT ticket_projects_pkey PRIMARY KEY (id);

ALTER TABLE ONLY rm_tickets_v1.tickets
    ADD CONSTRAINT tickets_pkey PRIMARY KEY (id);

ALTER TABLE ONLY rm_tickets_v1.tracking
    ADD CONSTRAINT tracking_pkey PRIMARY KEY (application_name);

ALTER TABLE ONLY rm_users_v1.tracking
    ADD CONSTRAINT tracking_pkey PRIMARY KEY (application_name);

ALTER TABLE ONLY rm_users_v1.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

CREATE INDEX api_idempotency_keys_created ON public.api_idempotency_keys USING btree (created_at);

CREATE INDEX password_reset_tokens_user ON public.password_reset_tokens USING btree (user_id);

CREATE UNIQUE INDEX trail_events_notification_id_idx ON public.trail_events USING btree (notification_id);

CREATE INDEX comments_ticket ON rm_comments_v1.comments USING btree (ticket_id, seq);

CREATE INDEX outbox_by_status ON rm_outbox_v1.outbox USING btree (status, seq);

CREATE INDEX outbox_by_ticket ON rm_outbox_v1.outbox USING btree (ticket_id, seq);

CREATE INDEX outbox_due ON rm_outbox_v1.outbox USING btree (next_attempt_at) WHERE (status = 'pending'::text);

CREATE INDEX outbox_in_flight ON rm_outbox_v1.outbox USING btree (queued_at) WHERE (status = 'queued'::text);

CREATE UNIQUE INDEX projects_seq ON rm_projects_v1.projects USING btree (seq);

CREATE INDEX ticket_facts_created ON rm_stats_v1.ticket_facts USING btree (project_id, created_at);

CREATE INDEX ticket_facts_resolved ON rm_stats_v1.ticket_facts USING btree (project_id, resolved_at) WHERE (resolved_at IS NOT NULL);

CREATE INDEX tickets_assignees ON rm_tickets_v1.tickets USING gin (assignee_ids);

CREATE INDEX tickets_created ON rm_tickets_v1.tickets USING btree (created_at, seq);

CREATE INDEX tickets_due ON rm_tickets_v1.tickets USING btree (due_key, seq);

CREATE INDEX tickets_priority ON rm_tickets_v1.tickets USING btree (priority_rank, seq);

CREATE INDEX tickets_project_created ON rm_tickets_v1.tickets USING btree (project_id, created_at, seq);

CREATE INDEX tickets_project_priority ON rm_tickets_v1.tickets USING btree (project_id, priority_rank, seq);

CREATE INDEX tickets_reporter ON rm_tickets_v1.tickets USING btree (reporter_id, created_at, seq);

CREATE INDEX tickets_search ON rm_tickets_v1.tickets USING gin (project_id, search);

CREATE INDEX tickets_tags ON rm_tickets_v1.tickets USING gin (tags);

CREATE INDEX tickets_touched ON rm_tickets_v1.tickets USING btree (touched_at, seq);

CREATE UNIQUE INDEX users_seq ON rm_users_v1.users USING btree (seq);


