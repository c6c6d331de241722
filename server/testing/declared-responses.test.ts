import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AppEnv } from '../app-env.ts';
import { errorBody } from '../errors.ts';
import { operation } from '../openapi/operation.ts';
import { validate } from '../validation.ts';
import { declaredResponseChecker } from './declared-responses.ts';

/** A route that answers whatever the test asks for, declared to answer `{id}` with 200 or `not_found`. */
function appAnswering(answer: { status: number; body: unknown }) {
  const app = new Hono<AppEnv>().get(
    '/things/:id',
    operation({ summary: 'A thing', tag: 'Things', access: 'secretKey', responses: { 200: { description: 'It', schema: z.strictObject({ id: z.string() }) } }, errors: ['not_found'] }),
    validate('param', z.object({ id: z.string() })),
    (c) => c.json(answer.body as object, answer.status as 200),
  );
  const check = declaredResponseChecker(() => app.routes);
  return async (path = '/things/1') => {
    const request = new Request(`http://test${path}`);
    return check(request, await app.fetch(request));
  };
}

describe('an answer checked against its declaration', () => {
  it('passes when its status and body are the declared ones', async () => {
    expect(await appAnswering({ status: 200, body: { id: '1' } })()).toEqual({ operation: 'GET /things/{id}', status: 200 });
    expect(await appAnswering({ status: 404, body: errorBody('not_found', 'No thing', 'r1') })()).toEqual({ operation: 'GET /things/{id}', status: 404 });
    // Implied by the secret-key access.
    expect(await appAnswering({ status: 401, body: errorBody('invalid_key', 'Unknown key', 'r1') })()).toEqual({ operation: 'GET /things/{id}', status: 401 });
  });

  it('fails for a field the schema does not declare, or a missing one', async () => {
    await expect(appAnswering({ status: 200, body: { id: '1', secret: 'x' } })()).rejects.toThrow(/does not match GET \/things\/\{id\}'s declared 200 schema/);
    await expect(appAnswering({ status: 200, body: {} })()).rejects.toThrow(/declared 200 schema/);
  });

  it('fails for a status the operation does not declare', async () => {
    await expect(appAnswering({ status: 201, body: { id: '1' } })()).rejects.toThrow(/status 201 is not declared/);
    await expect(appAnswering({ status: 409, body: errorBody('idempotency_conflict', 'x', 'r1') })()).rejects.toThrow(/status 409 is not declared/);
  });

  it('fails for an error code not declared for that status, or a body not in the error shape', async () => {
    await expect(appAnswering({ status: 404, body: errorBody('invalid_key', 'x', 'r1') })()).rejects.toThrow(/code declared for GET \/things\/\{id\} \(not_found\)/);
    await expect(appAnswering({ status: 404, body: { message: 'gone' } })()).rejects.toThrow(/not the error shape/);
  });

  it('holds a request no route matched to the error shape with its code’s status', async () => {
    const check = appAnswering({ status: 200, body: { id: '1' } });
    // Hono's own 404 is plain text: an app must answer unknown routes in the error shape.
    await expect(check('/elsewhere')).rejects.toThrow(/the body is not JSON/);
  });
});
