-- kinesis extension, since version 1.1: what the wire gateway needs
-- (gateway/, the kinesis-gateway program that speaks Kinesis's HTTP
-- protocol to boto3, the AWS CLI and the AWS SDKs).
--
-- This file is also the upgrade script from 1.0 (the Makefile builds
-- kinesis--1.0--1.1.sql from it and from kinesis.api(), which 1.1 extends
-- with SubscribeToShard), so everything in it must run both in a fresh
-- installation and on top of 1.0.
--
--   * access keys: SigV4 credentials that map an access key id to a
--     PostgreSQL role; the gateway verifies each request's signature with
--     the secret and runs the request as that role, so the privileges of
--     kinesis.grant_stream_access() and the built-in roles apply to HTTP
--     clients as they do to SQL callers;
--   * SubscribeToShard: one event of a subscription at a time, as
--     kinesis.subscribe_to_shard() and kinesis.api('SubscribeToShard'); the
--     gateway keeps the HTTP/2 (or HTTP/1.1) response open and asks for the
--     next event from the previous event's ContinuationSequenceNumber.

-- The gateway's own role: whoever may look up secrets.  The gateway logs in
-- as a role that is a member of kinesis_gateway and of every role its
-- access keys map to (a superuser is both).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'kinesis_gateway') THEN
        CREATE ROLE kinesis_gateway NOLOGIN;
    END IF;
END
$$;

