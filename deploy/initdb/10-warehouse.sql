-- A small warehouse for pipewarden to watch out of the box (database `warehouse`, from
-- POSTGRES_DB). Two tables with a loaded_at column, each with a week of hourly history so volume
-- has buckets to learn from on the first profile:
-- - public.orders keeps arriving: the warehouse-loader service inserts a row every 30 seconds.
-- - public.inventory_snapshots stops with this seed: about an hour after the stack first starts
--   its freshness check fails, so the dashboards and the console show a real incident.

CREATE TABLE public.orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  store_id integer NOT NULL,
  amount numeric(10, 2) NOT NULL,
  status text NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.inventory_snapshots (
  store_id integer NOT NULL,
  sku text NOT NULL,
  quantity integer NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (store_id, sku, loaded_at)
);

-- Orders: a few per hour for the past seven days, more by day than by night.
INSERT INTO public.orders (store_id, amount, status, loaded_at)
SELECT 1 + (n % 5),
       round((10 + (n * 37) % 90)::numeric, 2),
       (ARRAY['paid', 'paid', 'paid', 'shipped', 'refunded'])[1 + n % 5],
       hour + make_interval(mins => n % 60)
FROM generate_series(date_trunc('hour', now()) - interval '7 days', date_trunc('hour', now()) - interval '1 hour', interval '1 hour') AS hour,
     generate_series(1, 6) AS n
WHERE n <= CASE WHEN extract(hour FROM hour) BETWEEN 8 AND 21 THEN 6 ELSE 2 END;

-- Inventory: every store's stock of three SKUs, snapshotted hourly until now.
INSERT INTO public.inventory_snapshots (store_id, sku, quantity, loaded_at)
SELECT store_id, sku, 20 + (store_id * 7 + length(sku) * 3 + extract(hour FROM hour)::integer) % 40, hour
FROM generate_series(date_trunc('hour', now()) - interval '7 days', date_trunc('hour', now()), interval '1 hour') AS hour,
     generate_series(1, 5) AS store_id,
     unnest(ARRAY['gin-70cl', 'ipa-6pack', 'rioja-75cl']) AS sku;
