-- PgQ in a long producer transaction.
BEGIN;
SELECT pgq.insert_event(:queue, 'put', :text);
SELECT pg_sleep(0.005);
COMMIT;
