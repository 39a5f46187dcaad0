-- Privileges: what installing grants to PUBLIC, the built-in roles, per-stream
-- grants with IAM action names, the privilege matrix of the operations,
-- iterators that do not travel between roles, the storage and catalog closed
-- to direct writes, the control-plane bodies closed to direct calls, and the
-- classic attacks (search_path hijacking, hostile names).
\set VERBOSITY terse

-- ---------------------------------------------------------------------
-- What the installation gives PUBLIC
-- ---------------------------------------------------------------------
-- no table, sequence or storage: only the views, which filter by privilege
SELECT c.relname, c.relkind
  FROM pg_class c
 WHERE c.relnamespace IN ('kinesis'::regnamespace, 'kinesis_private'::regnamespace)
   AND c.relkind IN ('r', 'v', 'S', 'p')
   AND (has_table_privilege('public', c.oid, 'SELECT') OR has_table_privilege('public', c.oid, 'INSERT')
        OR has_table_privilege('public', c.oid, 'UPDATE') OR has_table_privilege('public', c.oid, 'DELETE')
        OR has_table_privilege('public', c.oid, 'TRUNCATE'))
 ORDER BY 1;
-- the control-plane bodies are out of reach
SELECT has_schema_privilege('public', 'kinesis_private', 'USAGE') AS private_usage,
       count(*) FILTER (WHERE has_function_privilege('public', p.oid, 'EXECUTE')) AS executable_bodies
  FROM pg_proc p WHERE p.pronamespace = 'kinesis_private'::regnamespace;
-- internals that bypass the tables' privileges are closed to PUBLIC
SELECT p.proname FROM pg_proc p
 WHERE p.pronamespace = 'kinesis'::regnamespace
   AND p.proname IN ('_lock_stream', '_forget_streams', '_token_encode', '_wake_worker',
                     '_shard_last_counter', 'inflight', '_kms_new_material', '_kms_resolve',
                     'create_kms_key', 'create_kms_alias', 'disable_kms_key')
   AND has_function_privilege('public', p.oid, 'EXECUTE');
-- every SECURITY DEFINER function pins its search_path
SELECT p.oid::regprocedure FROM pg_proc p
 WHERE p.pronamespace IN ('kinesis'::regnamespace, 'kinesis_private'::regnamespace)
   AND p.prosecdef
   AND NOT coalesce(p.proconfig, '{}') @> ARRAY['search_path=pg_catalog, pg_temp'];
SELECT count(*) > 30 AS gated_operations FROM pg_proc p
 WHERE p.pronamespace = 'kinesis'::regnamespace AND p.proname LIKE '\_gate\_%' AND p.prosecdef;
-- the built-in roles
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'kinesis\_%' ORDER BY 1;

-- ---------------------------------------------------------------------
-- Fixture: streams, roles, grants
-- ---------------------------------------------------------------------
SELECT kinesis.create_stream('pv_a', 2);
SELECT kinesis.create_stream('pv_b', 1);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT kinesis.put_record('pv_a', 'first', 'k') IS NOT NULL AS put;

CREATE ROLE pv_admin;
CREATE ROLE pv_producer;
CREATE ROLE pv_consumer;
CREATE ROLE pv_a_writer;       -- PutRecord(s) on pv_a only
CREATE ROLE pv_a_reader;       -- kinesis:Get* and Describe* on pv_a only
CREATE ROLE pv_nobody;
CREATE ROLE pv_group NOINHERIT;
CREATE ROLE pv_member IN ROLE pv_group;  -- inherits what pv_group is granted
GRANT kinesis_admin TO pv_admin;
GRANT kinesis_producer TO pv_producer;
GRANT kinesis_consumer TO pv_consumer;
SELECT kinesis.grant_stream_access('pv_a_writer', 'pv_a', ARRAY['kinesis:PutRecord', 'kinesis:PutRecords']);
SELECT kinesis.grant_stream_access('pv_a_reader', 'pv_a', ARRAY['kinesis:Get*', 'kinesis:Describe*']);
SELECT kinesis.grant_stream_access('pv_group', 'pv_b', ARRAY['kinesis:PutRecord']);
-- granting is validated and changes nothing when it fails
SELECT kinesis.grant_stream_access('pv_nobody', 'pv_a', ARRAY['kinesis:Teleport']);
SELECT kinesis.grant_stream_access('pv_nobody', 'pv_a', ARRAY['s3:GetObject']);
SELECT kinesis.grant_stream_access('pv_nobody', 'pv_a', ARRAY['kinesis:Manage*']);
SELECT kinesis.grant_stream_access('pv_nobody', 'bad name!', ARRAY['kinesis:*']);
SELECT kinesis.grant_stream_access('pv_nobody', 'pv_a', '{}');
SELECT kinesis.grant_stream_access('no_such_role', 'pv_a', ARRAY['kinesis:*']);
SELECT role, stream_name, action, source FROM kinesis.privileges
 WHERE role LIKE 'pv\_%' AND source = 'kinesis.stream_grants' ORDER BY 1, 2, 3;
