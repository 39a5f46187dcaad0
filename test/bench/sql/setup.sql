-- Objects of the benchmark database.  Run once on a fresh cluster, after
-- CREATE EXTENSION kinesis (and pgq, and the pgmq script, when available).

CREATE SCHEMA bench;

-- Baselines: plain tables with the row shape and primary key of
-- kinesis.records.
CREATE TABLE bench.base (
    stream_id     integer NOT NULL,
    shard_index   integer NOT NULL,
    seq           bigint NOT NULL,
    arrival       timestamptz NOT NULL,
    partition_key text NOT NULL,
    data          bytea NOT NULL,
    PRIMARY KEY (stream_id, shard_index, seq)
);
CREATE SEQUENCE bench.base_seq;

CREATE TABLE bench.drain_base (LIKE bench.base INCLUDING ALL);

-- The range scan of the drain baseline, answered in get_records' shape: one
-- row holding the batch as an array of composites and the position to go on
-- from, which the client unnests as it unnests get_records' answer.  It
-- measures what that shape costs PostgreSQL, whoever fills the array.
CREATE TYPE bench.drain_record AS (seq bigint, arrival timestamptz, partition_key text, data bytea);
CREATE FUNCTION bench.drain_base_batch(shard integer, after bigint,
                                       OUT records bench.drain_record[], OUT next_after bigint)
LANGUAGE sql STABLE
AS $$
    SELECT array_agg(ROW(d.seq, d.arrival, d.partition_key, d.data)::bench.drain_record ORDER BY d.seq),
           max(d.seq)
      FROM (SELECT seq, arrival, partition_key, data FROM bench.drain_base
             WHERE stream_id = 1 AND shard_index = shard AND seq > after
             ORDER BY seq LIMIT 10000) AS d
$$;
CREATE TABLE bench.lat_base (LIKE bench.base INCLUDING ALL);
CREATE SEQUENCE bench.lat_base_seq;
CREATE TABLE bench.outbox (LIKE bench.base INCLUDING ALL);
CREATE SEQUENCE bench.outbox_seq;

-- Trigger-produced events: the same ordinary table twice.
CREATE TABLE bench.orders_k (
    id       bigserial PRIMARY KEY,
    customer integer NOT NULL,
    amount   numeric(12, 2) NOT NULL,
    note     text,
    created  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE bench.orders_b (LIKE bench.orders_k INCLUDING ALL);
ALTER TABLE bench.orders_b ALTER COLUMN id SET DEFAULT nextval('bench.orders_k_id_seq');

CREATE TRIGGER capture AFTER INSERT OR UPDATE OR DELETE ON bench.orders_k
    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('trig', 'customer');

-- The outbox trigger writes the same JSON document as kinesis.capture_trigger
-- (operation, table, old row, new row, transaction id) and picks the shard
-- from the same key column, so the difference is the put itself.
CREATE FUNCTION bench.outbox_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    key text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_row := to_jsonb(OLD);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_row := to_jsonb(NEW);
    END IF;
    key := coalesce(new_row, old_row) ->> 'customer';
    INSERT INTO bench.outbox (stream_id, shard_index, seq, arrival, partition_key, data)
    VALUES (1, hashtext(key) & 15, nextval('bench.outbox_seq'), clock_timestamp(), key,
            convert_to(jsonb_build_object(
                'operation', TG_OP,
                'table', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME,
                'old', old_row,
                'new', new_row,
                'transaction_id', pg_current_xact_id()::text)::text, 'UTF8'));
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox AFTER INSERT OR UPDATE OR DELETE ON bench.orders_b
    FOR EACH ROW EXECUTE FUNCTION bench.outbox_trigger();

-- Streams: 1 and 16 shards for the producers, 16 for the trigger, 4 for
-- the drain (one consumer per shard), 1 for the latency probe.
SELECT kinesis.create_stream(stream_name => 'b1', shard_count => 1);
SELECT kinesis.create_stream(stream_name => 'b16', shard_count => 16);
SELECT kinesis.create_stream(stream_name => 'trig', shard_count => 16);
SELECT kinesis.create_stream(stream_name => 'drain', shard_count => 4);
SELECT kinesis.create_stream(stream_name => 'lat', shard_count => 1);
-- the maintenance worker makes them ACTIVE
SELECT kinesis.wait_for_stream(n) FROM unnest(ARRAY['b1', 'b16', 'trig', 'drain', 'lat']) AS n;
