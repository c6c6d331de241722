import { Hono } from 'hono';
import { sql } from 'kysely';
import type { AppDeps, AppEnv } from '../app-env.ts';

/** `GET /healthz`: 200 only when the database answers; otherwise the error handler answers 503. */
export function healthRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get('/healthz', async (c) => {
    await sql`select 1`.execute(deps.db);
    return c.json({ status: 'ok', database: 'ok' });
  });
}
