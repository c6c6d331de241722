import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { countSegment, createSegment, deleteSegment, findSegment, listSegments, MAX_SEGMENTS_PER_SITE, updateSegment, type SegmentRow } from '../db/segments.ts';
import { isUuid } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { campaignsWaitingOnSegment } from '../db/campaigns.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { operation } from '../openapi/operation.ts';
import { describeSegment, segmentDefinitionSchema } from '../segments/segment-rules.ts';
import { isoInstant } from '../sites/site-view-schemas.ts';
import { text, validate } from '../validation.ts';

const name = text().trim().min(1).max(100);
const count = z.number().int().nonnegative();

const segmentSchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  definition: segmentDefinitionSchema,
  /** The rules in plain words. */
  description: z.string(),
  createdAt: isoInstant,
  updatedAt: isoInstant,
});

const countSchema = z.strictObject({
  /** Active subscriptions the rules match now. */
  matching: count,
  /** The site's active subscriptions. */
  active: count,
  /** Every active subscriber matches: sending to this segment is sending to everyone. */
  matchesEveryone: z.boolean(),
  description: z.string(),
});

const idParam = z.object({ id: text() });

function segmentView(row: SegmentRow): z.input<typeof segmentSchema> {
  return {
    id: row.id,
    name: row.name,
    definition: row.definition,
    description: describeSegment(row.definition),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

function nameTaken(value: string): ApiError {
  return new ApiError('validation_failed', `name: this site already has a segment called “${value}”`, { details: [{ path: 'name', message: 'already taken (names are compared ignoring case)' }] });
}

/**
 * `/v1/segments`: saved audiences by rules (server/segments/segment-rules.ts), for the send API
 * (`to: {"segmentId": …}`) and campaigns; and their live counts, also of rules not saved yet (the
 * dashboard's builder counts as the owner edits).
 */
export function segmentRoutes(deps: AppDeps) {
  const now = () => new Date((deps.now ?? Date.now)());
  const mine = async (siteId: string, id: string): Promise<SegmentRow> => {
    const segment = isUuid(id) ? await findSegment(deps.db, siteId, id) : undefined;
    if (!segment) throw new ApiError('not_found', `No segment ${id} on this site`);
    return segment;
  };

  return new Hono<AppEnv>()
    .use('/v1/segments', secretKeyAuth(deps))
    .use('/v1/segments/*', secretKeyAuth(deps))
    .post(
      '/v1/segments',
      operation({
        summary: 'Save a segment',
        description: `A named audience by rules (all/any, one nested group), e.g. shoppers who viewed a category in the last 30 days and have not ordered. Names are unique per site, ignoring case; at most ${MAX_SEGMENTS_PER_SITE} segments per site.`,
        tag: 'Segments',
        access: 'secretKey',
        responses: { 201: { description: 'Saved', schema: segmentSchema } },
      }),
      validate('json', z.strictObject({ name, definition: segmentDefinitionSchema })),
      async (c) => {
        const input = c.req.valid('json');
        const created = await createSegment(deps.db, c.get('site').id, input, now());
        if (created.outcome !== 'created') {
          throw created.outcome === 'name_taken' ? nameTaken(input.name) : new ApiError('validation_failed', `A site keeps at most ${MAX_SEGMENTS_PER_SITE} segments; delete one first`);
        }
        return c.json(segmentView(created.segment) satisfies z.input<typeof segmentSchema>, 201);
      },
    )
    .get(
      '/v1/segments',
      operation({
        summary: 'List segments',
        description: 'The site’s segments by name.',
        tag: 'Segments',
        access: 'secretKey',
        responses: { 200: { description: 'The segments', schema: z.strictObject({ segments: z.array(segmentSchema) }) } },
      }),
      async (c) => c.json({ segments: (await listSegments(deps.db, c.get('site').id)).map(segmentView) }),
    )
    .post(
      '/v1/segments/count',
      operation({
        summary: 'Count a segment’s rules without saving them',
        description: 'How many active subscribers the rules match now, as a send would resolve them: the live count of a segment being edited.',
        tag: 'Segments',
        access: 'secretKey',
        responses: { 200: { description: 'The count', schema: countSchema } },
      }),
      validate('json', z.strictObject({ definition: segmentDefinitionSchema })),
      async (c) => {
        const { definition } = c.req.valid('json');
        const counted = await countSegment(deps.db, c.get('site').id, definition, now());
        return c.json({ ...counted, description: describeSegment(definition) } satisfies z.input<typeof countSchema>);
      },
    )
    .get(
      '/v1/segments/:id',
      operation({
        summary: 'A segment',
        description: 'Its name, rules and the rules in plain words.',
        tag: 'Segments',
        access: 'secretKey',
        responses: { 200: { description: 'The segment', schema: segmentSchema } },
        errors: ['not_found'],
      }),
      validate('param', idParam),
      async (c) => c.json(segmentView(await mine(c.get('site').id, c.req.valid('param').id)) satisfies z.input<typeof segmentSchema>),
    )
    .patch(
      '/v1/segments/:id',
      operation({
        summary: 'Rename or redefine a segment',
        description: 'Either or both of `name` and `definition`. Notifications already sent to it keep the rules they were sent with.',
        tag: 'Segments',
        access: 'secretKey',
        responses: { 200: { description: 'The segment as it is now', schema: segmentSchema } },
        errors: ['not_found'],
      }),
      validate('param', idParam),
      validate(
        'json',
        z
          .strictObject({ name: name.optional(), definition: segmentDefinitionSchema.optional() })
          .refine((change) => change.name !== undefined || change.definition !== undefined, 'change name, definition or both'),
      ),
      async (c) => {
        const site = c.get('site');
        const { id } = c.req.valid('param');
        const change = c.req.valid('json');
        await mine(site.id, id);
        const updated = await updateSegment(deps.db, site.id, id, change, now());
        if (updated.outcome !== 'updated') {
          throw updated.outcome === 'name_taken' ? nameTaken(change.name ?? '') : new ApiError('not_found', `No segment ${id} on this site`);
        }
        return c.json(segmentView(updated.segment) satisfies z.input<typeof segmentSchema>);
      },
    )
    .delete(
      '/v1/segments/:id',
      operation({
        summary: 'Delete a segment',
        description:
          'Notifications already sent to it keep their own copy of its rules. A segment that a draft or scheduled campaign sends to is kept (409 `invalid_state`, naming the campaigns): the campaign reads its rules when it starts.',
        tag: 'Segments',
        access: 'secretKey',
        responses: { 204: { description: 'Deleted' } },
        errors: ['not_found', 'invalid_state'],
      }),
      validate('param', idParam),
      async (c) => {
        const { id } = c.req.valid('param');
        const siteId = c.get('site').id;
        const waiting = isUuid(id) ? await campaignsWaitingOnSegment(deps.db, siteId, id) : [];
        if (waiting.length > 0) {
          throw new ApiError('invalid_state', `Campaigns not started yet send to this segment: ${waiting.map((campaign) => `“${campaign.name}” (${campaign.status})`).join(', ')}; change their audience or cancel them first`, {
            details: { campaigns: waiting.map((campaign) => campaign.id) },
          });
        }
        if (!isUuid(id) || !(await deleteSegment(deps.db, siteId, id))) throw new ApiError('not_found', `No segment ${id} on this site`);
        return c.body(null, 204);
      },
    )
    .get(
      '/v1/segments/:id/count',
      operation({
        summary: 'Count a segment',
        description: 'How many active subscribers the saved segment matches now, as a send to it would resolve them, and whether that is everyone.',
        tag: 'Segments',
        access: 'secretKey',
        responses: { 200: { description: 'The count', schema: countSchema } },
        errors: ['not_found'],
      }),
      validate('param', idParam),
      async (c) => {
        const site = c.get('site');
        const segment = await mine(site.id, c.req.valid('param').id);
        const counted = await countSegment(deps.db, site.id, segment.definition, now());
        return c.json({ ...counted, description: describeSegment(segment.definition) } satisfies z.input<typeof countSchema>);
      },
    );
}