SELECT role, count(*) AS actions FROM kinesis.privileges
 WHERE role LIKE 'pv\_%' AND source <> 'kinesis.stream_grants' GROUP BY 1 ORDER BY 1;

-- ---------------------------------------------------------------------
-- The matrix: each operation as each role; ok, or the SQLSTATE it ended in
-- ---------------------------------------------------------------------
CREATE FUNCTION pg_temp.outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN CASE SQLSTATE WHEN 'KN010' THEN 'denied' ELSE SQLSTATE END;
END
$$;
SELECT kinesis.get_shard_iterator('pv_a', 'shardId-000000000000', 'TRIM_HORIZON') AS it_a \gset
CREATE TEMP TABLE ops (n int, op text, q text);
INSERT INTO ops VALUES
 (1, 'PutRecord a',        $q$SELECT kinesis.put_record('pv_a', 'x', 'k')$q$),
 (2, 'PutRecords a',       $q$SELECT kinesis.put_records(ARRAY[ROW('x', NULL, 'k')::kinesis.put_records_request_entry], 'pv_a')$q$),
 (3, 'PutRecord b',        $q$SELECT kinesis.put_record('pv_b', 'x', 'k')$q$),
 (4, 'GetShardIterator a', $q$SELECT kinesis.get_shard_iterator('pv_a', 'shardId-000000000000', 'TRIM_HORIZON')$q$),
 (5, 'GetRecords a',       format($q$SELECT kinesis.get_records(%L)$q$, :'it_a')),
 (6, 'read_records a',     format($q$SELECT count(*) FROM kinesis.read_records(%L)$q$, :'it_a')),
 (7, 'DescribeStream a',   $q$SELECT kinesis.describe_stream('pv_a')$q$),
 (8, 'DescribeSummary b',  $q$SELECT kinesis.describe_stream_summary('pv_b')$q$),
 (9, 'ListStreams',        $q$SELECT kinesis.list_streams()$q$),
 (10, 'ListShards a',      $q$SELECT kinesis.list_shards('pv_a')$q$),
 (11, 'ListTags a',        $q$SELECT kinesis.list_tags_for_stream('pv_a')$q$),
 (12, 'AddTags a',         $q$SELECT kinesis.add_tags_to_stream('pv_a', '{"t": "v"}')$q$),
 (13, 'CreateStream',      $q$SELECT kinesis.create_stream('pv_new', 1)$q$),
 (14, 'UpdateShardCount b',$q$SELECT kinesis.update_shard_count('pv_b', 2)$q$),
 (15, 'RegisterConsumer a',$q$SELECT kinesis.register_stream_consumer(kinesis.stream_arn('pv_a'), 'pv_c_' || current_user)$q$),
 (16, 'api GetRecords a',  format($q$SELECT kinesis._raise(j ->> '__type', j ->> 'message') FROM kinesis.api('GetRecords', jsonb_build_object('ShardIterator', %L)) j WHERE j ? '__type'$q$, :'it_a')),
 (17, 'api ListStreams',   $q$SELECT kinesis._raise(j ->> '__type', j ->> 'message') FROM kinesis.api('ListStreams', '{}') j WHERE j ? '__type'$q$),
 (18, 'grant access',      $q$SELECT kinesis.grant_stream_access(current_user::regrole, '*', ARRAY['kinesis:*'])$q$),
 (19, 'run_maintenance',   $q$SELECT count(*) FROM kinesis.run_maintenance()$q$);
