-- pgmq in a long producer transaction.
BEGIN;
SELECT pgmq.send(:queue, :json::jsonb);
SELECT pg_sleep(0.005);
COMMIT;
