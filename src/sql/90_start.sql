-- Last step of installation: ask for this database's maintenance worker
-- (it starts when CREATE EXTENSION commits).
SELECT kinesis._wake_worker();