CREATE TEMP TABLE matrix (role text, n int, op text, outcome text);
GRANT ALL ON matrix TO PUBLIC;
DO $$
DECLARE
    r text;
    o record;
BEGIN
    FOREACH r IN ARRAY ARRAY['pv_nobody', 'pv_a_writer', 'pv_a_reader', 'pv_member', 'pv_producer',
                             'pv_consumer', 'pv_admin'] LOOP
        FOR o IN SELECT * FROM ops ORDER BY n LOOP
            EXECUTE format('SET LOCAL ROLE %I', r);
            INSERT INTO matrix VALUES (r, o.n, o.op, pg_temp.outcome(o.q));
            RESET ROLE;
        END LOOP;
    END LOOP;
END
$$;
SELECT op, max(outcome) FILTER (WHERE role = 'pv_nobody') AS nobody,
       max(outcome) FILTER (WHERE role = 'pv_a_writer') AS a_writer,
       max(outcome) FILTER (WHERE role = 'pv_a_reader') AS a_reader,
       max(outcome) FILTER (WHERE role = 'pv_member') AS member,
       max(outcome) FILTER (WHERE role = 'pv_producer') AS producer,
       max(outcome) FILTER (WHERE role = 'pv_consumer') AS consumer,
       max(outcome) FILTER (WHERE role = 'pv_admin') AS admin
  FROM matrix GROUP BY n, op ORDER BY n;
-- a denied call changed nothing; the admin's calls did
SELECT count(*) AS pv_new_streams FROM kinesis.streams WHERE stream_name = 'pv_new';
SELECT stream_status FROM kinesis.streams WHERE stream_name = 'pv_b';
SELECT count(*) AS tags FROM kinesis.tags t JOIN kinesis.stream_meta s USING (stream_id) WHERE s.stream_name = 'pv_a';
SELECT consumer_name FROM kinesis.consumers c JOIN kinesis.stream_meta s USING (stream_id)
 WHERE s.stream_name = 'pv_a' ORDER BY 1;

-- the views show what the role may describe (or read)
SET ROLE pv_a_reader;
SELECT stream_name FROM kinesis.streams WHERE stream_name LIKE 'pv\_%' ORDER BY 1;
SELECT count(*) > 0 AS reads_a, count(*) FILTER (WHERE stream_name <> 'pv_a') AS others
  FROM kinesis.stream_records WHERE stream_name LIKE 'pv\_%';
SELECT kinesis.is_authorized('GetRecords', 'pv_a') AS get_a, kinesis.is_authorized('kinesis:GetRecords', 'pv_b') AS get_b;
RESET ROLE;
SET ROLE pv_nobody;
SELECT count(*) AS streams_seen FROM kinesis.streams;
SELECT count(*) AS records_seen FROM kinesis.stream_records;
SELECT count(*) AS shards_seen FROM kinesis.shards;
RESET ROLE;

-- ---------------------------------------------------------------------
-- Iterators are no capability: one obtained by a reader is refused to a
-- role that may not read the stream
-- ---------------------------------------------------------------------
SELECT shard_id AS k_shard FROM kinesis.put_record('pv_a', 'for the reader', 'k') \gset
SET ROLE pv_a_reader;
SELECT kinesis.get_shard_iterator('pv_a', :'k_shard', 'TRIM_HORIZON') AS reader_it \gset
SELECT cardinality(records) > 0 AS reader_reads FROM kinesis.get_records(:'reader_it');
RESET ROLE;
SET ROLE pv_a_writer;
SELECT kinesis.get_records(:'reader_it');
SELECT count(*) FROM kinesis.read_records(:'reader_it');
RESET ROLE;

