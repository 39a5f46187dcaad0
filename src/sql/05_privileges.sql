-- kinesis extension, version 1.0: privileges.
--
-- Kinesis users say with IAM who may write, read or manage which stream;
-- here the same actions (kinesis:PutRecord, kinesis:GetRecords, ...) are
-- granted to PostgreSQL roles, per stream or for every stream, and three
-- built-in group roles cover the usual cases:
--
--   kinesis_admin     every action, and granting and revoking them
--   kinesis_producer  PutRecord(s), plus describing and listing streams
--   kinesis_consumer  GetRecords, GetShardIterator, stream consumers and
--                     checkpoints, plus describing and listing streams
--
-- Superusers may do everything.  The checks are in src/authz.c; how the
-- control-plane functions run them is in 85_wrappers.sql.  The tables stay
-- unreadable and unwritable to everyone else: records can only be put and
-- read through the functions that keep the ordering guarantee.

-- The built-in roles are cluster-wide and outlive the extension.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['kinesis_admin', 'kinesis_producer', 'kinesis_consumer'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;

CREATE TABLE kinesis.stream_grants (
    grantee     regrole NOT NULL,
    stream_name text COLLATE "C" NOT NULL,
    action      text NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    PRIMARY KEY (grantee, stream_name, action)
);
COMMENT ON TABLE kinesis.stream_grants IS
    'Per-stream privileges, as IAM policy statements: grantee may perform action (kinesis:<Operation>, or a prefix ending in *, e.g. kinesis:Get* or kinesis:*) on the stream named stream_name, or on every stream when it is *. Streams are named, not referenced, so a grant outlives a stream and applies again to a stream re-created under the name, as an IAM policy does. Managed with kinesis.grant_stream_access() and kinesis.revoke_stream_access(); read through kinesis.privileges.';
SELECT pg_catalog.pg_extension_config_dump('kinesis.stream_grants', '');

CREATE FUNCTION kinesis._authz_invalidate()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'kinesis_authz_invalidate';
COMMENT ON FUNCTION kinesis._authz_invalidate() IS
    'Internal: statement trigger that makes every backend drop its cached privilege decisions.';

CREATE TRIGGER stream_grants_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kinesis.stream_grants
    FOR EACH STATEMENT EXECUTE FUNCTION kinesis._authz_invalidate();

CREATE FUNCTION kinesis._authorize(action text, stream_name text)
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'kinesis_authorize_sql';
COMMENT ON FUNCTION kinesis._authorize(text, text) IS
    'Internal: AccessDeniedException unless the current user may perform the action on the stream (NULL: on every stream); otherwise a one-shot ticket for the control-plane body its wrapper calls next (see 85_wrappers.sql).';

CREATE FUNCTION kinesis._authorized(action text, stream_name text)
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'kinesis_authorized_sql';
COMMENT ON FUNCTION kinesis._authorized(text, text) IS
    'Internal: take the ticket kinesis._authorize() left for this action and stream in this session role, or raise AccessDeniedException: a control-plane body runs only behind its wrapper''s check.';

CREATE FUNCTION kinesis.is_authorized(action text, stream_name text, role regrole DEFAULT NULL)
RETURNS boolean
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'kinesis_is_authorized_sql';
COMMENT ON FUNCTION kinesis.is_authorized(text, text, regrole) IS
    'Whether a role (by default the current user) may perform an action (PutRecord or kinesis:PutRecord) on a stream (NULL: on every stream), by the built-in roles and kinesis.stream_grants. The views show only the streams the caller may describe.';

CREATE FUNCTION kinesis._valid_action(action text)
RETURNS boolean
LANGUAGE C IMMUTABLE STRICT
AS 'MODULE_PATHNAME', 'kinesis_valid_action_sql';
COMMENT ON FUNCTION kinesis._valid_action(text) IS
    'Internal: whether a grant may name this action: kinesis:<Operation>, or kinesis: and a prefix of an operation followed by *.';

CREATE FUNCTION kinesis._arn_stream(arn text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- arn:aws:kinesis:<region>:<account>:stream/<name>[/consumer/<consumer>:<epoch>]
    SELECT (regexp_match(arn, '^arn:aws:kinesis:[^:]*:[^:]*:stream/([a-zA-Z0-9_.-]+)(/consumer/.*)?$'))[1]
$$;
COMMENT ON FUNCTION kinesis._arn_stream(text) IS
    'Internal: the stream a stream or consumer ARN names (NULL if it names none), the resource whose privileges the consumer operations need.';

-- ---------------------------------------------------------------------
-- Granting and revoking
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._manage_access(role regrole, stream_name text, actions text[], grant_them boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a text;
BEGIN
    PERFORM kinesis._authorized('ManageAccess', NULL);
    IF role IS NULL THEN
        PERFORM kinesis._raise('InvalidArgumentException', 'A role to grant to or revoke from is required.');
    END IF;
    IF stream_name IS NULL OR (stream_name <> '*' AND (stream_name !~ '^[a-zA-Z0-9_.-]+$' OR length(stream_name) > 128)) THEN
        PERFORM kinesis._raise('InvalidArgumentException',
            format('Stream name %s is neither * nor a valid stream name.', coalesce(stream_name, 'null')));
    END IF;
    IF grant_them AND (actions IS NULL OR cardinality(actions) = 0) THEN
        PERFORM kinesis._raise('InvalidArgumentException', 'At least one action is required.');
    END IF;
    FOREACH a IN ARRAY coalesce(actions, '{}') LOOP
        IF a IS NULL OR NOT kinesis._valid_action(a) THEN
            PERFORM kinesis._raise('InvalidArgumentException',
                format('%s is not a Kinesis action: use kinesis:<Operation>, kinesis:<prefix>* or kinesis:*.', coalesce(a, 'null')));
        END IF;
    END LOOP;
    IF grant_them THEN
        INSERT INTO kinesis.stream_grants (grantee, stream_name, action)
        SELECT role, _manage_access.stream_name, x FROM unnest(actions) x
        ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM kinesis.stream_grants g
         WHERE g.grantee = role AND g.stream_name = _manage_access.stream_name
           AND (actions IS NULL OR g.action = ANY (actions));
    END IF;
END
$$;
COMMENT ON FUNCTION kinesis._manage_access(regrole, text, text[], boolean) IS
    'Internal: the body of grant_stream_access and revoke_stream_access, behind their check (kinesis_admin or a superuser).';

CREATE FUNCTION kinesis.grant_stream_access(role regrole, stream_name text, actions text[])
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT kinesis._authorize('ManageAccess', NULL);
    SELECT kinesis._manage_access(role, stream_name, actions, true);
$$;
COMMENT ON FUNCTION kinesis.grant_stream_access(regrole, text, text[]) IS
    'Let a role perform actions (kinesis:PutRecord, kinesis:Get*, kinesis:*, ...) on a stream (by name, existing or not) or on every stream (*), as an IAM policy statement would. Members of kinesis_admin and superusers only.';

CREATE FUNCTION kinesis.revoke_stream_access(role regrole, stream_name text, actions text[] DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT kinesis._authorize('ManageAccess', NULL);
    SELECT kinesis._manage_access(role, stream_name, actions, false);
$$;
COMMENT ON FUNCTION kinesis.revoke_stream_access(regrole, text, text[]) IS
    'Take back what grant_stream_access gave: the listed actions (exactly as granted), or every grant of the role on that stream name when actions is NULL. Privileges that come from the built-in roles are taken back with REVOKE kinesis_producer FROM ... and the like. Members of kinesis_admin and superusers only.';

CREATE FUNCTION kinesis._builtin_role_actions(role name)
RETURNS SETOF text
LANGUAGE C IMMUTABLE STRICT
AS 'MODULE_PATHNAME', 'kinesis_builtin_role_actions';
COMMENT ON FUNCTION kinesis._builtin_role_actions(name) IS
    'Internal: the actions a built-in role (kinesis_admin, kinesis_producer, kinesis_consumer) brings on every stream, as the privilege checks in C know them.';

CREATE VIEW kinesis.privileges AS
SELECT g.grantee::text AS role, g.stream_name, g.action, 'kinesis.stream_grants'::text AS source
  FROM kinesis.stream_grants g
UNION ALL
SELECT r.rolname::text, '*', a.action, b.rolname::text
  FROM pg_catalog.pg_auth_members m
  JOIN pg_catalog.pg_roles b ON b.oid = m.roleid
  JOIN pg_catalog.pg_roles r ON r.oid = m.member
 CROSS JOIN LATERAL kinesis._builtin_role_actions(b.rolname) a(action)
 WHERE b.rolname IN ('kinesis_admin', 'kinesis_producer', 'kinesis_consumer');
COMMENT ON VIEW kinesis.privileges IS
    'Who may do what: the rows of kinesis.stream_grants, and for each direct member of a built-in role the actions it brings (on every stream). Readable by kinesis_admin members and superusers.';
REVOKE ALL ON kinesis.privileges FROM PUBLIC;
GRANT SELECT ON kinesis.privileges TO kinesis_admin;
