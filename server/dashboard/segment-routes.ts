/**
 * A shop's segments in the dashboard, over the same data functions as `/v1/segments`
 * (server/db/segments.ts) and the same schema (segment-rules.ts), so the builder refuses what the
 * API refuses and every count is the one `GET /v1/segments/{id}/count` answers:
 *
 * - `GET  …/segments` — the list with each segment's rules in words and its count now;
 * - `GET/POST …/segments/new`, `GET/POST …/segments/:id/edit` — the builder (a POST whose intent
 *   is a builder button — add a rule or a group, remove one, update — draws it again and stores
 *   nothing: that is the builder without JavaScript);
 * - `GET  …/segments/count?…builder fields…` — the count of rules not saved yet, as JSON, for the
 *   page script (a GET: it reads and changes nothing, as the composer's audience count);
 * - `GET/POST …/segments/:id/delete` — the confirmation, and the delete.
 *
 * A delete is refused while a campaign that has not started (draft or scheduled) sends to the
 * segment: a campaign copies its segment's rules when it starts (campaigns.ts), so deleting it
 * first would leave the campaign without an audience — cancelled at its hour, or a review page
 * that cannot count. The refusal names the campaigns. Campaigns already started keep their copy.
 *
 * Changing segments is `edit_campaigns` (roles.ts): segments are campaign audiences. A viewer reads.
 */
import type { Hono } from 'hono';
import type { AppDeps } from '../app-env.ts';
import { can } from '../accounts/roles.ts';
import type { Db, Role } from '../db/database.ts';
import { findSiteForMember } from '../db/memberships.ts';
import { campaignsWaitingOnSegment } from '../db/campaigns.ts';
import { countSegment, createSegment, deleteSegment, findSegment, listSegments, MAX_SEGMENTS_PER_SITE, updateSegment, type SegmentRow } from '../db/segments.ts';
import type { LiveSession } from '../db/sessions.ts';
import { isUuid, type SiteRow } from '../db/sites.ts';
import { describeSegment, type SegmentDefinition } from '../segments/segment-rules.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { text } from '../validation.ts';
import { dashboardAssets } from './assets/assets.ts';
import type { AutomationRouteKit } from './automation-routes.ts';
import { deleteSegmentPage, segmentCountWords, segmentEditPage, segmentListPage, segmentsPath, type SegmentFigures } from './pages/segment-pages.ts';
import type { DashboardContext, DashboardEnv } from './routes.ts';
import { applyBuilderIntent, blankBuilder, builderFromFields, builderOfDefinition, definitionFromBuilder, type BuilderErrors, type BuilderState } from './segment-form.ts';

type Member = { site: SiteRow; role: Role };

type SegmentKit = Omit<AutomationRouteKit, 'ownTestPush'>;

const segmentName = text().trim().min(1).max(100);

/** The count and the words the page shows, as the count route answers them. */
export function countAnswer(figures: SegmentFigures, definition: SegmentDefinition) {
  return { ...figures, words: segmentCountWords(figures), description: describeSegment(definition) };
}

