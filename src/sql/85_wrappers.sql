-- kinesis extension, version 1.0: the privilege checks of the control plane.
--
-- The control-plane operations are SQL and PL/pgSQL functions that write
-- catalog tables no caller may write directly.  Each operation below
-- becomes three functions:
--
--   kinesis.<op>        the function users call, with the same signature,
--                       defaults and comment: SECURITY INVOKER, it checks
--                       as the caller that the caller may perform the
--                       action on the stream (kinesis._authorize), then
--                       calls the gate;
--   kinesis._gate_<op>  SECURITY DEFINER: takes the one-shot ticket the
--                       check left (kinesis._authorized), so it refuses to
--                       run for anyone who skipped the check, then calls
--                       the body with the owner's rights;
--   kinesis_private.<op>  the operation as written in the files before
--                       this one, moved (with its name, which PL/pgSQL
--                       bodies use to qualify their parameters) into a
--                       schema only the owner can use.
--
-- The resource is the stream the call names, as an SQL expression over the
-- call's arguments ($1 ...); NULL means every stream (ListStreams,
-- DescribeLimits).  Data-plane functions (put, get, iterators) check in C.

CREATE FUNCTION kinesis._list_shards_token_stream(next_token text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF next_token IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN kinesis._page_token('L', next_token, 'ListShards') ->> 'n';
EXCEPTION WHEN OTHERS THEN
    -- a bad token: the call itself reports it, if the caller may list
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION kinesis._list_shards_token_stream(text) IS
    'Internal: the stream a ListShards pagination token belongs to (NULL if the token is not valid), the resource a call with only a token is checked against.';

CREATE SCHEMA kinesis_private;
COMMENT ON SCHEMA kinesis_private IS
    'The bodies of the kinesis control-plane operations, run by their kinesis._gate_<op> functions once the caller''s privileges are checked. Usable by the extension''s owner only.';
REVOKE ALL ON SCHEMA kinesis_private FROM PUBLIC;

DO $$
DECLARE
    w record;
    fn oid;
    args text;
    idargs text;
    result text;
    call_args text;
    descr text;
BEGIN
    FOR w IN
        SELECT * FROM (VALUES
            ('create_stream', 'CreateStream', '$1'),
            ('delete_stream', 'DeleteStream', '$1'),
            ('describe_stream', 'DescribeStream', '$1'),
            ('describe_stream_summary', 'DescribeStreamSummary', '$1'),
            ('describe_stream_all_shards', 'DescribeStream', '$1'),
            ('list_streams', 'ListStreams', 'NULL'),
            ('list_all_streams', 'ListStreams', 'NULL'),
            ('list_shards', 'ListShards', 'coalesce($1, kinesis._list_shards_token_stream($2))'),
            ('list_all_shards', 'ListShards', '$1'),
            ('describe_limits', 'DescribeLimits', 'NULL'),
            ('split_shard', 'SplitShard', '$1'),
            ('merge_shards', 'MergeShards', '$1'),
            ('update_shard_count', 'UpdateShardCount', '$1'),
            ('increase_stream_retention_period', 'IncreaseStreamRetentionPeriod', '$1'),
            ('decrease_stream_retention_period', 'DecreaseStreamRetentionPeriod', '$1'),
            ('add_tags_to_stream', 'AddTagsToStream', '$1'),
            ('remove_tags_from_stream', 'RemoveTagsFromStream', '$1'),
            ('list_tags_for_stream', 'ListTagsForStream', '$1'),
            ('register_stream_consumer', 'RegisterStreamConsumer', 'kinesis._arn_stream($1)'),
            ('deregister_stream_consumer', 'DeregisterStreamConsumer', 'kinesis._arn_stream(coalesce($3, $1))'),
            ('describe_stream_consumer', 'DescribeStreamConsumer', 'kinesis._arn_stream(coalesce($3, $1))'),
            ('list_stream_consumers', 'ListStreamConsumers', 'kinesis._arn_stream($1)'),
            ('checkpoint', 'GetRecords', '$1'),
            ('checkpoint_iterator', 'GetShardIterator', '$1'),
            ('enable_enhanced_monitoring', 'EnableEnhancedMonitoring', '$1'),
            ('disable_enhanced_monitoring', 'DisableEnhancedMonitoring', '$1'),
            ('start_stream_encryption', 'StartStreamEncryption', '$1'),
            ('stop_stream_encryption', 'StopStreamEncryption', '$1'),
            ('wait_for_stream', 'DescribeStream', '$1'),
            ('wait_for_stream_exists', 'DescribeStream', '$1'),
            ('wait_for_stream_not_exists', 'DescribeStream', '$1'),
            ('run_maintenance', 'RunMaintenance', 'NULL')
        ) v(op, action, resource)
    LOOP
        SELECT p.oid INTO STRICT fn FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'kinesis'::regnamespace AND p.proname = w.op;
        args := pg_catalog.pg_get_function_arguments(fn);
        idargs := pg_catalog.pg_get_function_identity_arguments(fn);
        result := pg_catalog.pg_get_function_result(fn);
        SELECT pg_catalog.string_agg('$' || i, ', ' ORDER BY i) INTO call_args
          FROM pg_catalog.generate_series(1, (SELECT p.pronargs FROM pg_catalog.pg_proc p WHERE p.oid = fn)) i;
        call_args := coalesce(call_args, '');
        descr := pg_catalog.obj_description(fn, 'pg_proc');

        EXECUTE pg_catalog.format('ALTER FUNCTION kinesis.%I(%s) SET SCHEMA kinesis_private', w.op, idargs);
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION kinesis_private.%I(%s) FROM PUBLIC', w.op, idargs);
        EXECUTE pg_catalog.format('COMMENT ON FUNCTION kinesis_private.%I(%s) IS %L', w.op, idargs,
            pg_catalog.format('Internal: the body of kinesis.%s, run with the owner''s rights by kinesis._gate_%s once the caller''s privileges are checked.', w.op, w.op));

        EXECUTE pg_catalog.format(
            'CREATE FUNCTION kinesis.%I(%s) RETURNS %s LANGUAGE sql VOLATILE SECURITY DEFINER '
            'SET search_path = pg_catalog, pg_temp AS %L',
            '_gate_' || w.op, args, result,
            pg_catalog.format('SELECT kinesis._authorized(%L, %s); SELECT * FROM kinesis_private.%I(%s);',
                              w.action, w.resource, w.op, call_args));
        EXECUTE pg_catalog.format('COMMENT ON FUNCTION kinesis.%I(%s) IS %L', '_gate_' || w.op, idargs,
            pg_catalog.format('Internal: runs kinesis_private.%s as the owner, only right after kinesis.%s checked that its caller may perform kinesis:%s.', w.op, w.op, w.action));

        -- a void operation stays PL/pgSQL, whose void result is not NULL
        EXECUTE pg_catalog.format(
            'CREATE FUNCTION kinesis.%I(%s) RETURNS %s LANGUAGE %s VOLATILE '
            'SET search_path = pg_catalog, pg_temp AS %L',
            w.op, args, result, CASE WHEN result = 'void' THEN 'plpgsql' ELSE 'sql' END,
            CASE WHEN result = 'void'
                 THEN pg_catalog.format('BEGIN PERFORM kinesis._authorize(%L, %s); PERFORM kinesis.%I(%s); END',
                                        w.action, w.resource, '_gate_' || w.op, call_args)
                 ELSE pg_catalog.format('SELECT kinesis._authorize(%L, %s); SELECT * FROM kinesis.%I(%s);',
                                        w.action, w.resource, '_gate_' || w.op, call_args) END);
        EXECUTE pg_catalog.format('COMMENT ON FUNCTION kinesis.%I(%s) IS %L', w.op, idargs,
            descr || pg_catalog.format(' Needs kinesis:%s on the stream (see kinesis.privileges).', w.action));
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------
-- What PUBLIC may use
-- ---------------------------------------------------------------------
-- Every function checks its caller itself, so the schema is open; the
-- tables are not (no grant on them), and the internals that bypass the
-- tables' privileges are closed.
GRANT USAGE ON SCHEMA kinesis TO PUBLIC;
REVOKE ALL ON FUNCTION kinesis._lock_stream(integer, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION kinesis._forget_streams(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION kinesis._token_encode("char", bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION kinesis._wake_worker() FROM PUBLIC;
REVOKE ALL ON FUNCTION kinesis._shard_last_counter(integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION kinesis.inflight() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kinesis.inflight() TO kinesis_admin;