-- ---------------------------------------------------------------------
-- No writing around the API
-- ---------------------------------------------------------------------
SELECT format('kinesis.records_%s_0', stream_id) AS bucket FROM kinesis.stream_meta WHERE stream_name = 'pv_a' \gset
CREATE TEMP TABLE attempts (n int, q text);
INSERT INTO attempts VALUES
 (1, format('INSERT INTO %s VALUES (1, 0, 999, now(), %L, %L, NULL)', :'bucket', 'k', 'forged')),
 (2, format('UPDATE %s SET data = %L', :'bucket', 'forged')),
 (3, 'UPDATE kinesis.stream_meta SET retention_period_hours = 1'),
 (4, 'DELETE FROM kinesis.shard_meta'),
 (5, $q$INSERT INTO kinesis.stream_grants VALUES ('pv_nobody', '*', 'kinesis:*')$q$),
 (6, 'SELECT * FROM kinesis.secrets'),
 (7, 'SELECT * FROM kinesis.kms_key_store'),
 (8, 'SELECT count(*) FROM kinesis.records'),
 (9, $q$INSERT INTO kinesis.records VALUES (1, 0, 999, now(), 'k', 'forged', NULL)$q$),
 (10, 'TRUNCATE kinesis.buckets'),
 (11, 'SELECT kinesis._lock_stream(1, true)'),
 (12, 'SELECT kinesis._forget_streams(1)'),
 (13, 'SELECT kinesis.inflight()'),
 (14, 'SELECT kinesis._token_encode(''L'', ''\x00'')'),
 (15, 'SELECT * FROM kinesis.checkpoints'),
 (16, 'INSERT INTO kinesis.consumers (stream_id, consumer_name) VALUES (1, ''x'')');
CREATE TEMP TABLE attempt_results (role text, n int, outcome text);
GRANT ALL ON attempt_results TO PUBLIC;
DO $$
DECLARE
    r text;
    a record;
BEGIN
    FOREACH r IN ARRAY ARRAY['pv_admin', 'pv_producer', 'pv_consumer'] LOOP
        FOR a IN SELECT * FROM attempts ORDER BY n LOOP
            EXECUTE format('SET LOCAL ROLE %I', r);
            INSERT INTO attempt_results VALUES (r, a.n, pg_temp.outcome(a.q));
            RESET ROLE;
        END LOOP;
    END LOOP;
END
$$;
-- 42501 (permission denied) for every attempt and role; kinesis_admin may
-- look at the shared in-flight table (13)
SELECT outcome, count(*) FROM attempt_results GROUP BY 1 ORDER BY 1;
SELECT role, n, outcome FROM attempt_results WHERE outcome <> '42501';

-- ---------------------------------------------------------------------
-- The control-plane bodies cannot be reached around their checks
-- ---------------------------------------------------------------------
SET ROLE pv_a_writer;
SELECT kinesis_private.delete_stream('pv_a', true);
SELECT kinesis._gate_delete_stream('pv_a', true);
-- a check passed for one operation does not open another
SELECT kinesis._authorize('PutRecord', 'pv_a');
SELECT kinesis._gate_delete_stream('pv_a', true);
SELECT kinesis._authorize('PutRecord', 'pv_a');
SELECT kinesis._gate_create_stream('pv_a', 1);
SELECT kinesis._authorize('DeleteStream', 'pv_a');
SELECT kinesis._manage_access('pv_a_writer', '*', ARRAY['kinesis:*'], true);
RESET ROLE;
-- a check passed by a superuser is not inherited by SET ROLE
SELECT kinesis._authorize('DeleteStream', 'pv_a');
SET ROLE pv_a_writer;
SELECT kinesis._gate_delete_stream('pv_a', true);
RESET ROLE;
SELECT stream_status FROM kinesis.streams WHERE stream_name = 'pv_a';

