-- Change capture: a row trigger that puts every insert, update and delete
-- of a table into a stream, in the same transaction as the change.

CREATE FUNCTION kinesis.capture_trigger()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    table_name text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    target text;
    key_column text;
    old_row jsonb;
    new_row jsonb;
    key_row jsonb;
    key_columns text[];
    key text;
BEGIN
    IF TG_WHEN <> 'AFTER' OR TG_LEVEL <> 'ROW' THEN
        RAISE EXCEPTION 'kinesis.capture_trigger() must be fired AFTER ... FOR EACH ROW, not % ... FOR EACH %',
                        TG_WHEN, TG_LEVEL
            USING ERRCODE = 'trigger_protocol_violated',
                  HINT = 'CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE ON <table> FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger(''<stream>''[, ''<partition key column>''])';
    END IF;
    IF TG_NARGS NOT IN (1, 2) THEN
        RAISE EXCEPTION 'kinesis.capture_trigger() takes the stream name and optionally a partition key column, got % arguments',
                        TG_NARGS
            USING ERRCODE = 'trigger_protocol_violated';
    END IF;
    target := TG_ARGV[0];
    key_column := CASE WHEN TG_NARGS = 2 THEN TG_ARGV[1] END;

    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_row := to_jsonb(OLD);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_row := to_jsonb(NEW);
    END IF;
    key_row := coalesce(new_row, old_row);

    IF key_column IS NOT NULL THEN
        IF NOT (key_row ? key_column) THEN
            RAISE EXCEPTION 'kinesis.capture_trigger(): table % has no column "%" to take the partition key from',
                            table_name, key_column
                USING ERRCODE = 'undefined_column';
        END IF;
        key := key_row ->> key_column;
    ELSE
        SELECT array_agg(a.attname::text ORDER BY k.ord)
          INTO key_columns
          FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE i.indrelid = TG_RELID AND i.indisprimary;
        IF key_columns IS NULL THEN
            RAISE EXCEPTION 'kinesis.capture_trigger(): table % has no primary key to take the partition key from',
                            table_name
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Name a partition key column as the second trigger argument.';
        END IF;
        SELECT string_agg(key_row ->> c.name, '|' ORDER BY c.ord)
          INTO key
          FROM unnest(key_columns) WITH ORDINALITY AS c(name, ord);
    END IF;

    -- Kinesis wants 1..256 characters: never fail the user's write for that
    IF key IS NULL OR key = '' THEN
        key := table_name;
    ELSIF length(key) > 256 THEN
        key := md5(key);
    END IF;

    PERFORM kinesis.put_record(
        stream_name => target,
        data => convert_to(jsonb_build_object(
                    'operation', TG_OP,
                    'table', table_name,
                    'old', old_row,
                    'new', new_row,
                    'transaction_id', pg_current_xact_id()::text)::text, 'UTF8'),
        partition_key => key);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION kinesis.capture_trigger() IS
    'Trigger function that puts each row change into a stream: CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE ON t FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger(''<stream>''[, ''<partition key column>'']). The record is UTF-8 JSON {"operation": TG_OP, "table": "schema.table", "old": row or null, "new": row or null, "transaction_id": pg_current_xact_id()}, put in the same transaction as the change, so a rolled-back change is never read. The partition key is the named column''s value (of the new row, of the old one for DELETE) as it appears in the JSON, or without a column argument the primary key values joined with ''|''; a NULL or empty key becomes "schema.table" and a key longer than 256 characters becomes its md5. Firing it BEFORE, INSTEAD OF or FOR EACH STATEMENT, on a table without a primary key and no column argument, or naming a column the table lacks is an error; so is a change whose JSON exceeds the record size limit, or a stream that does not exist. The writer needs USAGE on schema kinesis and EXECUTE on kinesis.put_record.';
