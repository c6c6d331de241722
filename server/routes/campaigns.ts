import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { recordAudit, secretKeyActor, type CampaignAuditAction } from '../audit/audit-log.ts';
import { campaignChecks, campaignView, campaignViews, type CampaignView } from '../campaigns/campaign-view.ts';
import {
  campaignInputSchema,
  campaignPatchSchema,
  confirmationSchema,
  pickWinnerSchema,
  testSendSchema,
} from '../campaigns/campaign-input.ts';
import {
  campaignOf,
  cancelCampaign,
  createCampaign,
  editCampaign,
  pickWinner,
  readDefinition,
  scheduleCampaign,
  sendCampaignNow,
  testCampaign,
  type CampaignDeps,
  type StateChange,
} from '../campaigns/campaigns.ts';
import { deleteDraftCampaign, listCampaigns } from '../db/campaigns.ts';
import { isUuid } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { reportUrl } from '../notifications/payload.ts';
import { operation } from '../openapi/operation.ts';
import { isoInstant } from '../sites/site-view-schemas.ts';
import { text, timeZoneText, validate } from '../validation.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { campaignTimeline } from '../campaigns/campaign-timeline.ts';
import type { Context } from 'hono';

const count = z.number().int().nonnegative();
const rate = z.number().min(0).max(1);

const variantFiguresSchema = z.strictObject({
  variant: z.string(),
  name: z.string().nullable(),
  notificationId: z.uuid(),
  audience: count,
  sent: count,
  shown: count,
  clicked: count,
  converted: count,
  suppressed: count,
  failed: count,
  revenue: z.record(z.string(), z.number()),
  clickRate: rate.nullable(),
  clickInterval: z.strictObject({ low: rate, high: rate }).nullable(),
  conversionRate: rate.nullable(),
});

const decisionSchema = z.strictObject({
  winner: z.enum(['A', 'B', 'C', 'D']).nullable(),
  reason: z.enum(['significant', 'fallback_leader', 'fallback_variant_a', 'waiting_for_pick', 'picked', 'ended']),
  decidedAt: isoInstant,
  metric: z.enum(['clicks', 'conversions']),
  confidence: z.number(),
  significant: z.boolean(),
  pValue: z.number().nullable(),
  summary: z.string(),
  results: z.array(z.strictObject({ variant: z.string(), delivered: count, successes: count, rate, interval: z.strictObject({ low: rate, high: rate }) })),
});

const checksSchema = z.strictObject({
  audience: count,
  activeSubscribers: count,
  matchesEveryone: z.boolean(),
  confirmAbove: count,
  confirmationRequired: z.boolean(),
  warnings: z.array(z.strictObject({ code: z.enum(['time_passed', 'after_end', 'quiet_hours', 'ttl_lapses']), subscribers: count, message: z.string() })),
});

/** A campaign as `GET /v1/campaigns/{id}` answers it. */
const campaignSchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  status: z.enum(['draft', 'scheduled', 'sending', 'sent', 'cancelled']),
  definition: campaignInputSchema,
  createdAt: isoInstant,
  updatedAt: isoInstant,
  startAt: isoInstant.nullable(),
  startedAt: isoInstant.nullable(),
  sentAt: isoInstant.nullable(),
  cancelledAt: isoInstant.nullable(),
  failure: z.string().nullable(),
  endsAt: isoInstant.nullable(),
  progress: z.strictObject({ resolving: z.boolean(), resolved: count, total: count, sent: count, remaining: count, etaSeconds: count.nullable() }),
  results: z.array(variantFiguresSchema),
  totals: z.strictObject({ sent: count, shown: count, clicked: count, converted: count, revenue: z.record(z.string(), z.number()) }),
  abTest: z.strictObject({ decideAt: isoInstant.nullable(), decision: decisionSchema.nullable() }).nullable(),
  /** Before it goes (draft, scheduled): the count to confirm, "everyone", and what to know about the schedule. */
  checks: checksSchema.optional(),
});

const idParam = z.object({ id: text() });