-- ---------------------------------------------------------------------
-- search_path hijacking: look-alike functions and operators in a schema
-- put before pg_catalog are never called, by the API or by the data plane
-- ---------------------------------------------------------------------
CREATE SCHEMA pv_evil;
GRANT USAGE, CREATE ON SCHEMA pv_evil TO PUBLIC;
CREATE TABLE pv_evil.called (what text);
GRANT ALL ON pv_evil.called TO PUBLIC;
CREATE FUNCTION pv_evil.int4eq_trap(integer, integer) RETURNS boolean LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO pv_evil.called VALUES ('int4 ='); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR pv_evil.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = pv_evil.int4eq_trap);
CREATE FUNCTION pv_evil.texteq_trap(text, text) RETURNS boolean LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO pv_evil.called VALUES ('text ='); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR pv_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = pv_evil.texteq_trap);
CREATE FUNCTION pv_evil.format(text, VARIADIC "any") RETURNS text LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO pv_evil.called VALUES ('format'); RETURN 'x'; END $$;
CREATE FUNCTION pv_evil.lower(text) RETURNS text LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO pv_evil.called VALUES ('lower'); RETURN $1; END $$;
CREATE FUNCTION pv_evil.now() RETURNS timestamptz LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO pv_evil.called VALUES ('now'); RETURN pg_catalog.now(); END $$;
SET ROLE pv_producer;
SET search_path = pv_evil, pg_catalog, public;
SELECT 1 = 1 AS trap_works;
SELECT shard_id FROM kinesis.put_record('pv_a', 'hijack?', 'k');
SELECT (kinesis.describe_stream_summary('pv_a')).stream_status;
SELECT kinesis.api('DescribeStreamSummary', '{"StreamName": "pv_a"}') -> 'StreamDescriptionSummary' ->> 'StreamStatus';
SELECT stream_names FROM kinesis.list_streams();
RESET ROLE;
SET ROLE pv_admin;
SELECT kinesis.split_shard('pv_a', 'shardId-000000000001', '255211775190703847597530955573826158592');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
RESET ROLE;
RESET search_path;
-- only the trap the test itself called ran
SELECT what, count(*) FROM pv_evil.called GROUP BY 1 ORDER BY 1;

-- ---------------------------------------------------------------------
-- Hostile names: quotes, semicolons, very long names
-- ---------------------------------------------------------------------
SET ROLE pv_admin;
SELECT kinesis.create_stream('pv''; DROP TABLE kinesis.stream_meta; --', 1);
SELECT kinesis.api('CreateStream', jsonb_build_object('StreamName', repeat('x', 100000), 'ShardCount', 1))
       ->> 'message' LIKE '%Member must have length less than or equal to 128' AS long_name_refused;
SELECT kinesis.create_stream('pv_"quoted"', 1);
SELECT kinesis.put_record('pv_a''; SELECT 1; --', 'x', 'k');
SELECT kinesis.grant_stream_access('pv_nobody', 'pv_a''; DELETE FROM kinesis.stream_grants; --', ARRAY['kinesis:*']);
SELECT kinesis.register_stream_consumer(kinesis.stream_arn('pv_a'), 'c''; DROP TABLE x; --');
SELECT kinesis.register_stream_consumer('arn:aws:kinesis:us-east-1:000000000000:stream/pv_a''--', 'c');
SELECT kinesis.api('CreateStream', jsonb_build_object('StreamName', 'a"; DROP', 'ShardCount', 1)) ->> '__type';
RESET ROLE;
SELECT count(*) AS streams FROM kinesis.stream_meta WHERE stream_name LIKE 'pv%';
SELECT count(*) AS grants FROM kinesis.stream_grants;

-- ---------------------------------------------------------------------
-- Revoking, and clean-up
-- ---------------------------------------------------------------------
SELECT kinesis.revoke_stream_access('pv_a_writer', 'pv_a', ARRAY['kinesis:PutRecord']);
SET ROLE pv_a_writer;
SELECT kinesis.put_record('pv_a', 'x', 'k');
SELECT failed_record_count FROM kinesis.put_records(ARRAY[ROW('x', NULL, 'k')::kinesis.put_records_request_entry], 'pv_a');
RESET ROLE;
SELECT kinesis.revoke_stream_access('pv_a_writer', 'pv_a');
REVOKE kinesis_producer FROM pv_producer;
SET ROLE pv_producer;
SELECT kinesis.put_record('pv_a', 'x', 'k');
RESET ROLE;
SELECT kinesis.revoke_stream_access('pv_a_reader', 'pv_a');
SELECT kinesis.revoke_stream_access('pv_group', 'pv_b');
-- dropping a role drops its grants (pv_admin granted itself * above)
SELECT grantee::text, stream_name, action FROM kinesis.stream_grants;
DROP ROLE pv_admin;
SELECT count(*) AS grants_left FROM kinesis.stream_grants;
SELECT kinesis.delete_stream(stream_name, true) FROM kinesis.stream_meta WHERE stream_name LIKE 'pv%';
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
DROP SCHEMA pv_evil CASCADE;
DROP ROLE pv_producer, pv_consumer, pv_a_writer, pv_a_reader, pv_nobody, pv_member, pv_group;
