/**
 * A shop's campaigns in the dashboard, over the same domain functions as `/v1/campaigns`
 * (campaigns.ts) and the same view (campaign-view.ts), so a form refuses what the API refuses and
 * every figure on a page is the API's:
 *
 * - `GET  …/campaigns` — the list; `GET/POST …/campaigns/new` — the composer (a POST with
 *   `intent=preview` draws it again and stores nothing: the live preview posts that);
 * - `GET  …/campaigns/audience-count` — the chosen audience's count as JSON, for the composer's script;
 * - `GET  …/campaigns/:id` — the review (draft, scheduled), progress (sending), results (after);
 * - `GET  …/campaigns/:id/progress` — the progress as JSON, for the page's script;
 * - `GET/POST …/campaigns/:id/edit`, `POST …/send` (send now or schedule, with the confirmation
 *   naming the count), `GET/POST …/cancel`, `POST …/winner`, `POST …/test` (to the member's own
 *   test browsers, as the template editor's "Send to my browsers").
 *
 * Composing is `edit_campaigns`, sending, scheduling, cancelling and picking a winner `send`
 * (roles.ts); a viewer reads. Each change of state a member makes is audited with the member as
 * its actor, as the API audits its key.
 */
import type { Hono } from 'hono';
import type { AppDeps } from '../app-env.ts';
import { can } from '../accounts/roles.ts';
import { recordAudit, userActor, type CampaignAuditAction } from '../audit/audit-log.ts';
import { campaignTimeline } from '../campaigns/campaign-timeline.ts';
import { campaignChecks, campaignView, campaignViews } from '../campaigns/campaign-view.ts';
import { VARIANT_NAMES, type CampaignInput, type CampaignPatch, type VariantName } from '../campaigns/campaign-input.ts';
import {
  campaignOf,
  cancelCampaign,
  createCampaign,
  editCampaign,
  pickWinner,
  readDefinition,
  scheduleCampaign,
  sendCampaignNow,
  variantContent,
  type CampaignDeps,
  type StateChange,
} from '../campaigns/campaigns.ts';
import { listCampaigns, type CampaignRow } from '../db/campaigns.ts';
import type { NotificationContent, Role } from '../db/database.ts';
import { findSiteForMember } from '../db/memberships.ts';
import { countAudience } from '../db/notifications.ts';
import { countSegment, findSegment, listSegments } from '../db/segments.ts';
import { describeSegment, type SegmentDefinition } from '../segments/segment-rules.ts';
import { applyBuilderIntent, blankBuilder, builderFields, builderFromFields, definitionFromBuilder, isBuilderField } from './segment-form.ts';
import type { LiveSession } from '../db/sessions.ts';
import { isUuid, type SiteRow } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { MAX_PAYLOAD_BYTES, reportUrl, worstCasePayloadBytes } from '../notifications/payload.ts';
import { personalise, worstCasePersonalised } from '../notifications/personalisation.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { dashboardAssets } from './assets/assets.ts';
import type { AutomationRouteKit } from './automation-routes.ts';
import {
  blankCampaignFields,
  campaignFields,
  campaignFromFields,
  placeDomainMessage,
  postedCampaignFields,
  sentence,
  type CampaignFields,
  type CampaignFormState,
} from './campaign-form.ts';
import type { NotificationPreview } from './notification-preview.ts';
import {
  audienceCountWords,
  campaignListPage,
  campaignPage,
  campaignsPath,
  cancelCampaignPage,
  composerPage,
  EXAMPLE_FIRST_NAME,
  type AudienceCount,
  type CampaignTestPush,
} from './pages/campaign-pages.ts';
import type { DashboardContext, DashboardEnv } from './routes.ts';

type Member = { site: SiteRow; role: Role };

const LIST_PAGE_SIZE = 25;
const EXAMPLE_TAGS = { firstName: EXAMPLE_FIRST_NAME };
/** The notification id and tag the payload budget is counted with: every id has this length. */
const SAMPLE_ID = '00000000-0000-4000-8000-000000000000';