CREATE TABLE kinesis.access_key_store (
    access_key_id     text COLLATE "C" PRIMARY KEY
                      CHECK (access_key_id ~ '^[A-Z0-9]{16,128}$'),
    secret_access_key text NOT NULL CHECK (length(secret_access_key) BETWEEN 16 AND 128),
    role_name         name NOT NULL,
    status            text NOT NULL DEFAULT 'Active' CHECK (status IN ('Active', 'Inactive')),
    created_at        timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE kinesis.access_key_store IS
    'SigV4 credentials of the wire gateway: an access key id, its secret and the role its requests run as (by name, so that keys survive pg_dump and restore). Readable by the extension''s owner only; listed without secrets in kinesis.access_keys; the gateway reads a secret through kinesis.gateway_credentials().';
REVOKE ALL ON kinesis.access_key_store FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('kinesis.access_key_store', '');

CREATE FUNCTION kinesis._may_manage_keys(role_name name)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    -- superusers, and kinesis_admin members for roles they could become
    -- themselves (never a superuser role): a key is a way to act as its role
    SELECT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = current_user AND rolsuper)
        OR (pg_catalog.pg_has_role(current_user, 'kinesis_admin', 'USAGE')
            AND EXISTS (SELECT FROM pg_catalog.pg_roles r
                         WHERE r.rolname = _may_manage_keys.role_name AND NOT r.rolsuper
                           AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER')))
$$;
COMMENT ON FUNCTION kinesis._may_manage_keys(name) IS
    'Internal: whether the current user may create, list or delete access keys of the role: superusers for any role, members of kinesis_admin for non-superuser roles they are members of.';

-- Each key operation is an invoker function that checks the caller (who
-- may manage the role's keys) and leaves a ManageAccess ticket, and a
-- SECURITY DEFINER body that takes the ticket and writes the key store,
-- as the control-plane operations are built (85_wrappers.sql).
CREATE FUNCTION kinesis._key_check(role_name name)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF role_name IS NULL OR NOT kinesis._may_manage_keys(role_name) THEN
        PERFORM kinesis._raise('AccessDeniedException',
            format('User: %s is not authorized to manage access keys of role %s', current_user, role_name));
    END IF;
    PERFORM kinesis._authorize('ManageAccess', NULL);
END
$$;
COMMENT ON FUNCTION kinesis._key_check(name) IS
    'Internal: AccessDeniedException unless the current user may manage the role''s access keys; otherwise the ManageAccess ticket the key store''s bodies take.';

CREATE FUNCTION kinesis._key_store_write(op text, role_name name, key_id text, secret text, status text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM kinesis._authorized('ManageAccess', NULL);
    IF op = 'create' THEN
        IF EXISTS (SELECT FROM kinesis.access_key_store k WHERE k.access_key_id = key_id) THEN
            PERFORM kinesis._raise('ResourceInUseException', format('Access key %s already exists.', key_id));
        END IF;
        INSERT INTO kinesis.access_key_store (access_key_id, secret_access_key, role_name)
        VALUES (key_id, secret, role_name);
    ELSIF op = 'delete' THEN
        DELETE FROM kinesis.access_key_store k WHERE k.access_key_id = key_id AND k.role_name = _key_store_write.role_name;
    ELSIF op = 'status' THEN
        UPDATE kinesis.access_key_store k SET status = _key_store_write.status
         WHERE k.access_key_id = key_id AND k.role_name = _key_store_write.role_name;
    END IF;
END
$$;
COMMENT ON FUNCTION kinesis._key_store_write(text, name, text, text, text) IS
    'Internal: create, delete or change the status of an access key, behind the ManageAccess ticket kinesis._key_check() leaves.';

CREATE FUNCTION kinesis._key_role(access_key_id text)
RETURNS name
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT k.role_name FROM kinesis.access_key_store k WHERE k.access_key_id = _key_role.access_key_id
$$;
COMMENT ON FUNCTION kinesis._key_role(text) IS
    'Internal: the role of an access key (NULL if there is none), so that the key functions can check who may manage it.';
REVOKE ALL ON FUNCTION kinesis._key_role(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kinesis._key_role(text) TO kinesis_admin;

CREATE FUNCTION kinesis.create_access_key(role_name name, key_id text DEFAULT NULL,
                                          secret text DEFAULT NULL,
                                          OUT access_key_id text, OUT secret_access_key text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF role_name IS NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = role_name) THEN
        PERFORM kinesis._raise('InvalidArgumentException', format('Role %s does not exist.', role_name));
    END IF;
    -- AWS's shapes: AKIA and 16 characters, a 40-character secret
    access_key_id := coalesce(key_id, 'AKIA' || upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 16)));
    secret_access_key := coalesce(secret, translate(substr(encode(
                  decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'),
                  'base64'), 1, 40), '+', '/'));
    IF access_key_id !~ '^[A-Z0-9]{16,128}$' THEN
        PERFORM kinesis._raise('ValidationException',
            format('1 validation error detected: Value ''%s'' at ''accessKeyId'' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Z0-9]{16,128}', access_key_id));
    END IF;
    IF length(secret_access_key) NOT BETWEEN 16 AND 128 THEN
        PERFORM kinesis._raise('ValidationException',
            '1 validation error detected: Value at ''secretAccessKey'' failed to satisfy constraint: Member must have length between 16 and 128');
    END IF;
    PERFORM kinesis._key_check(role_name);
    PERFORM kinesis._key_store_write('create', role_name, access_key_id, secret_access_key, NULL);
END
$$;
COMMENT ON FUNCTION kinesis.create_access_key(name, text, text) IS
    'A SigV4 access key for the wire gateway whose requests run as role_name; returns the key id (key_id, or AKIA and 16 random characters) and its secret (secret, or 40 random characters), which is shown only here. Superusers for any role; kinesis_admin members for non-superuser roles they are members of.';

CREATE FUNCTION kinesis._key_owner(access_key_id text)
RETURNS name
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owner_role name;
BEGIN
    -- only kinesis_admin members (superusers are) may look keys up at all
    IF pg_catalog.pg_has_role(current_user, 'kinesis_admin', 'USAGE') THEN
        owner_role := kinesis._key_role(access_key_id);
    END IF;
    IF owner_role IS NULL OR NOT kinesis._may_manage_keys(owner_role) THEN
        -- the same answer whether the key is missing or someone else's
        PERFORM kinesis._raise('ResourceNotFoundException',
            format('Access key %s not found.', access_key_id));
    END IF;
    RETURN owner_role;
END
$$;
COMMENT ON FUNCTION kinesis._key_owner(text) IS
    'Internal: the role of an access key the current user may manage; ResourceNotFoundException otherwise, whether the key is missing or another''s.';

CREATE FUNCTION kinesis.delete_access_key(access_key_id text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owner_role name := kinesis._key_owner(access_key_id);
BEGIN
    PERFORM kinesis._key_check(owner_role);
    PERFORM kinesis._key_store_write('delete', owner_role, access_key_id, NULL, NULL);
END
$$;
COMMENT ON FUNCTION kinesis.delete_access_key(text) IS
    'Delete an access key of the wire gateway; its requests are refused (UnrecognizedClientException) once the gateway''s cache of secrets has expired (a few seconds). ResourceNotFoundException unless the key exists and the caller may manage its role''s keys.';

CREATE FUNCTION kinesis.set_access_key_status(access_key_id text, status text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owner_role name;
BEGIN
    IF status IS NULL OR status NOT IN ('Active', 'Inactive') THEN
        PERFORM kinesis._raise('ValidationException',
            format('1 validation error detected: Value ''%s'' at ''status'' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]', status));
    END IF;
    owner_role := kinesis._key_owner(access_key_id);
    PERFORM kinesis._key_check(owner_role);
    PERFORM kinesis._key_store_write('status', owner_role, access_key_id, NULL, status);
END
$$;
COMMENT ON FUNCTION kinesis.set_access_key_status(text, text) IS
    'Make an access key Active or Inactive (an inactive key''s requests are refused like an unknown key''s), as IAM''s UpdateAccessKey does.';

CREATE VIEW kinesis.access_keys AS
SELECT k.access_key_id, k.role_name, k.status, k.created_at
  FROM kinesis.access_key_store k
 WHERE kinesis._may_manage_keys(k.role_name);
COMMENT ON VIEW kinesis.access_keys IS
    'The wire gateway''s access keys the caller may manage, without their secrets.';
GRANT SELECT ON kinesis.access_keys TO PUBLIC;

CREATE FUNCTION kinesis.gateway_credentials(access_key_id text)
RETURNS TABLE (secret_access_key text, role_name name)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    -- an inactive key, or one whose role is gone, is as good as unknown
    SELECT k.secret_access_key, k.role_name
      FROM kinesis.access_key_store k
     WHERE k.access_key_id = gateway_credentials.access_key_id AND k.status = 'Active'
       AND EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = k.role_name)
$$;
COMMENT ON FUNCTION kinesis.gateway_credentials(text) IS
    'For the wire gateway: the secret of an active access key and the role its requests run as; no row for an unknown or inactive key. Executable by members of kinesis_gateway (and superusers) only.';
REVOKE ALL ON FUNCTION kinesis.gateway_credentials(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kinesis.gateway_credentials(text) TO kinesis_gateway;

-- ---------------------------------------------------------------------
-- SubscribeToShard, one event at a time
-- ---------------------------------------------------------------------
CREATE FUNCTION kinesis._iterator_continuation(shard_iterator text)
RETURNS text
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'kinesis_iterator_continuation';
COMMENT ON FUNCTION kinesis._iterator_continuation(text) IS
    'Internal: the sequence number after which an iterator''s position lies (counter 0, the shard''s StartingSequenceNumber, at the start of a shard never written to): a ContinuationSequenceNumber for an event without records.';

CREATE FUNCTION kinesis._subscribe_to_shard(consumer_arn text, shard_id text,
                                            starting_position_type text, sequence_number text,
                                            "timestamp" timestamptz, "limit" integer)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
    it text;
    ev jsonb;
    n integer;
    cont text;
BEGIN
    SELECT * INTO f FROM kinesis._find_consumer(NULL, NULL, consumer_arn);
    -- the ticket kinesis.subscribe_to_shard() left: this runs only behind it
    PERFORM kinesis._authorized('SubscribeToShard', (f.s).stream_name);
    IF (f.c).consumer_status <> 'ACTIVE' THEN
        PERFORM kinesis._raise('ResourceInUseException',
            format('Consumer %s is not in ACTIVE state.', consumer_arn));
    END IF;
    SELECT g.shard_iterator INTO it
      FROM kinesis.get_shard_iterator((f.s).stream_name, shard_id, starting_position_type,
                                      sequence_number, "timestamp") AS g;
    ev := kinesis._api_get_records(jsonb_build_object('ShardIterator', it, 'Limit', "limit"));
    n := jsonb_array_length(ev -> 'Records');
    -- where the next event starts: after the last record, or where this
    -- read stopped (the shard's end when it was closed and drained)
    cont := CASE WHEN n > 0 THEN ev -> 'Records' -> (n - 1) ->> 'SequenceNumber'
                 ELSE kinesis._iterator_continuation(coalesce(ev ->> 'NextShardIterator', it)) END;
    -- nothing new after a continuation: give the same number back, not
    -- another spelling of the same position
    IF n = 0 AND starting_position_type = 'AFTER_SEQUENCE_NUMBER'
       AND (kinesis.parse_sequence_number(cont)).counter
           = (kinesis.parse_sequence_number(sequence_number)).counter THEN
        cont := sequence_number;
    END IF;
    RETURN (ev - 'NextShardIterator') || jsonb_build_object('ContinuationSequenceNumber', cont);
END
$$;
COMMENT ON FUNCTION kinesis._subscribe_to_shard(text, text, text, text, timestamptz, integer) IS
    'Internal: the body of kinesis.subscribe_to_shard(), behind its privilege check.';

CREATE FUNCTION kinesis._subscribe_errors(consumer_arn text, shard_id text,
                                          position_field text, position_missing boolean)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- every missing or malformed member at once, as AWS lists them; the
    -- starting position is missing as a whole (API) or its type (SQL)
    SELECT CASE WHEN consumer_arn IS NULL THEN '{}' ELSE kinesis._consumer_arn_errors(consumer_arn) END
           || ARRAY(SELECT format('Value null at ''%s'' failed to satisfy constraint: Member must not be null', m.field)
                      FROM (VALUES (1, 'consumerARN', consumer_arn IS NULL),
                                   (2, 'shardId', shard_id IS NULL),
                                   (3, position_field, position_missing)) AS m(i, field, missing)
                     WHERE m.missing ORDER BY m.i)
$$;
COMMENT ON FUNCTION kinesis._subscribe_errors(text, text, text, boolean) IS
    'Internal: the ValidationException entries of a SubscribeToShard request.';

CREATE FUNCTION kinesis.subscribe_to_shard(consumer_arn text, shard_id text,
                                           starting_position_type text,
                                           sequence_number text DEFAULT NULL,
                                           "timestamp" timestamptz DEFAULT NULL,
                                           "limit" integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stream_name text;
BEGIN
    PERFORM kinesis._raise_validation(kinesis._subscribe_errors(
        consumer_arn, shard_id, 'startingPosition.type', starting_position_type IS NULL));
    -- the consumer's stream, which the privilege is about, is in its ARN
    stream_name := (regexp_match(consumer_arn, ':stream/([^/]+)/consumer/'))[1];
    PERFORM kinesis._authorize('SubscribeToShard', stream_name);
    RETURN kinesis._subscribe_to_shard(consumer_arn, shard_id, starting_position_type,
                                       sequence_number, "timestamp", "limit");
END
$$;
COMMENT ON FUNCTION kinesis.subscribe_to_shard(text, text, text, text, timestamptz, integer) IS
    'SubscribeToShard, one event at a time: for a registered ACTIVE consumer, the SubscribeToShardEvent (Records, ContinuationSequenceNumber, MillisBehindLatest, ChildShards at the end of a shard) read from the starting position (AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP). The next event starts AFTER_SEQUENCE_NUMBER the ContinuationSequenceNumber; the wire gateway streams events this way. Needs kinesis:SubscribeToShard on the stream.';

CREATE FUNCTION kinesis._api_subscribe_to_shard(request jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    consumer_arn text := kinesis._api_string(request, 'ConsumerARN');
    shard_id text := kinesis._api_string(request, 'ShardId');
    pos jsonb := kinesis._api_value(request -> 'StartingPosition', 'Structure');
BEGIN
    IF pos IS NULL THEN
        PERFORM kinesis._raise_validation(kinesis._subscribe_errors(
            consumer_arn, shard_id, 'startingPosition', true));
    END IF;
    RETURN jsonb_build_object('EventStream', jsonb_build_object('SubscribeToShardEvent',
        kinesis.subscribe_to_shard(consumer_arn, shard_id,
                                   kinesis._api_string(pos, 'Type'),
                                   kinesis._api_string(pos, 'SequenceNumber'),
                                   kinesis._api_timestamp(pos, 'Timestamp'),
                                   kinesis._api_integer(request, 'Limit'))));
END
$$;
COMMENT ON FUNCTION kinesis._api_subscribe_to_shard(jsonb) IS
    'Internal: SubscribeToShard for kinesis.api(): one event, as {"EventStream": {"SubscribeToShardEvent": {...}}}; "Limit" (not an AWS member) caps its records.';
