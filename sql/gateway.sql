-- What the wire gateway stands on (new in 1.1): access keys that map SigV4
-- credentials to roles, who may manage and read them, and SubscribeToShard
-- one event at a time (kinesis.subscribe_to_shard and the API form), with
-- its continuation, its privilege and its errors.
\set VERBOSITY terse

DO $$ BEGIN PERFORM kinesis.delete_stream(stream_name, true) FROM kinesis.stream_meta; END $$;
SELECT count(*) >= 0 AS cleaned FROM kinesis.run_maintenance();

-- ---------------------------------------------------------------------
-- Access keys
-- ---------------------------------------------------------------------
CREATE ROLE gw_admin IN ROLE kinesis_admin;
CREATE ROLE gw_app;
CREATE ROLE gw_other;
CREATE ROLE gw_super SUPERUSER;
GRANT gw_app TO gw_admin;

-- generated keys have AWS's shapes; given ones are kept
SELECT access_key_id ~ '^AKIA[0-9A-F]{16}$' AS key_shape, length(secret_access_key) AS secret_length
  FROM kinesis.create_access_key('gw_app');
SELECT * FROM kinesis.create_access_key('gw_app', 'AKIDGWAPP0000001', 'app-secret-0000001');
SELECT * FROM kinesis.create_access_key('gw_other', 'AKIDGWOTHER00001', 'other-secret-00001');
-- bad input changes nothing
SELECT * FROM kinesis.create_access_key('gw_app', 'AKIDGWAPP0000001', 'app-secret-0000001');
SELECT * FROM kinesis.create_access_key('no_such_role');
SELECT * FROM kinesis.create_access_key(NULL);
SELECT * FROM kinesis.create_access_key('gw_app', 'lower-case-key-id', 'app-secret-0000002');
SELECT * FROM kinesis.create_access_key('gw_app', 'AKIDGWAPP0000002', 'short');
SELECT count(*) FROM kinesis.access_keys;

-- the gateway's look-up: secret and role of an active key only
SELECT * FROM kinesis.gateway_credentials('AKIDGWAPP0000001');
SELECT kinesis.set_access_key_status('AKIDGWAPP0000001', 'Inactive');
SELECT count(*) FROM kinesis.gateway_credentials('AKIDGWAPP0000001');
SELECT kinesis.set_access_key_status('AKIDGWAPP0000001', 'Active');
SELECT kinesis.set_access_key_status('AKIDGWAPP0000001', 'Disabled');
SELECT count(*) FROM kinesis.gateway_credentials('AKIDGWAPP0000001');
SELECT count(*) FROM kinesis.gateway_credentials('AKIDNOSUCHKEY000');

-- who may do what: kinesis_admin members manage keys of roles they are
-- members of, never of a superuser; nobody else sees a secret
SET ROLE gw_admin;
SELECT access_key_id, role_name, status FROM kinesis.access_keys
 WHERE access_key_id LIKE 'AKIDGW%' ORDER BY 1;
SELECT * FROM kinesis.create_access_key('gw_app', 'AKIDGWAPP0000003', 'app-secret-0000003');
SELECT * FROM kinesis.create_access_key('gw_other');
SELECT * FROM kinesis.create_access_key('gw_super');
SELECT * FROM kinesis.gateway_credentials('AKIDGWAPP0000001');
SELECT count(*) FROM kinesis.access_key_store;
SELECT kinesis.delete_access_key('AKIDGWOTHER00001');
SELECT kinesis.delete_access_key('AKIDGWAPP0000003');
RESET ROLE;
SET ROLE gw_app;
SELECT count(*) FROM kinesis.access_keys;
SELECT * FROM kinesis.create_access_key('gw_app');
SELECT kinesis.set_access_key_status('AKIDGWAPP0000001', 'Inactive');
RESET ROLE;
-- the gateway's login role needs kinesis_gateway
SELECT has_function_privilege('gw_other', 'kinesis.gateway_credentials(text)', 'EXECUTE') AS other,
       has_function_privilege('kinesis_gateway', 'kinesis.gateway_credentials(text)', 'EXECUTE') AS gateway;
SELECT kinesis.delete_access_key('AKIDNOSUCHKEY000');
SELECT access_key_id, role_name, status FROM kinesis.access_keys
 WHERE access_key_id LIKE 'AKIDGW%' ORDER BY 1;