/**
 * The preview of typed texts (they may not have passed validation yet, so nothing here throws):
 * the content personalised for the example shopper, and the payload bytes of the largest of its
 * texts (each translation, each variant) at the longest names and tags, as the send checks them.
 */
export function campaignPreview(values: CampaignFields, site: SiteRow, publicUrl: string): NotificationPreview {
  const actions: Array<{ action: string; title: string; url?: string }> = [];
  for (let i = 0; i < 2; i++) {
    const title = (values[`actions.${i}.title`] ?? '').trim();
    const url = (values[`actions.${i}.url`] ?? '').trim();
    if (title !== '' || url !== '') actions.push({ action: `button-${i + 1}`, title, ...(url ? { url } : {}) });
  }
  const content: NotificationContent = {
    title: (values.title ?? '').trim(),
    body: values.body ?? '',
    url: (values.url ?? '').trim(),
    ...(values.icon?.trim() ? { icon: values.icon.trim() } : {}),
    ...(values.image?.trim() ? { image: values.image.trim() } : {}),
    ...(actions.length > 0 ? { actions } : {}),
    tag: SAMPLE_ID,
  };
  const texts: NotificationContent[] = [content];
  for (const [name, title] of Object.entries(values)) {
    const match = /^(localized|variants)\.(\d+)\.title$/.exec(name);
    if (match) texts.push({ ...content, title, body: values[`${match[1]}.${match[2]}.body`] ?? '' });
  }
  const bytes = Math.max(...texts.map((text) => worstCasePayloadBytes(SAMPLE_ID, worstCasePersonalised(text), reportUrl(publicUrl))));
  const shown = personalise(content, EXAMPLE_TAGS);
  const origin = site.allowed_origins[0] ?? site.name;
  let host = origin;
  try {
    host = new URL(origin).host;
  } catch {
    // An origin that does not parse is shown as stored.
  }
  return {
    message: { title: shown.title, body: shown.body, ...(shown.actions ? { actions: shown.actions.map(({ action, title }) => ({ action, title })) } : {}) },
    origin,
    host,
    bytes,
    limit: MAX_PAYLOAD_BYTES,
    bytesLeft: MAX_PAYLOAD_BYTES - bytes,
  };
}

/** The audience the composer's fields name, for its live count; undefined when none is complete yet. */
function audienceOfFields(values: CampaignFields, timeZone: string, kept?: CampaignInput): CampaignInput['audience'] | undefined {
  if (values.audience === 'tag') {
    const key = (values.tagKey ?? '').trim();
    return key === '' ? undefined : { tags: { [key]: (values.tagValue ?? '').trim() } };
  }
  if (values.audience === 'segment') {
    const id = (values.segmentId ?? '').trim();
    return isUuid(id) ? { segmentId: id } : undefined;
  }
  if (values.audience === 'rules') {
    const built = definitionFromBuilder(builderFromFields(values), timeZone);
    return 'definition' in built ? { segment: built.definition } : undefined;
  }
  if (values.audience === 'kept') return kept?.audience;
  return { all: true };
}

/** A campaign's stored definition as a full replacement for `editCampaign`: what the form cleared is null. */
function replacement(definition: CampaignInput): CampaignPatch {
  return {
    ...definition,
    localized: definition.localized ?? null,
    topic: definition.topic ?? null,
    schedule: definition.schedule ?? null,
    endsAt: definition.endsAt ?? null,
    abTest: definition.abTest ?? null,
  };
}

