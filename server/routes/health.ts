import { Hono } from 'hono';
import { sql } from 'kysely';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { operation } from '../openapi/operation.ts';

/** `GET /healthz`: 200 only when the database answers; otherwise the error handler answers 503. */
export function healthRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get(
    '/healthz',
    operation({
      summary: 'Whether the server and its database answer',
      tag: 'Operations',
      access: 'public',
      responses: { 200: { description: 'Both answer', schema: z.strictObject({ status: z.literal('ok'), database: z.literal('ok') }) } },
    }),
    async (c) => {
      await sql`select 1`.execute(deps.db);
      return c.json({ status: 'ok', database: 'ok' });
    },
  );
}