-- ---------------------------------------------------------------------
-- SubscribeToShard, one event at a time
-- ---------------------------------------------------------------------
SELECT kinesis.create_stream('gws', 1);
SELECT count(*) >= 0 AS done FROM kinesis.run_maintenance();
SELECT (kinesis.register_stream_consumer(kinesis.stream_arn('gws'), 'sub')).consumer_arn AS arn \gset
-- a consumer that is not ACTIVE yet
SELECT regexp_replace(kinesis.api('SubscribeToShard', jsonb_build_object('ConsumerARN', :'arn',
           'ShardId', 'shardId-000000000000', 'StartingPosition', jsonb_build_object('Type', 'TRIM_HORIZON')))::text,
       ':\d+ ', ':<epoch> ') AS not_active;
DO $$
BEGIN
    FOR i IN 1 .. 100 LOOP
        PERFORM kinesis.run_maintenance();
        EXIT WHEN (SELECT consumer_status FROM kinesis.describe_stream_consumer(kinesis.stream_arn('gws'), 'sub')) = 'ACTIVE';
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT consumer_status FROM kinesis.describe_stream_consumer(kinesis.stream_arn('gws'), 'sub');

-- an empty shard: no records; the continuation is the shard's starting
-- sequence number, after which its first record comes
SELECT e -> 'Records' AS records, e -> 'MillisBehindLatest' AS behind,
       e ->> 'ContinuationSequenceNumber' = (SELECT (x.sequence_number_range).starting_sequence_number FROM unnest((kinesis.list_shards('gws')).shards) x) AS at_start
  FROM kinesis.subscribe_to_shard(:'arn', 'shardId-000000000000', 'TRIM_HORIZON') e;
SELECT e ->> 'ContinuationSequenceNumber' AS cont0
  FROM kinesis.subscribe_to_shard(:'arn', 'shardId-000000000000', 'LATEST') e \gset
SELECT kinesis.put_record('gws', convert_to('r' || i, 'UTF8'), 'k' || i) IS NOT NULL AS put
  FROM generate_series(1, 5) i;
-- from LATEST's continuation: all five, in order; limit caps an event
SELECT jsonb_array_length(e -> 'Records') AS n,
       (SELECT string_agg(convert_from(decode(r ->> 'Data', 'base64'), 'UTF8'), ',')
          FROM jsonb_array_elements(e -> 'Records') r) AS data,
       e ->> 'ContinuationSequenceNumber' = e -> 'Records' -> -1 ->> 'SequenceNumber' AS cont_is_last
  FROM kinesis.subscribe_to_shard(:'arn', 'shardId-000000000000', 'AFTER_SEQUENCE_NUMBER', :'cont0') e;
SELECT e ->> 'ContinuationSequenceNumber' AS cont1,
       (SELECT string_agg(convert_from(decode(r ->> 'Data', 'base64'), 'UTF8'), ',')
          FROM jsonb_array_elements(e -> 'Records') r) AS data
  FROM kinesis.subscribe_to_shard(:'arn', 'shardId-000000000000', 'TRIM_HORIZON', NULL, NULL, 2) e \gset
SELECT :'data' AS first_two;
SELECT (SELECT string_agg(convert_from(decode(r ->> 'Data', 'base64'), 'UTF8'), ',')
          FROM jsonb_array_elements(e -> 'Records') r) AS rest
  FROM kinesis.subscribe_to_shard(:'arn', 'shardId-000000000000', 'AFTER_SEQUENCE_NUMBER', :'cont1') e;
-- caught up: no records, the continuation stays where it was
SELECT e ->> 'ContinuationSequenceNumber' AS cont2
  FROM kinesis.subscribe_to_shard(:'arn', 'shardId-000000000000', 'TRIM_HORIZON') e \gset
SELECT jsonb_array_length(e -> 'Records') AS n, e ->> 'ContinuationSequenceNumber' = :'cont2' AS same
  FROM kinesis.subscribe_to_shard(:'arn', 'shardId-000000000000', 'AFTER_SEQUENCE_NUMBER', :'cont2') e;

-- the API form: AWS's shape, errors as AWS bodies
SELECT jsonb_array_length(kinesis.api('SubscribeToShard', jsonb_build_object(
           'ConsumerARN', :'arn', 'ShardId', 'shardId-000000000000',
           'StartingPosition', jsonb_build_object('Type', 'TRIM_HORIZON')))
       -> 'EventStream' -> 'SubscribeToShardEvent' -> 'Records') AS api_records;
SELECT kinesis.api('SubscribeToShard', jsonb_build_object('ConsumerARN', :'arn', 'ShardId', 'shardId-000000000000'));
SELECT kinesis.api('SubscribeToShard', jsonb_build_object('ShardId', 'shardId-000000000000',
           'StartingPosition', jsonb_build_object('Type', 'LATEST')));