export function campaignRoutes(app: Hono<DashboardEnv>, deps: AppDeps, kit: AutomationRouteKit): void {
  const { now, publicUrl, page, message, refuse, signedInPost, toSignIn, chromeFor } = kit;
  const domainDeps = (): CampaignDeps => ({ db: deps.db, now: now(), reportUrl: reportUrl(publicUrl) });
  const notFound = (c: DashboardContext) => message(c, 404, 'Page not found', 'There is no such shop among yours.');
  const noCampaign = (c: DashboardContext, member: Member) =>
    message(c, 404, 'Page not found', 'There is no such campaign in this shop.', { href: campaignsPath(member.site.id), label: 'Back to the campaigns' });

  async function memberFor(c: DashboardContext, userId: string): Promise<Member | undefined> {
    return findSiteForMember(deps.db, userId, c.req.param('siteId') ?? '');
  }

  async function siteChrome(live: LiveSession, token: string, member: Member) {
    const { chrome } = await chromeFor(live, token);
    return { ...chrome, site: { id: member.site.id, name: member.site.name, role: member.role } };
  }

  const zoneOf = (site: SiteRow) => readSiteSettings(site.settings).engagement.defaultTimeZone;

  function refused(c: DashboardContext, member: Member, what: 'change' | 'send', back: string) {
    const words = what === 'change' ? 'cannot create or change campaigns. Nothing was changed.' : 'cannot send, schedule or cancel campaigns. Nothing was sent.';
    return message(c, 403, 'Not allowed', `Your role on ${member.site.name} (${member.role}) ${words}`, { href: back, label: 'Back to the campaigns' });
  }

  /** The campaign of the address, or undefined (another shop's, or no campaign). */
  async function campaignFor(c: DashboardContext, member: Member): Promise<CampaignRow | undefined> {
    const id = c.req.param('campaignId') ?? '';
    if (!isUuid(id)) return undefined;
    try {
      return await campaignOf(deps.db, member.site.id, id);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'not_found') return undefined;
      throw error;
    }
  }

  /**
   * The audience's count now. A segment (saved or written here) is counted by countSegment, the
   * count `GET /v1/segments/{id}/count` answers; the other selectors as a send resolves them.
   */
  async function counted(site: SiteRow, audience: CampaignInput['audience'] | undefined): Promise<AudienceCount & { description?: string }> {
    const at = now();
    let rules: SegmentDefinition | undefined = audience?.segment;
    if (audience?.segmentId !== undefined) rules = (await findSegment(deps.db, site.id, audience.segmentId))?.definition;
    if (rules) {
      const figures = await countSegment(deps.db, site.id, rules, at);
      return { audience: figures.matching, activeSubscribers: figures.active, matchesEveryone: figures.matchesEveryone, description: describeSegment(rules) };
    }
    const activeSubscribers = await countAudience(deps.db, site.id, { all: true }, at);
    const audienceSize = audience && audience.segmentId === undefined ? await countAudience(deps.db, site.id, audience, at) : 0;
    return { audience: audienceSize, activeSubscribers, matchesEveryone: activeSubscribers > 0 && audienceSize === activeSubscribers };
  }

  /** The site's segments by name with their counts now, for the composer's select; and their names by id. */
  async function segmentChoices(site: SiteRow) {
    const at = now();
    const choices = [];
    for (const row of await listSegments(deps.db, site.id)) {
      const figures = await countSegment(deps.db, site.id, row.definition, at);
      choices.push({ id: row.id, name: row.name, matching: figures.matching, matchesEveryone: figures.matchesEveryone });
    }
    return choices;
  }

  async function segmentNames(site: SiteRow): Promise<Map<string, string>> {
    return new Map((await listSegments(deps.db, site.id)).map((row) => [row.id, row.name]));
  }

  // --- the list ---

  app.get('/sites/:siteId/campaigns', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const cursor = c.req.query('cursor');
    const [createdAt, id] = (cursor ?? '').split('~');
    const before = cursor && id && isUuid(id) && !Number.isNaN(new Date(createdAt ?? '').getTime()) ? { createdAt: new Date(createdAt!), id } : undefined;
    const rows = await listCampaigns(deps.db, member.site.id, { limit: LIST_PAGE_SIZE + 1, ...(before ? { before } : {}) });
    const shown = rows.slice(0, LIST_PAGE_SIZE);
    const views = await campaignViews(deps.db, shown, now().getTime());
    const last = shown.at(-1);
    const [assets, chrome, names] = await Promise.all([dashboardAssets(), siteChrome(live, token, member), segmentNames(member.site)]);
    return page(
      c,
      campaignListPage({
        segmentNames: names,
        assets,
        chrome,
        campaigns: views,
        timeZone: zoneOf(member.site),
        canCreate: can(member.role, 'edit_campaigns'),
        nextCursor: rows.length > LIST_PAGE_SIZE && last ? `${new Date(last.created_at).toISOString()}~${last.id}` : null,
      }),
    );
  });

  // --- the composer ---

  async function renderComposer(
    c: DashboardContext,
    live: LiveSession,
    token: string,
    member: Member,
    form: CampaignFormState,
    options: { row?: CampaignRow; status?: 200 | 422; previewOnly?: boolean } = {},
  ) {
    const kept = options.row ? readDefinition(options.row) : undefined;
    const timeZone = zoneOf(member.site);
    // The live preview's script takes only the preview from the page: the counts (one per saved
    // segment) are left out of its drawings rather than run at every keystroke.
    const [assets, chrome, audienceCount, segments] = await Promise.all([
      dashboardAssets(),
      siteChrome(live, token, member),
      options.previewOnly ? ({ audience: 0, activeSubscribers: 0, matchesEveryone: false } as Awaited<ReturnType<typeof counted>>) : counted(member.site, audienceOfFields(form.values, timeZone, kept)),
      options.previewOnly ? [] : segmentChoices(member.site),
    ]);
    const builder = builderFromFields(form.values);
    const { description, ...figures } = audienceCount;
    return page(
      c,
      composerPage({
        assets,
        chrome,
        ...(options.row ? { campaign: { id: options.row.id, name: options.row.name, status: options.row.status } } : {}),
        form,
        preview: campaignPreview(form.values, member.site, publicUrl),
        audienceCount: figures,
        ...(description !== undefined && (form.values.audience === 'rules' || form.values.audience === 'segment') ? { audienceDescription: description } : {}),
        segments,
        builder: builder.rows.length === 0 && builder.groups.length === 0 ? blankBuilder() : builder,
        timeZone,
      }),
      options.status ?? 200,
    );
  }

  app.get('/sites/:siteId/campaigns/new', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    if (!can(member.role, 'edit_campaigns')) return refused(c, member, 'change', campaignsPath(member.site.id));
    return renderComposer(c, live, token, member, { values: blankCampaignFields(), errors: {}, general: [] });
  });

  /** A posted composer: drawn again (preview, problems) or stored, then on to the review. */
  async function composerPost(c: DashboardContext, existing: boolean) {
    const checked = await signedInPost(c);
    if ('refusal' in checked) return refuse(c, checked.refusal);
    const { live, token, fields } = checked;
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const list = campaignsPath(member.site.id);
    if (!can(member.role, 'edit_campaigns')) return refused(c, member, 'change', list);
    const row = existing ? await campaignFor(c, member) : undefined;
    if (existing && !row) return noCampaign(c, member);
    const values = postedCampaignFields(fields);
    const blank: CampaignFormState = { values, errors: {}, general: [] };
    if (fields.intent === 'preview' || fields.intent === 'refresh') {
      const previewOnly = fields.intent === 'preview' && c.req.header('X-Pushcart-Preview') === 'only';
      return renderComposer(c, live, token, member, blank, { ...(row ? { row } : {}), previewOnly });
    }
    // A button of the rules builder (add or remove a rule or a group): drawn again with the change.
    const builderChange = applyBuilderIntent(builderFromFields(values), fields.intent);
    if (builderChange) {
      const others = Object.fromEntries(Object.entries(values).filter(([name]) => !isBuilderField(name)));
      return renderComposer(c, live, token, member, { ...blank, values: { ...others, ...builderFields(builderChange) } }, row ? { row } : {});
    }
    const kept = row ? readDefinition(row) : undefined;
    const built = campaignFromFields(values, zoneOf(member.site), kept);
    if ('form' in built) return renderComposer(c, live, token, member, built.form, { status: 422, ...(row ? { row } : {}) });
    const segmentId = built.definition.audience.segmentId;
    if (segmentId !== undefined && segmentId !== kept?.audience.segmentId && !(await findSegment(deps.db, member.site.id, segmentId))) {
      return renderComposer(c, live, token, member, { ...blank, errors: { segmentId: 'That segment is not one of this shop’s (it may have been deleted). Choose another.' } }, { status: 422, ...(row ? { row } : {}) });
    }
    let saved: CampaignRow;
    try {
      saved = row ? await editCampaign(domainDeps(), member.site, row.id, replacement(built.definition)) : await createCampaign(domainDeps(), member.site, built.definition);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'validation_failed') return renderComposer(c, live, token, member, placeDomainMessage(error.message, blank), { status: 422, ...(row ? { row } : {}) });
      if (error instanceof ApiError && error.code === 'invalid_state') {
        return message(c, 403, 'It cannot be changed now', `${sentence(error.message)} Nothing was changed.`, { href: `${list}/${row!.id}`, label: 'Back to the campaign' });
      }
      throw error;
    }
    deps.logger.log('info', existing ? 'campaign changed' : 'campaign created', { siteId: member.site.id, userId: live.user.id, campaignId: saved.id, requestId: c.get('requestId') });
    return c.redirect(`${list}/${saved.id}?done=saved`, 303);
  }

  app.post('/sites/:siteId/campaigns/new', (c) => composerPost(c, false));

  app.get('/sites/:siteId/campaigns/audience-count', async (c) => {
    const live = c.get('live');
    if (!live) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const query = c.req.query();
    const values: CampaignFields = {
      ...Object.fromEntries(Object.entries(query).filter(([name]) => isBuilderField(name))),
      audience: query.audience ?? 'everyone',
      tagKey: (query.tagKey ?? '').slice(0, 64),
      tagValue: (query.tagValue ?? '').slice(0, 200),
      segmentId: (query.segmentId ?? '').slice(0, 64),
    };
    const { description, ...audienceCount } = await counted(member.site, audienceOfFields(values, zoneOf(member.site)));
    return c.json({ ...audienceCount, words: audienceCountWords(audienceCount), ...(description !== undefined ? { description } : {}) });
  });

  // --- one campaign ---

  async function renderCampaign(
    c: DashboardContext,
    live: LiveSession,
    token: string,
    member: Member,
    row: CampaignRow,
    extra: { error?: string; done?: 'saved' | 'sent' | 'scheduled' | 'cancelled' | 'picked'; testPush?: CampaignTestPush; status?: 200 | 422 } = {},
  ) {
    const nowMs = now().getTime();
    const view = await campaignView(deps.db, row, nowMs);
    const before = row.status === 'draft' || row.status === 'scheduled';
    const [assets, chrome, checks] = await Promise.all([dashboardAssets(), siteChrome(live, token, member), before ? campaignChecks(deps.db, member.site, view.definition, nowMs) : undefined]);
    const timeZone = zoneOf(member.site);
    const timeline = row.started_at ? await campaignTimeline(deps.db, row, nowMs, timeZone) : undefined;
    const { status, ...shown } = extra;
    return page(
      c,
      campaignPage({
        assets,
        chrome,
        view,
        ...(checks ? { checks } : {}),
        preview: campaignPreview(campaignFields(view.definition, timeZone), member.site, publicUrl),
        timeZone,
        canEdit: can(member.role, 'edit_campaigns'),
        canSend: can(member.role, 'send'),
        segmentNames: await segmentNames(member.site),
        ...(timeline ? { timeline } : {}),
        ...shown,
      }),
      status ?? 200,
    );
  }

  const DONE = ['saved', 'sent', 'scheduled', 'cancelled', 'picked'] as const;

  app.get('/sites/:siteId/campaigns/:campaignId', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const row = await campaignFor(c, member);
    if (!row) return noCampaign(c, member);
    const done = DONE.find((word) => word === c.req.query('done'));
    return renderCampaign(c, live, token, member, row, done ? { done } : {});
  });

  app.get('/sites/:siteId/campaigns/:campaignId/progress', async (c) => {
    const live = c.get('live');
    if (!live) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const row = await campaignFor(c, member);
    if (!row) return c.json({ error: 'not_found' }, 404);
    const view = await campaignView(deps.db, row, now().getTime());
    return c.json({ status: view.status, progress: view.progress, totals: view.totals });
  });

  app.get('/sites/:siteId/campaigns/:campaignId/edit', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const row = await campaignFor(c, member);
    if (!row) return noCampaign(c, member);
    const here = `${campaignsPath(member.site.id)}/${row.id}`;
    if (!can(member.role, 'edit_campaigns')) return refused(c, member, 'change', here);
    if (row.status !== 'draft' && row.status !== 'scheduled') {
      return renderCampaign(c, live, token, member, row, { error: `The campaign is ${row.status}: only a draft or a scheduled campaign can be changed.` });
    }
    return renderComposer(c, live, token, member, { values: campaignFields(readDefinition(row), zoneOf(member.site)), errors: {}, general: [] }, { row });
  });

  app.post('/sites/:siteId/campaigns/:campaignId/edit', (c) => composerPost(c, true));

  /** Checks a posted state change: signed in, the campaign, the `send` permission. */
  async function sendingPost(c: DashboardContext) {
    const checked = await signedInPost(c);
    if ('refusal' in checked) return { response: await refuse(c, checked.refusal) };
    const member = await memberFor(c, checked.live.user.id);
    if (!member) return { response: await notFound(c) };
    if (!can(member.role, 'send')) return { response: await refused(c, member, 'send', campaignsPath(member.site.id)) };
    const row = await campaignFor(c, member);
    if (!row) return { response: await noCampaign(c, member) };
    return { ...checked, member, row };
  }

  /** After a change of state: audited with the member as actor, the workers woken, back to the page. */
  async function changed(c: DashboardContext, live: LiveSession, member: Member, action: CampaignAuditAction, change: StateChange, done: (typeof DONE)[number]) {
    if (change.changed) {
      await recordAudit(deps.db, member.site.id, userActor(live.user), { action, campaignId: change.campaign.id, name: change.campaign.name }, now());
      for (const queued of change.queued) if (queued.audience > 0 || queued.resolving) await deps.onNotificationQueued?.(queued.id);
      deps.logger.log('info', action.replaceAll('_', ' '), { siteId: member.site.id, userId: live.user.id, campaignId: change.campaign.id, requestId: c.get('requestId') });
    }
    return c.redirect(`${campaignsPath(member.site.id)}/${change.campaign.id}?done=${done}`, 303);
  }

  /** A refusal of the domain, drawn on the campaign's page in words. */
  async function refusedChange(c: DashboardContext, live: LiveSession, token: string, member: Member, row: CampaignRow, error: unknown) {
    if (!(error instanceof ApiError)) throw error;
    const fresh = (await campaignFor(c, member)) ?? row;
    if (error.code === 'confirmation_required') {
      const audience = (error.options.details as { audience?: number } | undefined)?.audience ?? 0;
      return renderCampaign(c, live, token, member, fresh, {
        status: 422,
        error: `Nothing was sent: this campaign goes to ${audience.toLocaleString('en')} subscribers. Tick “${readDefinition(fresh).schedule && fresh.status === 'draft' ? 'Schedule for' : 'Send to'} ${audience.toLocaleString('en')} subscribers” to confirm.`,
      });
    }
    if (error.code === 'not_found') return noCampaign(c, member);
    if (error.code === 'invalid_state' || error.code === 'validation_failed' || error.code === 'payload_too_large') {
      return renderCampaign(c, live, token, member, fresh, { status: 422, error: `Nothing was changed: ${sentence(error.message)}` });
    }
    throw error;
  }

  app.post('/sites/:siteId/campaigns/:campaignId/send', async (c) => {
    const posted = await sendingPost(c);
    if ('response' in posted) return posted.response;
    const { live, token, member, row, fields } = posted;
    const raw = (fields.confirmAudience ?? '').trim();
    const confirmAudience = /^\d{1,12}$/.test(raw) ? Number(raw) : undefined;
    const schedule = fields.intent === 'schedule';
    try {
      const change = schedule
        ? await scheduleCampaign(domainDeps(), member.site, row.id, confirmAudience)
        : await sendCampaignNow(domainDeps(), member.site, row.id, confirmAudience);
      return await changed(c, live, member, schedule ? 'campaign_scheduled' : 'campaign_sent', change, schedule ? 'scheduled' : 'sent');
    } catch (error) {
      return refusedChange(c, live, token, member, row, error);
    }
  });

  app.get('/sites/:siteId/campaigns/:campaignId/cancel', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const row = await campaignFor(c, member);
    if (!row) return noCampaign(c, member);
    const here = `${campaignsPath(member.site.id)}/${row.id}`;
    if (!can(member.role, 'send')) return refused(c, member, 'send', here);
    if (row.status === 'sent' || row.status === 'cancelled') return c.redirect(here, 303);
    const [assets, chrome, view] = await Promise.all([dashboardAssets(), siteChrome(live, token, member), campaignView(deps.db, row, now().getTime())]);
    return page(c, cancelCampaignPage({ assets, chrome, view }));
  });

  app.post('/sites/:siteId/campaigns/:campaignId/cancel', async (c) => {
    const posted = await sendingPost(c);
    if ('response' in posted) return posted.response;
    const { live, token, member, row } = posted;
    try {
      return await changed(c, live, member, 'campaign_cancelled', await cancelCampaign(domainDeps(), member.site, row.id), 'cancelled');
    } catch (error) {
      return refusedChange(c, live, token, member, row, error);
    }
  });

  app.post('/sites/:siteId/campaigns/:campaignId/winner', async (c) => {
    const posted = await sendingPost(c);
    if ('response' in posted) return posted.response;
    const { live, token, member, row, fields } = posted;
    const variant = VARIANT_NAMES.find((name) => name === fields.variant);
    if (!variant) return renderCampaign(c, live, token, member, row, { status: 422, error: 'Choose a variant: A, B, C or D.' });
    try {
      return await changed(c, live, member, 'campaign_winner_picked', await pickWinner(domainDeps(), member.site, row.id, variant), 'picked');
    } catch (error) {
      return refusedChange(c, live, token, member, row, error);
    }
  });

  app.post('/sites/:siteId/campaigns/:campaignId/test', async (c) => {
    const posted = await sendingPost(c);
    if ('response' in posted) return posted.response;
    const { live, token, member, row, fields } = posted;
    const definition = readDefinition(row);
    const count = definition.abTest?.variants.length ?? 1;
    const asked = VARIANT_NAMES.find((name) => name === fields.variant);
    const variant: VariantName | null = asked && VARIANT_NAMES.indexOf(asked) < count && definition.abTest ? asked : null;
    // The variant's text as the example shopper gets it, to the member's own test browsers (test
    // devices are no subscriptions of the shop, so this is the template editor's test push rather
    // than testCampaign). A click opens this page: the shop's pages are another origin, which the
    // dashboard's service worker may not open.
    const { content } = variantContent(definition, variant);
    const shown = personalise({ ...content, tag: 'pushcart-test' }, EXAMPLE_TAGS);
    const here = `${publicUrl}${campaignsPath(member.site.id)}/${row.id}`;
    const results = await kit.ownTestPush(member.site, live.user.id, {
      title: shown.title,
      body: shown.body,
      ...(shown.icon ? { icon: shown.icon } : {}),
      ...(shown.image ? { image: shown.image } : {}),
      ...(shown.actions ? { actions: shown.actions.map(({ action, title }) => ({ action, title })) } : {}),
      url: here,
      tag: 'pushcart-test',
    });
    deps.logger.log('info', 'campaign test push', { siteId: member.site.id, userId: live.user.id, campaignId: row.id, requestId: c.get('requestId') });
    return renderCampaign(c, live, token, member, row, {
      testPush: results === 'unavailable' ? { kind: 'unavailable' } : { kind: 'sent', results: results.map(({ outcome, detail }) => ({ outcome, detail })) },
    });
  });
}

