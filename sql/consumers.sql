-- Stream consumers (RegisterStreamConsumer, DeregisterStreamConsumer,
-- DescribeStreamConsumer, ListStreamConsumers), DeleteStream's
-- EnforceConsumerDeletion, and checkpoints: a SQL consumer that stores its
-- position in the transaction that applies the records is exactly-once.
\set VERBOSITY terse

DO $$ BEGIN PERFORM kinesis.delete_stream(stream_name, true) FROM kinesis.stream_meta; END $$;
SELECT count(*) >= 0 AS cleaned FROM kinesis.run_maintenance();

SELECT kinesis.create_stream('cs', 2);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT kinesis.stream_arn('cs') AS arn \gset
-- ARNs carry the creation time in seconds: print them with it masked
CREATE FUNCTION masked(t text) RETURNS text LANGUAGE sql AS $$ SELECT regexp_replace(t, ':\d+$', ':<epoch>') $$;
-- the error a statement raises, ARN times masked
CREATE FUNCTION try_masked(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN regexp_replace(SQLERRM, '(/consumer/[^:]+):\d+', '\1:<epoch>', 'g');
END
$$;

-- ---------------------------------------------------------------------
-- RegisterStreamConsumer
-- ---------------------------------------------------------------------
SELECT * FROM kinesis.register_stream_consumer(NULL, NULL);
SELECT * FROM kinesis.register_stream_consumer('not an arn', 'bad name!');
SELECT * FROM kinesis.register_stream_consumer('arn:aws:kinesis:us-east-1:000000000000:stream/no_such', 'c1');
SELECT * FROM kinesis.register_stream_consumer('arn:aws:kinesis:eu-west-1:000000000000:stream/cs', 'c1');
SELECT consumer_name, masked(consumer_arn), consumer_status,
       consumer_creation_timestamp = date_trunc('second', consumer_creation_timestamp) AS whole_seconds
  FROM kinesis.register_stream_consumer(:'arn', 'c1');
SELECT * FROM kinesis.register_stream_consumer(:'arn', 'c1');
SELECT consumer_count FROM kinesis.describe_stream_summary('cs');
-- at most 5 CREATING at once
SELECT (kinesis.register_stream_consumer(:'arn', 'c' || i)).consumer_name FROM generate_series(2, 5) i;
SELECT * FROM kinesis.register_stream_consumer(:'arn', 'c6');
SELECT stream_name, task, outcome, detail FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
-- at most 20 per stream
DO $$
BEGIN
    FOR i IN 6 .. 20 LOOP
        PERFORM kinesis.register_stream_consumer(kinesis.stream_arn('cs'), 'c' || i);
        PERFORM kinesis.run_maintenance();
    END LOOP;
END $$;
SELECT * FROM kinesis.register_stream_consumer(:'arn', 'c21');

-- ---------------------------------------------------------------------
-- DescribeStreamConsumer and ListStreamConsumers
-- ---------------------------------------------------------------------
SELECT consumer_arn AS c1_arn FROM kinesis.describe_stream_consumer(:'arn', 'c1') \gset
SELECT consumer_name, masked(consumer_arn), consumer_status, stream_arn = :'arn' AS stream
  FROM kinesis.describe_stream_consumer(consumer_arn => :'c1_arn');
SELECT consumer_name FROM kinesis.describe_stream_consumer(:'arn', 'c1', :'c1_arn');
SELECT * FROM kinesis.describe_stream_consumer();
SELECT * FROM kinesis.describe_stream_consumer(:'arn');
SELECT try_masked(format('SELECT kinesis.describe_stream_consumer(%L, %L, %L)', :'arn', 'c2', :'c1_arn'));
SELECT * FROM kinesis.describe_stream_consumer(:'arn', 'nobody');
SELECT * FROM kinesis.describe_stream_consumer(consumer_arn => regexp_replace(:'c1_arn', ':\d+$', ':1'));
SELECT * FROM kinesis.describe_stream_consumer(consumer_arn => 'arn:aws:kinesis:us-east-1:000000000000:stream/cs');
SELECT cardinality(consumers), next_token IS NOT NULL AS more FROM kinesis.list_stream_consumers(:'arn');
SELECT cardinality(consumers), (consumers[1]).consumer_name, (consumers[7]).consumer_name, next_token IS NOT NULL AS more
  FROM kinesis.list_stream_consumers(:'arn', max_results => 7);
SELECT next_token AS tok FROM kinesis.list_stream_consumers(:'arn', max_results => 7) \gset
SELECT cardinality(consumers), (consumers[1]).consumer_name, next_token IS NOT NULL AS more
  FROM kinesis.list_stream_consumers(:'arn', :'tok', 20);
SELECT * FROM kinesis.list_stream_consumers(:'arn', 'garbage');
SELECT * FROM kinesis.list_stream_consumers(:'arn', :'tok', stream_creation_timestamp => now());
SELECT * FROM kinesis.list_stream_consumers(:'arn', max_results => 0);
SELECT * FROM kinesis.list_stream_consumers(NULL);
SELECT cardinality(consumers) FROM kinesis.list_stream_consumers(:'arn',
    stream_creation_timestamp => (SELECT stream_creation_timestamp FROM kinesis.streams WHERE stream_name = 'cs'));
SELECT * FROM kinesis.list_stream_consumers(:'arn', stream_creation_timestamp => '2000-01-01');

-- ---------------------------------------------------------------------
-- DeregisterStreamConsumer; a name registered again gets a new ARN
-- ---------------------------------------------------------------------
SELECT kinesis.deregister_stream_consumer(:'arn', 'c20');
SELECT consumer_status FROM kinesis.describe_stream_consumer(:'arn', 'c20');
SELECT kinesis.deregister_stream_consumer(:'arn', 'c20');
SELECT stream_name, task, outcome, detail FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT * FROM kinesis.describe_stream_consumer(:'arn', 'c20');
SELECT kinesis.deregister_stream_consumer(consumer_arn => :'c1_arn');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT pg_sleep(1.1);
SELECT consumer_arn <> :'c1_arn' AS new_arn FROM kinesis.register_stream_consumer(:'arn', 'c1');
SELECT try_masked(format('SELECT kinesis.describe_stream_consumer(consumer_arn => %L)', :'c1_arn'));
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;

-- ---------------------------------------------------------------------
-- Checkpoints: the consumer's work and its position commit together
-- ---------------------------------------------------------------------
CREATE TABLE applied (data text PRIMARY KEY);
SELECT count(*) FROM generate_series(1, 6) i,
       LATERAL kinesis.put_record('cs', convert_to('e' || i, 'UTF8'), 'k', explicit_hash_key => '0') p;
-- a consumer step: read from the checkpoint, apply, checkpoint, all in one transaction
CREATE FUNCTION consume_step(n integer, fail boolean) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    g record;
    last text;
BEGIN
    SELECT * INTO g FROM kinesis.get_records(
        kinesis.checkpoint_iterator('cs', 'c2', 'shardId-000000000000'), n);
    INSERT INTO applied SELECT convert_from(r.data, 'UTF8') FROM unnest(g.records) r;
    last := g.records[cardinality(g.records)].sequence_number;
    IF last IS NOT NULL THEN
        PERFORM kinesis.checkpoint('cs', 'c2', 'shardId-000000000000', last);
    END IF;
    IF fail THEN
        RAISE EXCEPTION 'the consumer failed after applying';
    END IF;
    RETURN cardinality(g.records);
END
$$;
SELECT consume_step(2, false);
SELECT consume_step(2, true);          -- rolled back: neither applied nor checkpointed
SELECT consume_step(2, false);
SELECT consume_step(10, false);
SELECT consume_step(10, false);
SELECT string_agg(data, ',' ORDER BY data) AS applied_once FROM applied;
SELECT consumer_name, shard_index FROM kinesis.checkpoints ORDER BY 1, 2;
-- errors
SELECT kinesis.checkpoint('cs', 'nobody', 'shardId-000000000000', '1');
SELECT kinesis.checkpoint('cs', 'c2', 'shardId-000000000042', '1');
DO $$
BEGIN
    PERFORM kinesis.checkpoint('cs', 'c2', 'shardId-000000000001',
        (SELECT sequence_number FROM kinesis.checkpoints WHERE consumer_name = 'c2'));
EXCEPTION WHEN SQLSTATE 'KN002' THEN
    RAISE NOTICE '%', regexp_replace(SQLERRM, '\d{56}', '<seq>');
END $$;
SELECT kinesis.checkpoint_iterator('cs', 'c3', 'shardId-000000000000', 'LATEST') IS NOT NULL AS latest;

-- ---------------------------------------------------------------------
-- Through kinesis.api()
-- ---------------------------------------------------------------------
SELECT masked(r #>> '{Consumer,ConsumerARN}') AS arn, r #>> '{Consumer,ConsumerStatus}' AS status,
       jsonb_typeof(r #> '{Consumer,ConsumerCreationTimestamp}') AS created_type
  FROM kinesis.api('RegisterStreamConsumer', jsonb_build_object('StreamARN', :'arn', 'ConsumerName', 'api')) r;
SELECT masked(kinesis.api('DescribeStreamConsumer', jsonb_build_object('StreamARN', :'arn', 'ConsumerName', 'api'))
              #>> '{ConsumerDescription,ConsumerARN}');
SELECT kinesis.api('DescribeStreamConsumer', jsonb_build_object('StreamARN', :'arn', 'ConsumerName', 'api'))
       #> '{ConsumerDescription}' ?& ARRAY['ConsumerName', 'ConsumerARN', 'ConsumerStatus', 'ConsumerCreationTimestamp', 'StreamARN'] AS shape;
SELECT jsonb_array_length(kinesis.api('ListStreamConsumers', jsonb_build_object('StreamARN', :'arn', 'MaxResults', 3)) -> 'Consumers') AS n,
       kinesis.api('ListStreamConsumers', jsonb_build_object('StreamARN', :'arn', 'MaxResults', 3)) ? 'NextToken' AS more;
SELECT kinesis.api('DeregisterStreamConsumer', jsonb_build_object('StreamARN', :'arn', 'ConsumerName', 'api'));
SELECT kinesis.api('DeregisterStreamConsumer', '{}');

-- ---------------------------------------------------------------------
-- DeleteStream: refused while consumers exist, unless enforced
-- ---------------------------------------------------------------------
SELECT kinesis.delete_stream('cs');
SELECT kinesis.api('DeleteStream', '{"StreamName": "cs"}');
SELECT kinesis.delete_stream('cs', enforce_consumer_deletion => true);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT (SELECT count(*) FROM kinesis.consumers) AS consumers_left, (SELECT count(*) FROM kinesis.checkpoints) AS checkpoints_left;
DROP TABLE applied;
DROP FUNCTION consume_step(integer, boolean);
DROP FUNCTION masked(text), try_masked(text);