SELECT kinesis.api('SubscribeToShard', jsonb_build_object('ConsumerARN', :'arn', 'StartingPosition', '{}'::jsonb));
SELECT kinesis.api('SubscribeToShard', jsonb_build_object('ConsumerARN', 'not-an-arn', 'ShardId', 'shardId-000000000000',
           'StartingPosition', jsonb_build_object('Type', 'LATEST')));
SELECT kinesis.api('SubscribeToShard', jsonb_build_object('ConsumerARN', :'arn', 'ShardId', 'shardId-000000000009',
           'StartingPosition', jsonb_build_object('Type', 'LATEST')));
SELECT kinesis.api('SubscribeToShard', jsonb_build_object('ConsumerARN', :'arn', 'ShardId', 'shardId-000000000000',
           'StartingPosition', jsonb_build_object('Type', 'SIDEWAYS')));
SELECT kinesis.api('SubscribeToShard', jsonb_build_object('ConsumerARN', :'arn', 'ShardId', 'shardId-000000000000',
           'StartingPosition', '"LATEST"'::jsonb));
SELECT regexp_replace(kinesis.api('SubscribeToShard', jsonb_build_object(
           'ConsumerARN', replace(:'arn', '/sub:', '/nosuch:'), 'ShardId', 'shardId-000000000000',
           'StartingPosition', jsonb_build_object('Type', 'LATEST')))::text, ':\d+', ':<epoch>', 'g') AS unknown_consumer;

-- kinesis:SubscribeToShard: kinesis_consumer brings it, a grant can name it
SET ROLE gw_other;
SELECT kinesis.api('SubscribeToShard', jsonb_build_object('ConsumerARN', :'arn', 'ShardId', 'shardId-000000000000',
           'StartingPosition', jsonb_build_object('Type', 'LATEST'))) ->> '__type' AS denied;
RESET ROLE;
SELECT kinesis.grant_stream_access('gw_other', 'gws', ARRAY['kinesis:SubscribeToShard']);
SET ROLE gw_other;
SELECT jsonb_array_length(e -> 'Records') AS n
  FROM kinesis.subscribe_to_shard(:'arn', 'shardId-000000000000', 'TRIM_HORIZON') e;
RESET ROLE;
GRANT kinesis_consumer TO gw_app;
SELECT role, stream_name, action FROM kinesis.privileges
 WHERE action LIKE '%Subscribe%' AND role LIKE 'gw\_%' ORDER BY 1;
REVOKE kinesis_consumer FROM gw_app;

-- kinesis.api_json(): kinesis.api() with JSON text in and out, which the
-- gateway calls; GetRecords is written as text, the same document
SELECT count(kinesis.put_record('gws', convert_to('odd key ' || k, 'UTF8'), k)) AS put
  FROM unnest(ARRAY['quote"d', 'back\slash', 'ütf-8 ✓', E'tab\there', 'ctl' || chr(1), '</script>']) AS k;
SELECT kinesis.api('GetShardIterator', '{"StreamName": "gws", "ShardId": "shardId-000000000000",
           "ShardIteratorType": "TRIM_HORIZON"}') ->> 'ShardIterator' AS it \gset
SELECT j::jsonb - 'NextShardIterator' = a - 'NextShardIterator' AS same_document,
       jsonb_array_length(j::jsonb -> 'Records') AS records,
       (j::jsonb ->> 'MillisBehindLatest')::bigint = 0 AS caught_up,
       (SELECT array_agg(r ->> 'PartitionKey' ORDER BY r ->> 'SequenceNumber')
          FROM jsonb_array_elements(j::jsonb -> 'Records') r
         WHERE r ->> 'PartitionKey' NOT LIKE 'k%') AS odd_keys
  FROM kinesis.api_json('GetRecords', json_build_object('ShardIterator', :'it')::text) AS j,
       kinesis.api('GetRecords', jsonb_build_object('ShardIterator', :'it')) AS a;
-- behind (MillisBehindLatest), and the next iterator goes on where it stopped
SELECT j::jsonb - 'NextShardIterator' = a - 'NextShardIterator' AS same_document,
       jsonb_array_length(j::jsonb -> 'Records') AS records,
       (j::jsonb ->> 'MillisBehindLatest')::bigint > 0 AS behind,
       (kinesis.api_json('GetRecords', json_build_object('ShardIterator', j::jsonb ->> 'NextShardIterator')::text)::jsonb
          -> 'Records' -> 0 ->> 'SequenceNumber') > (j::jsonb -> 'Records' -> 1 ->> 'SequenceNumber') AS goes_on
  FROM kinesis.api_json('GetRecords', json_build_object('ShardIterator', :'it', 'Limit', 2)::text) AS j,
       kinesis.api('GetRecords', jsonb_build_object('ShardIterator', :'it', 'Limit', 2)) AS a;
