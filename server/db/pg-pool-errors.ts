import type pg from 'pg';

/**
 * node-postgres emits 'error' on a client whose server goes away. On an idle client the pool
 * catches it; on a checked-out client (Kysely holds one per query) nobody does, and an unhandled
 * 'error' event kills the process. One listener per client keeps the process alive: the query in
 * flight still fails (and is answered 503), and the pool discards the dead client on release.
 */
export function guardPoolErrors(pool: pg.Pool, onError: (error: Error) => void): pg.Pool {
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}