export function segmentRoutes(app: Hono<DashboardEnv>, deps: AppDeps, kit: SegmentKit): void {
  const { now, page, message, refuse, signedInPost, toSignIn, chromeFor } = kit;
  const notFound = (c: DashboardContext) => message(c, 404, 'Page not found', 'There is no such shop among yours.');
  const noSegment = (c: DashboardContext, member: Member) =>
    message(c, 404, 'Page not found', 'There is no such segment in this shop.', { href: segmentsPath(member.site.id), label: 'Back to the segments' });
  const zoneOf = (site: SiteRow) => readSiteSettings(site.settings).engagement.defaultTimeZone;

  async function memberFor(c: DashboardContext, userId: string): Promise<Member | undefined> {
    return findSiteForMember(deps.db, userId, c.req.param('siteId') ?? '');
  }

  async function siteChrome(live: LiveSession, token: string, member: Member) {
    const { chrome } = await chromeFor(live, token);
    return { ...chrome, site: { id: member.site.id, name: member.site.name, role: member.role } };
  }

  function refused(c: DashboardContext, member: Member) {
    return message(c, 403, 'Not allowed', `Your role on ${member.site.name} (${member.role}) cannot create, change or delete segments. Nothing was changed.`, {
      href: segmentsPath(member.site.id),
      label: 'Back to the segments',
    });
  }

  async function segmentFor(c: DashboardContext, member: Member): Promise<SegmentRow | undefined> {
    const id = c.req.param('segmentId') ?? '';
    return isUuid(id) ? findSegment(deps.db, member.site.id, id) : undefined;
  }

  // --- the list ---

  app.get('/sites/:siteId/segments', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const at = now();
    const segments = [];
    for (const row of await listSegments(deps.db, member.site.id)) {
      segments.push({ id: row.id, name: row.name, description: describeSegment(row.definition), figures: await countSegment(deps.db, member.site.id, row.definition, at) });
    }
    const [assets, chrome] = await Promise.all([dashboardAssets(), siteChrome(live, token, member)]);
    return page(c, segmentListPage({ assets, chrome, segments, canEdit: can(member.role, 'edit_campaigns'), done: c.req.query('done') === 'deleted' ? 'deleted' : undefined }));
  });

  // --- the builder ---

  interface BuilderForm {
    name: string;
    state: BuilderState;
    errors: BuilderErrors;
    general: string[];
  }

  async function renderBuilder(c: DashboardContext, live: LiveSession, token: string, member: Member, form: BuilderForm, options: { row?: SegmentRow; status?: 200 | 422; done?: 'saved' } = {}) {
    const timeZone = zoneOf(member.site);
    // The count of the rules as they stand, when they are complete: what the script shows live.
    const built = definitionFromBuilder(form.state, timeZone);
    const [assets, chrome, figures, usedBy] = await Promise.all([
      dashboardAssets(),
      siteChrome(live, token, member),
      'definition' in built ? countSegment(deps.db, member.site.id, built.definition, now()) : undefined,
      options.row ? campaignsWaitingOnSegment(deps.db, member.site.id, options.row.id) : [],
    ]);
    return page(
      c,
      segmentEditPage({
        assets,
        chrome,
        ...(options.row ? { segment: { id: options.row.id, name: options.row.name } } : {}),
        name: form.name,
        state: form.state,
        errors: form.errors,
        general: form.general,
        ...(figures && 'definition' in built ? { figures, description: describeSegment(built.definition) } : {}),
        timeZone,
        usedBy,
        ...(options.done ? { done: options.done } : {}),
      }),
      options.status ?? 200,
    );
  }

  app.get('/sites/:siteId/segments/new', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    if (!can(member.role, 'edit_campaigns')) return refused(c, member);
    return renderBuilder(c, live, token, member, { name: '', state: blankBuilder(), errors: {}, general: [] });
  });

  app.get('/sites/:siteId/segments/count', async (c) => {
    const live = c.get('live');
    if (!live) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const built = definitionFromBuilder(builderFromFields(c.req.query()), zoneOf(member.site));
    if ('errors' in built) return c.json({ complete: false, errors: built.errors, words: 'Finish the rules to see how many subscribers match.' });
    const figures = await countSegment(deps.db, member.site.id, built.definition, now());
    return c.json({ complete: true, ...countAnswer(figures, built.definition) });
  });

  /** A posted builder: drawn again (a builder button, problems) or stored, then back to the list. */
  async function builderPost(c: DashboardContext, existing: boolean) {
    const checked = await signedInPost(c);
    if ('refusal' in checked) return refuse(c, checked.refusal);
    const { live, token, fields } = checked;
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    if (!can(member.role, 'edit_campaigns')) return refused(c, member);
    const row = existing ? await segmentFor(c, member) : undefined;
    if (existing && !row) return noSegment(c, member);
    const kept = row ? { row } : {};
    const state = builderFromFields(fields);
    const name = (fields.name ?? '').slice(0, 200);
    const changed = applyBuilderIntent(state, fields.intent);
    if (changed || fields.intent === 'refresh') return renderBuilder(c, live, token, member, { name, state: changed ?? state, errors: {}, general: [] }, kept);
    const built = definitionFromBuilder(state, zoneOf(member.site));
    const errors: BuilderErrors = 'errors' in built ? { ...built.errors } : {};
    const parsedName = segmentName.safeParse(name);
    if (!parsedName.success) errors.name = name.trim() === '' ? 'Give the segment a name.' : 'Use at most 100 characters.';
    if ('errors' in built || !parsedName.success) return renderBuilder(c, live, token, member, { name, state, errors, general: [] }, { ...kept, status: 422 });
    const at = now();
    const input = { name: parsedName.data, definition: built.definition };
    const saved = row ? await updateSegment(deps.db, member.site.id, row.id, input, at) : await createSegment(deps.db, member.site.id, input, at);
    if (saved.outcome === 'name_taken') {
      return renderBuilder(c, live, token, member, { name, state, errors: { name: `This shop already has a segment called “${parsedName.data}” (names are compared ignoring case).` }, general: [] }, { ...kept, status: 422 });
    }
    if (saved.outcome === 'too_many') {
      return renderBuilder(c, live, token, member, { name, state, errors: {}, general: [`A shop keeps at most ${MAX_SEGMENTS_PER_SITE} segments; delete one first.`] }, { ...kept, status: 422 });
    }
    if (!('segment' in saved)) return noSegment(c, member);
    deps.logger.log('info', existing ? 'segment changed' : 'segment created', { siteId: member.site.id, userId: live.user.id, segmentId: saved.segment.id, requestId: c.get('requestId') });
    return c.redirect(`${segmentsPath(member.site.id)}/${saved.segment.id}/edit?done=saved`, 303);
  }

  app.post('/sites/:siteId/segments/new', (c) => builderPost(c, false));

  app.get('/sites/:siteId/segments/:segmentId/edit', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const row = await segmentFor(c, member);
    if (!row) return noSegment(c, member);
    if (!can(member.role, 'edit_campaigns')) return refused(c, member);
    const done = c.req.query('done') === 'saved' ? ('saved' as const) : undefined;
    return renderBuilder(c, live, token, member, { name: row.name, state: builderOfDefinition(row.definition, zoneOf(member.site)), errors: {}, general: [] }, { row, ...(done ? { done } : {}) });
  });

  app.post('/sites/:siteId/segments/:segmentId/edit', (c) => builderPost(c, true));

  // --- delete ---

  async function renderDelete(c: DashboardContext, live: LiveSession, token: string, member: Member, row: SegmentRow, refusedNow: boolean) {
    const [assets, chrome, usedBy] = await Promise.all([dashboardAssets(), siteChrome(live, token, member), campaignsWaitingOnSegment(deps.db, member.site.id, row.id)]);
    return page(
      c,
      deleteSegmentPage({ assets, chrome, segment: { id: row.id, name: row.name, description: describeSegment(row.definition) }, usedBy, ...(refusedNow ? { status: 'refused' as const } : {}) }),
      refusedNow ? 422 : 200,
    );
  }

  app.get('/sites/:siteId/segments/:segmentId/delete', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const row = await segmentFor(c, member);
    if (!row) return noSegment(c, member);
    if (!can(member.role, 'edit_campaigns')) return refused(c, member);
    return renderDelete(c, live, token, member, row, false);
  });

  app.post('/sites/:siteId/segments/:segmentId/delete', async (c) => {
    const checked = await signedInPost(c);
    if ('refusal' in checked) return refuse(c, checked.refusal);
    const { live, token } = checked;
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    if (!can(member.role, 'edit_campaigns')) return refused(c, member);
    const row = await segmentFor(c, member);
    if (!row) return noSegment(c, member);
    // Checked, then deleted: a campaign pointed at it in between is the rare race the campaign
    // itself answers (it is cancelled at its start, with the reason, rather than sent to no one).
    const outcome = (await campaignsWaitingOnSegment(deps.db, member.site.id, row.id)).length > 0 ? 'in_use' : (await deleteSegment(deps.db, member.site.id, row.id)) ? 'deleted' : 'gone';
    if (outcome === 'in_use') return renderDelete(c, live, token, member, row, true);
    if (outcome === 'gone') return noSegment(c, member);
    deps.logger.log('info', 'segment deleted', { siteId: member.site.id, userId: live.user.id, segmentId: row.id, requestId: c.get('requestId') });
    return c.redirect(`${segmentsPath(member.site.id)}?done=deleted`, 303);
  });
}