-- errors: the AWS bodies of kinesis.api(), for the text path and the others
SELECT kinesis.api_json('GetRecords', '{"ShardIterator": "bogus"}');
SELECT kinesis.api_json('GetRecords', '{"ShardIterator": "bogus"}')::jsonb
     = kinesis.api('GetRecords', '{"ShardIterator": "bogus"}') AS same_error;
SELECT kinesis.api_json('GetRecords', json_build_object('ShardIterator', :'it', 'Limit', 0)::text);
SELECT kinesis.api_json('GetRecords', json_build_object('ShardIterator', :'it', 'Limit', '2')::text);
SELECT kinesis.api_json('GetRecords', '{"ShardIterator": 1}');
SELECT kinesis.api_json('GetRecords', '[]');
SELECT kinesis.api_json('GetRecords', NULL);
SELECT kinesis.api_json(NULL, '{}');
SELECT kinesis.api_json('NoSuchOperation');
SELECT kinesis.api_json('ListStreams', '{}')::jsonb = kinesis.api('ListStreams', '{}') AS same_answer;
-- a body that is no JSON jsonb takes: SerializationException, as on the wire
SELECT kinesis.api_json('GetRecords', '{not json');
SELECT kinesis.api_json('ListStreams', '{"a": "\u0000"}');
SELECT kinesis.api_json('PutRecords', '{"a": 1e1000000}');
SET ROLE gw_other;
SELECT kinesis.api_json('GetRecords', json_build_object('ShardIterator', :'it')::text)::jsonb
     = kinesis.api('GetRecords', jsonb_build_object('ShardIterator', :'it')) AS same_denial,
       kinesis.api_json('GetRecords', json_build_object('ShardIterator', :'it')::text)::jsonb ->> '__type' AS denied;
RESET ROLE;

-- the end of a closed shard: ChildShards, and the continuation stays valid
SELECT kinesis.split_shard('gws', 'shardId-000000000000', '170141183460469231731687303715884105728');
SELECT count(*) >= 0 AS done FROM kinesis.run_maintenance();
SELECT jsonb_array_length(e -> 'Records') AS n,
       (SELECT array_agg(c ->> 'ShardId' ORDER BY c ->> 'ShardId') FROM jsonb_array_elements(e -> 'ChildShards') c) AS children
  FROM kinesis.subscribe_to_shard(:'arn', 'shardId-000000000000', 'AFTER_SEQUENCE_NUMBER', :'cont2') e;
-- GetRecords at the end of the closed shard: ChildShards, no next iterator
SELECT j::jsonb = a AS same_document, j::jsonb ? 'NextShardIterator' AS has_next,
       j::jsonb -> 'ChildShards' AS children
  FROM kinesis.api_json('GetRecords', json_build_object('ShardIterator', :'it')::text) AS j,
       kinesis.api('GetRecords', jsonb_build_object('ShardIterator', :'it')) AS a;

-- the API's retention, monitoring and encryption operations check the
-- caller like the SQL functions do (they run as the gateway's roles)
SET ROLE gw_admin;
SELECT kinesis.api('IncreaseStreamRetentionPeriod', '{"StreamName": "gws", "RetentionPeriodHours": 48}');
SELECT kinesis.api('EnableEnhancedMonitoring', '{"StreamName": "gws", "ShardLevelMetrics": ["ALL"]}') ->> 'StreamName' AS monitored;
SELECT kinesis.api('StopStreamEncryption', '{"StreamName": "gws", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}');
SELECT kinesis.api('DecreaseStreamRetentionPeriod', '{"StreamName": "no_such_stream", "RetentionPeriodHours": 24}');
RESET ROLE;
SET ROLE gw_other;
SELECT kinesis.api('DecreaseStreamRetentionPeriod', '{"StreamName": "gws", "RetentionPeriodHours": 24}') ->> '__type' AS denied;
SELECT kinesis.api('DisableEnhancedMonitoring', '{"StreamName": "gws", "ShardLevelMetrics": ["ALL"]}') ->> '__type' AS denied;
SELECT kinesis.api('StartStreamEncryption', '{"StreamName": "gws", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}') ->> '__type' AS denied;
RESET ROLE;
SELECT retention_period_hours FROM kinesis.describe_stream_summary('gws');

DO $$ BEGIN PERFORM kinesis.delete_stream('gws', true); END $$;
SELECT count(*) >= 0 AS done FROM kinesis.run_maintenance();
SELECT kinesis.delete_access_key(access_key_id) FROM kinesis.access_keys ORDER BY access_key_id;
SELECT kinesis.revoke_stream_access('gw_other', 'gws', NULL);
DROP ROLE gw_admin, gw_app, gw_other, gw_super;