/** The campaigns resource: `POST/GET /v1/campaigns`, `GET/PATCH/DELETE /v1/campaigns/{id}`, and its actions. */
export function campaignRoutes(deps: AppDeps) {
  const nowMs = () => (deps.now ?? Date.now)();
  const campaignDeps = (): CampaignDeps => ({ db: deps.db, now: new Date(nowMs()), reportUrl: reportUrl(deps.config.publicUrl) });
  const view = async (c: Context<AppEnv>, id: string): Promise<CampaignView & { checks?: Awaited<ReturnType<typeof campaignChecks>> }> => {
    const site = c.get('site');
    const row = await campaignOf(deps.db, site.id, id);
    const shown = await campaignView(deps.db, row, nowMs());
    if (row.status === 'draft' || row.status === 'scheduled') return { ...shown, checks: await campaignChecks(deps.db, site, readDefinition(row), nowMs()) };
    return shown;
  };
  /** After a state change: audited, the workers woken for what it queued, the campaign answered. */
  const answer = async (c: Context<AppEnv>, action: CampaignAuditAction, change: StateChange) => {
    const site = c.get('site');
    if (change.changed) {
      const actor = await secretKeyActor(deps.db, c.get('secretKeyId'));
      if (actor) await recordAudit(deps.db, site.id, actor, { action, campaignId: change.campaign.id, name: change.campaign.name }, new Date(nowMs()));
      for (const queued of change.queued) if (queued.audience > 0 || queued.resolving) await deps.onNotificationQueued?.(queued.id);
      deps.logger.log('info', action.replaceAll('_', ' '), { requestId: c.get('requestId'), siteId: site.id, campaignId: change.campaign.id });
    }
    return c.json((await view(c, change.campaign.id)) satisfies z.input<typeof campaignSchema>);
  };
  const campaignResponse = { 200: { description: 'The campaign', schema: campaignSchema } };

  return new Hono<AppEnv>()
    .use('/v1/campaigns', secretKeyAuth(deps))
    .use('/v1/campaigns/*', secretKeyAuth(deps))
    .post(
      '/v1/campaigns',
      operation({
        summary: 'Create a campaign (draft)',
        description:
          'A campaign is content (with per-locale texts and `{{firstName}}` / `{{tags.KEY}}` placeholders), an audience (everyone, a tag filter, a saved segment or rules inline), an optional schedule (`{"at": instant}` or `{"localTime": "2026-12-05T10:00"}` in each subscriber’s own zone), an optional end and an optional A/B test. It is created as a draft; nothing is sent until it is scheduled or sent.',
        tag: 'Campaigns',
        access: 'secretKey',
        responses: { 201: { description: 'The draft', schema: campaignSchema } },
        errors: [],
      }),
      validate('json', campaignInputSchema),
      async (c) => {
        const row = await createCampaign(campaignDeps(), c.get('site'), c.req.valid('json'));
        return c.json((await view(c, row.id)) satisfies z.input<typeof campaignSchema>, 201);
      },
    )
    .get(
      '/v1/campaigns',
      operation({
        summary: 'List campaigns',
        description: 'Newest first, with status, progress and results; `cursor` from the previous page’s `nextCursor`.',
        tag: 'Campaigns',
        access: 'secretKey',
        responses: { 200: { description: 'A page of campaigns', schema: z.strictObject({ campaigns: z.array(campaignSchema), nextCursor: z.string().nullable() }) } },
        errors: [],
      }),
      validate('query', z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20), cursor: text().max(200).optional() })),
      async (c) => {
        const { limit, cursor } = c.req.valid('query');
        const before = cursor === undefined ? undefined : parseCursor(cursor);
        const rows = await listCampaigns(deps.db, c.get('site').id, { limit: limit + 1, ...(before ? { before } : {}) });
        const page = rows.slice(0, limit);
        const campaigns = await campaignViews(deps.db, page, nowMs());
        const last = page.at(-1);
        const nextCursor = rows.length > limit && last ? `${new Date(last.created_at).toISOString()}~${last.id}` : null;
        return c.json({ campaigns, nextCursor } satisfies z.input<z.ZodObject<{ campaigns: z.ZodArray<typeof campaignSchema>; nextCursor: z.ZodNullable<z.ZodString> }>>);
      },
    )
    .get(
      '/v1/campaigns/:id',
      operation({
        summary: 'A campaign',
        description: 'Its definition, status (draft, scheduled, sending, sent, cancelled), progress (resolved, sent, remaining), results per variant with the click rate’s 95 % interval, and the A/B decision. A draft or scheduled campaign also has `checks`: the audience to confirm, whether it is everyone, and warnings about the schedule.',
        tag: 'Campaigns',
        access: 'secretKey',
        responses: campaignResponse,
        errors: ['not_found'],
      }),
      validate('param', idParam),
      async (c) => c.json((await view(c, c.req.valid('param').id)) satisfies z.input<typeof campaignSchema>),
    )
    .get(
      '/v1/campaigns/:id/timeline',
      operation({
        summary: 'A campaign over time',
        description:
          'Per variant, what was sent, clicked, converted and earned in each hour since the campaign started (in days once it runs longer than three days), on the wall clock of `timeZone` (default: the site’s `engagement.defaultTimeZone`). `revenue` is in `currency`, the currency most of its attributed revenue is in.',
        tag: 'Campaigns',
        access: 'secretKey',
        responses: {
          200: {
            description: 'The timeline',
            schema: z.strictObject({
              unit: z.enum(['hour', 'day']),
              timeZone: z.string(),
              periods: z.array(z.string()),
              currency: z.string().nullable(),
              series: z.array(z.strictObject({ variant: z.string(), sent: z.array(count), clicked: z.array(count), converted: z.array(count), revenue: z.array(z.number()) })),
            }),
          },
        },
        errors: ['not_found'],
      }),
      validate('param', idParam),
      validate('query', z.strictObject({ timeZone: timeZoneText().optional() })),
      async (c) => {
        const site = c.get('site');
        const row = await campaignOf(deps.db, site.id, c.req.valid('param').id);
        const timeZone = c.req.valid('query').timeZone ?? readSiteSettings(site.settings).engagement.defaultTimeZone;
        return c.json(await campaignTimeline(deps.db, row, nowMs(), timeZone));
      },
    )
    .patch(
      '/v1/campaigns/:id',
      operation({
        summary: 'Change a campaign',
        description: 'Only a draft or a scheduled campaign; each given field replaces the stored one (`null` clears `schedule`, `endsAt`, `abTest`, `localized`, `topic`). A scheduled campaign is rescheduled by its new schedule, or back to a draft without one.',
        tag: 'Campaigns',
        access: 'secretKey',
        responses: campaignResponse,
        errors: ['not_found', 'invalid_state'],
      }),
      validate('param', idParam),
      validate('json', campaignPatchSchema),
      async (c) => {
        const row = await editCampaign(campaignDeps(), c.get('site'), c.req.valid('param').id, c.req.valid('json'));
        return c.json((await view(c, row.id)) satisfies z.input<typeof campaignSchema>);
      },
    )
    .delete(
      '/v1/campaigns/:id',
      operation({
        summary: 'Delete a draft campaign',
        description: 'Only drafts: a campaign that was scheduled or sent is cancelled instead, and kept with its figures.',
        tag: 'Campaigns',
        access: 'secretKey',
        responses: { 204: { description: 'Deleted' } },
        errors: ['not_found', 'invalid_state'],
      }),
      validate('param', idParam),
      async (c) => {
        const site = c.get('site');
        const row = await campaignOf(deps.db, site.id, c.req.valid('param').id);
        if (!(await deleteDraftCampaign(deps.db, site.id, row.id))) throw new ApiError('invalid_state', `The campaign is ${row.status}: only a draft can be deleted (cancel it instead)`);
        return c.body(null, 204);
      },
    )
    .post(
      '/v1/campaigns/:id/schedule',
      operation({
        summary: 'Schedule a campaign',
        description: 'By its `schedule`. Above the site’s `campaigns.confirmAbove` subscribers it needs `confirmAudience` (the count shown in `checks.audience`), else 409 `confirmation_required` naming the count. Scheduling again changes nothing.',
        tag: 'Campaigns',
        access: 'secretKey',
        responses: campaignResponse,
        errors: ['not_found', 'invalid_state', 'confirmation_required'],
      }),
      validate('param', idParam),
      validate('json', confirmationSchema),
      async (c) => answer(c, 'campaign_scheduled', await scheduleCampaign(campaignDeps(), c.get('site'), c.req.valid('param').id, c.req.valid('json').confirmAudience)),
    )
    .post(
      '/v1/campaigns/:id/send',
      operation({
        summary: 'Send a campaign now',
        description: 'A draft or a scheduled campaign starts now (a local-time schedule still waits for each zone’s time). Confirmation as for schedule. Sending a campaign that is already going sends nothing again and answers it as it is.',
        tag: 'Campaigns',
        access: 'secretKey',
        responses: campaignResponse,
        errors: ['not_found', 'invalid_state', 'confirmation_required'],
      }),
      validate('param', idParam),
      validate('json', confirmationSchema),
      async (c) => answer(c, 'campaign_sent', await sendCampaignNow(campaignDeps(), c.get('site'), c.req.valid('param').id, c.req.valid('json').confirmAudience)),
    )
    .post(
      '/v1/campaigns/:id/cancel',
      operation({
        summary: 'Cancel a campaign',
        description: 'Stops everything not yet handed to a push service, also in the middle of a send: no more audience is written, waiting deliveries are suppressed (reason `cancelled`). Cancelling again changes nothing; a sent campaign is 409.',
        tag: 'Campaigns',
        access: 'secretKey',
        responses: campaignResponse,
        errors: ['not_found', 'invalid_state'],
      }),
      validate('param', idParam),
      async (c) => answer(c, 'campaign_cancelled', await cancelCampaign(campaignDeps(), c.get('site'), c.req.valid('param').id)),
    )
    .post(
      '/v1/campaigns/:id/winner',
      operation({
        summary: 'Pick an A/B test’s winner',
        description: 'When the test was not significant and the fallback is `manual`, or to end the test early: the variant goes to the rest of the audience now.',
        tag: 'Campaigns',
        access: 'secretKey',
        responses: campaignResponse,
        errors: ['not_found', 'invalid_state'],
      }),
      validate('param', idParam),
      validate('json', pickWinnerSchema),
      async (c) => answer(c, 'campaign_winner_picked', await pickWinner(campaignDeps(), c.get('site'), c.req.valid('param').id, c.req.valid('json').variant)),
    )
    .post(
      '/v1/campaigns/:id/test',
      operation({
        summary: 'Send a campaign as a test',
        description: 'A variant’s text (default A) to chosen subscriptions, e.g. your own browsers, at once: transactional (no cap, no quiet hours) and in none of the campaign’s figures.',
        tag: 'Campaigns',
        access: 'secretKey',
        responses: { 202: { description: 'Queued', schema: z.strictObject({ id: z.uuid(), audience: count }) } },
        errors: ['not_found'],
      }),
      validate('param', idParam),
      validate('json', testSendSchema),
      async (c) => {
        const sent = await testCampaign(campaignDeps(), c.get('site'), c.req.valid('param').id, c.req.valid('json'));
        if (sent.audience > 0) await deps.onNotificationQueued?.(sent.id);
        return c.json({ id: sent.id, audience: sent.audience }, 202);
      },
    );
}

/** `createdAt~id` of the last campaign of a page. */
function parseCursor(cursor: string): { createdAt: Date; id: string } {
  const [createdAt, id] = cursor.split('~');
  const at = new Date(createdAt ?? '');
  if (!id || !isUuid(id) || Number.isNaN(at.getTime())) throw new ApiError('validation_failed', 'cursor: not a cursor from a previous page');
  return { createdAt: at, id };
}
