-- An ordinary INSERT into a table with a trigger that inserts into a plain outbox table.
\set c random(1, 100000)
\set a random(1, 100000)
INSERT INTO bench.orders_b (customer, amount, note) VALUES (:c, :a, 'ordered through the benchmark');
