/**
 * The campaign pages: the list, the composer (content, translations, audience with its live count,
 * the schedule picker, the A/B set-up, beside the notification preview of the template editor),
 * and a campaign's own page — the review before it goes, its progress while it goes, its results
 * per variant after. Every figure is one of the campaign view's (campaign-view.ts), the numbers
 * `GET /v1/campaigns/{id}` answers. Every value goes in through hono/html, which escapes it.
 */
import { html } from 'hono/html';
import { MAX_ACTIONS } from '../../../service-worker/src/contract.ts';
import type { CampaignChecks, CampaignView, VariantFigures } from '../../campaigns/campaign-view.ts';
import type { CampaignInput } from '../../campaigns/campaign-input.ts';
import type { CampaignDecision } from '../../campaigns/campaigns.ts';
import type { CampaignStatus, Role } from '../../db/database.ts';
import type { DashboardAssets } from '../assets/assets.ts';
import { BLANK_LOCALE_ROWS, localeRowCount, VARIANT_ROWS, type CampaignFormState } from '../campaign-form.ts';
import { dayChart, dayLabel, funnelChart, share, type LineSeries } from '../charts.ts';
import type { CampaignTimeline } from '../../campaigns/campaign-timeline.ts';
import { appPage, assetUrl, csrfField, DASHBOARD_PATH, notice, type Html, type SignedInChrome } from '../layout.ts';
import type { NotificationPreview } from '../notification-preview.ts';
import { previewPanel } from './automation-pages.ts';
import { describeSegment } from '../../segments/segment-rules.ts';
import type { BuilderState } from '../segment-form.ts';
import { segmentBuilder, segmentsPath } from './segment-pages.ts';

type SiteChrome = SignedInChrome & { site: { id: string; name: string; role: Role } };

/** The name the preview fills `{{firstName}}` with. */
export const EXAMPLE_FIRST_NAME = 'Maria';

export const CAMPAIGN_SCRIPT = 'campaign';

export function campaignsPath(siteId: string): string {
  return `${DASHBOARD_PATH}/sites/${siteId}/campaigns`;
}

const count = (n: number) => n.toLocaleString('en');
const subscribers = (n: number) => `${count(n)} subscriber${n === 1 ? '' : 's'}`;

const STATUS_WORDS: Record<CampaignStatus, string> = { draft: 'Draft', scheduled: 'Scheduled', sending: 'Sending', sent: 'Sent', cancelled: 'Cancelled' };

function statusBadge(status: CampaignStatus): Html {
  return html`<span class="badge campaign-${status}">${STATUS_WORDS[status]}</span>`;
}

/** An instant as the shop reads it: "Sat 5 Dec 2026, 10:00". */
export function shopTime(instant: string | Date, timeZone: string): string {
  const parts: Record<string, string> = {};
  for (const part of new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(instant))) {
    parts[part.type] = part.value;
  }
  return `${parts.weekday} ${parts.day} ${parts.month} ${parts.year}, ${parts.hour}:${parts.minute}`;
}

/** A wave's wall clock "2026-12-05T10:00" as "10:00 on Sat 5 Dec 2026". */
function waveTime(localTime: string): string {
  const [date, time] = localTime.split('T');
  const parts: Record<string, string> = {};
  for (const part of new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }).formatToParts(new Date(`${date}T00:00:00Z`))) {
    parts[part.type] = part.value;
  }
  return `${time} on ${parts.weekday} ${parts.day} ${parts.month} ${parts.year}`;
}

/** When the campaign goes (or went), in words. */
export function whenWords(view: Pick<CampaignView, 'status' | 'definition' | 'startedAt'>, timeZone: string): string {
  const schedule = view.definition.schedule;
  if (schedule && 'localTime' in schedule) return `${waveTime(schedule.localTime)} in each subscriber’s own time zone`;
  if (schedule && 'at' in schedule) return `${shopTime(schedule.at, timeZone)} (${timeZone})`;
  if (view.startedAt) return `Started ${shopTime(view.startedAt, timeZone)} (${timeZone})`;
  return 'When you send it';
}

/** Who gets it, in words; a saved segment by its name when `segmentNames` knows it. */
export function audienceWords(audience: CampaignInput['audience'], segmentNames: ReadonlyMap<string, string> = new Map()): string {
  if (audience.all) return 'Everyone';
  if (audience.segmentId !== undefined) {
    const name = segmentNames.get(audience.segmentId);
    return name !== undefined ? `Segment “${name}”` : 'A saved segment that no longer exists';
  }
  if (audience.segment !== undefined) return describeSegment(audience.segment);
  const parts: string[] = [];
  if (audience.tags) parts.push(...Object.entries(audience.tags).map(([key, value]) => `tag ${key} = ${String(value)}`));
  if (audience.subscriptionIds) parts.push(`${count(audience.subscriptionIds.length)} chosen subscriptions`);
  if (audience.externalUserIds) parts.push(`${count(audience.externalUserIds.length)} customers by id`);
  if (audience.visitorIds) parts.push(`${count(audience.visitorIds.length)} visitors by id`);
  const words = parts.join(' and ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// --- the list ---

export function campaignListPage(input: {
  assets: DashboardAssets;
  chrome: SiteChrome;
  campaigns: CampaignView[];
  timeZone: string;
  canCreate: boolean;
  nextCursor: string | null;
  /** Saved segments' names by id, for audiences that name one. */
  segmentNames?: ReadonlyMap<string, string>;
}): Html {
  const { chrome, campaigns, timeZone } = input;
  const base = campaignsPath(chrome.site.id);
  const table = html`<div class="table-region" role="region" aria-labelledby="campaigns-caption" tabindex="0">
<table class="data-table campaign-table stacked-table">
<caption id="campaigns-caption" class="visually-hidden">Campaigns, newest first</caption>
<thead><tr><th scope="col">Campaign</th><th scope="col">Status</th><th scope="col">When</th><th scope="col">Audience</th><th scope="col" class="num">Sent</th><th scope="col" class="num">Clicked</th><th scope="col" class="num">Converted</th></tr></thead>
<tbody>${campaigns.map(
    (view) => html`<tr>
<th scope="row"><a href="${base}/${view.id}">${view.name}</a>${view.definition.abTest ? html` <span class="badge">A/B</span>` : ''}</th>
<td data-label="Status">${statusBadge(view.status)}</td>
<td data-label="When">${whenWords(view, timeZone)}</td>
<td data-label="Audience">${audienceWords(view.definition.audience, input.segmentNames)}</td>
<td class="num" data-label="Sent" data-figure="sent">${count(view.totals.sent)}</td>
<td class="num" data-label="Clicked" data-figure="clicked">${count(view.totals.clicked)}</td>
<td class="num" data-label="Converted" data-figure="converted">${count(view.totals.converted)}</td>
</tr>`,
  )}</tbody>
</table>
</div>`;
  const body = html`<div class="page-header page-header-actions">
<div><h1>Campaigns</h1>
<p>Your own pushes to your subscribers: a sale, a new collection, a weekend offer — now, at a time you choose, or at the same hour in each subscriber’s own time zone.</p></div>
${input.canCreate ? html`<a class="button" href="${base}/new">New campaign</a>` : ''}
</div>
${input.canCreate ? '' : notice('info', `Your role (${chrome.site.role}) can see the campaigns but not create or send them.`)}
${campaigns.length === 0
  ? html`<div class="card empty-state"><h2>No campaigns yet</h2><p>${input.canCreate ? html`Start with <a href="${base}/new">a new campaign</a>: write it, choose who gets it and when, look it over, send.` : 'Campaigns your team sends appear here.'}</p></div>`
  : html`<section class="card">${table}${input.nextCursor ? html`<p class="pager"><a class="button secondary" href="${base}?cursor=${encodeURIComponent(input.nextCursor)}">Older campaigns</a></p>` : ''}</section>`}`;
  return appPage({ title: `Campaigns · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'campaigns' }, body });
}

// --- the composer ---

const fieldId = (name: string) => `c-${name.replace(/\./g, '-')}`;

interface Ctx {
  form: CampaignFormState;
}

function described(id: string, help: boolean, error: boolean): string {
  return [help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
}

function textField(ctx: Ctx, name: string, label: string, options: { help?: string; type?: 'text' | 'url' | 'datetime-local'; inputmode?: 'numeric' | 'decimal'; size?: 'short' | 'medium'; suffix?: string; placeholder?: string } = {}): Html {
  const id = fieldId(name);
  const error = ctx.form.errors[name];
  const by = described(id, options.help !== undefined, error !== undefined);
  return html`<div class="field${options.size ? ` field-${options.size}` : ''}">
<label for="${id}">${label}</label>
<div class="input-row"><input id="${id}" name="${name}" type="${options.type ?? 'text'}" value="${ctx.form.values[name] ?? ''}"${options.inputmode ? html` inputmode="${options.inputmode}"` : ''}${options.placeholder ? html` placeholder="${options.placeholder}"` : ''}${by ? html` aria-describedby="${by}"` : ''}${error ? html` aria-invalid="true"` : ''}>${options.suffix ? html`<span class="suffix">${options.suffix}</span>` : ''}</div>
${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
${options.help ? html`<p class="help" id="${id}-help">${options.help}</p>` : ''}
</div>`;
}

function textArea(ctx: Ctx, name: string, label: string, help?: string): Html {
  const id = fieldId(name);
  const error = ctx.form.errors[name];
  const by = described(id, help !== undefined, error !== undefined);
  return html`<div class="field">
<label for="${id}">${label}</label>
<textarea id="${id}" name="${name}" rows="3"${by ? html` aria-describedby="${by}"` : ''}${error ? html` aria-invalid="true"` : ''}>${ctx.form.values[name] ?? ''}</textarea>
${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
${help ? html`<p class="help" id="${id}-help">${help}</p>` : ''}
</div>`;
}

function selectField(ctx: Ctx, name: string, label: string, options: Array<[value: string, words: string]>, help?: string): Html {
  const id = fieldId(name);
  const error = ctx.form.errors[name];
  const by = described(id, help !== undefined, error !== undefined);
  const current = ctx.form.values[name] ?? '';
  return html`<div class="field">
<label for="${id}">${label}</label>
<select id="${id}" name="${name}"${by ? html` aria-describedby="${by}"` : ''}>${options.map(([value, words]) => html`<option value="${value}"${value === current ? html` selected` : ''}>${words}</option>`)}</select>
${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
${help ? html`<p class="help" id="${id}-help">${help}</p>` : ''}
</div>`;
}

function choice(ctx: Ctx, name: string, value: string, label: string, help?: string | Html): Html {
  const id = fieldId(`${name}-${value}`);
  return html`<div class="choice"><input type="radio" id="${id}" name="${name}" value="${value}"${ctx.form.values[name] === value ? html` checked` : ''}${help ? html` aria-describedby="${id}-help"` : ''}><label for="${id}">${label}${help ? html`<span class="choice-help" id="${id}-help">${help}</span>` : ''}</label></div>`;
}

function segmentSelect(ctx: Ctx, segments: Array<{ id: string; name: string; matching: number; matchesEveryone: boolean }>, segmentsHref: string): Html {
  const error = ctx.form.errors.segmentId;
  const current = ctx.form.values.segmentId ?? '';
  if (segments.length === 0) return html`<p class="help">No segments yet: <a href="${segmentsHref}/new">make one</a> (your text here is not saved), or write rules here.</p>${error ? html`<p class="field-error">${error}</p>` : ''}`;
  return html`<div class="field"><label for="c-segmentId">Segment</label>
<select id="c-segmentId" name="segmentId"${error ? html` aria-describedby="c-segmentId-error" aria-invalid="true"` : ''}><option value="">Choose a segment</option>${segments.map(
    (segment) =>
      html`<option value="${segment.id}"${segment.id === current ? html` selected` : ''}>${segment.name} — ${subscribers(segment.matching)}${segment.matchesEveryone ? ' (everyone)' : ''}</option>`,
  )}</select>
${error ? html`<p class="field-error" id="c-segmentId-error">${error}</p>` : ''}
<p class="help"><a href="${segmentsHref}">Segments</a> lists them with their rules.</p></div>`;
}

export interface AudienceCount {
  audience: number;
  activeSubscribers: number;
  matchesEveryone: boolean;
}

/** The audience's count in words; the page script puts the live one in the same element. */
export function audienceCountWords(counted: AudienceCount): string {
  if (counted.activeSubscribers === 0) return 'No active subscribers yet.';
  const base = `${subscribers(counted.audience)} would get it now.`;
  return counted.matchesEveryone ? `${base} This matches everyone.` : base;
}

export function composerPage(input: {
  assets: DashboardAssets;
  chrome: SiteChrome;
  /** Editing a stored campaign, or writing a new one. */
  campaign?: { id: string; name: string; status: CampaignStatus };
  form: CampaignFormState;
  preview: NotificationPreview;
  audienceCount: AudienceCount;
  /** The rules of the audience in words, when it is a segment or rules written here. */
  audienceDescription?: string;
  /** The site's saved segments with their counts now, for the "a saved segment" select. */
  segments: Array<{ id: string; name: string; matching: number; matchesEveryone: boolean }>;
  /** The inline builder's rows ("rules written here"). */
  builder: BuilderState;
  timeZone: string;
}): Html {
  const { chrome, form, timeZone } = input;
  const ctx: Ctx = { form };
  const base = campaignsPath(chrome.site.id);
  const action = input.campaign ? `${base}/${input.campaign.id}/edit` : `${base}/new`;
  const problems = Object.keys(form.errors).length + form.general.length;
  const localeRows = localeRowCount(form.values) + BLANK_LOCALE_ROWS;
  const values = form.values;

  const content = html`<section class="card" aria-labelledby="content-title">
<h2 id="content-title">Message</h2>
${textField(ctx, 'name', 'Campaign name', { help: 'For you and your team; shoppers never see it.' })}
${textField(ctx, 'title', 'Title', { help: `One line. {{firstName|there}} becomes the shopper’s first name, or “there” when it is not known; {{tags.KEY}} a tag’s value. The preview fills in ${EXAMPLE_FIRST_NAME}.` })}
${textArea(ctx, 'body', 'Text', 'A sentence or two; systems cut long texts.')}
${textField(ctx, 'url', 'Opens', { type: 'url', help: 'The page a click opens, on your shop.', placeholder: 'https://' })}
<div class="field-pair">
${textField(ctx, 'icon', 'Icon', { type: 'url', size: 'medium', help: 'Optional; square, at least 192 px.' })}
${textField(ctx, 'image', 'Picture', { type: 'url', size: 'medium', help: 'Optional; wide. macOS does not show it.' })}
</div>
<fieldset class="buttons-fieldset"><legend>Buttons <span class="meta">(optional, at most ${MAX_ACTIONS})</span></legend>
${Array.from({ length: MAX_ACTIONS }, (_, i) => html`<div class="field-pair">
${textField(ctx, `actions.${i}.title`, `Button ${i + 1} label`, { size: 'medium' })}
${textField(ctx, `actions.${i}.url`, `Button ${i + 1} opens`, { type: 'url', size: 'medium', help: 'Empty: the page above.' })}
</div>`)}
</fieldset>
</section>`;

  const translations = html`<section class="card" aria-labelledby="translations-title">
<h2 id="translations-title">Translations</h2>
<p class="lede">A subscriber whose browser speaks one of these languages gets its text; everyone else gets the text above.</p>
${Array.from(
  { length: localeRows },
  (_, i) => html`<fieldset class="locale-texts${i >= localeRowCount(values) ? ' added' : ''}"><legend>${values[`localized.${i}.locale`] ? `Language ${values[`localized.${i}.locale`]}` : 'Another language'}</legend>
<div class="locale-field">${textField(ctx, `localized.${i}.locale`, `Language ${i + 1}: tag`, { size: 'short', placeholder: 'de', help: 'Such as de, fr-CA, pt-BR. Clear every field of a language to remove it.' })}</div>
<div class="text-title">${textField(ctx, `localized.${i}.title`, `Language ${i + 1}: title`)}</div>
<div class="text-body">${textArea(ctx, `localized.${i}.body`, `Language ${i + 1}: text`)}</div>
</fieldset>`,
)}
</section>`;

  const audience = html`<section class="card" aria-labelledby="audience-title">
<h2 id="audience-title">Who gets it</h2>
<fieldset class="choice-group">
<legend>Audience</legend>
${choice(ctx, 'audience', 'everyone', 'Everyone', 'Every active subscriber of the shop.')}
${choice(ctx, 'audience', 'tag', 'Subscribers with a tag', 'Tags your shop’s backend set, such as plan = gold.')}
${choice(ctx, 'audience', 'segment', 'A saved segment', 'Rules saved on the Segments page, as they are when the campaign starts.')}
${choice(ctx, 'audience', 'rules', 'Rules written here', 'Only for this campaign; the same rules as a segment’s.')}
${values.audience === 'kept' ? choice(ctx, 'audience', 'kept', 'As chosen through the API', 'Kept as it is.') : ''}
</fieldset>
${form.errors.audience ? html`<p class="field-error">${form.errors.audience}</p>` : ''}
<div class="field-pair audience-part" data-audience-part="tag">
${textField(ctx, 'tagKey', 'Tag', { size: 'medium', placeholder: 'plan' })}
${textField(ctx, 'tagValue', 'Value', { size: 'medium', placeholder: 'gold' })}
</div>
<div class="audience-part" data-audience-part="segment">${segmentSelect(ctx, input.segments, segmentsPath(chrome.site.id))}</div>
<fieldset class="audience-part audience-rules" data-audience-part="rules"><legend>Rules written here</legend>
${segmentBuilder({ state: input.builder, errors: form.errors, timeZone })}
</fieldset>
<p class="audience-count" id="audience-count" role="status" aria-live="polite" data-count-url="${base}/audience-count">${audienceCountWords(input.audienceCount)}</p>
<p class="segment-words" id="segment-words">${input.audienceDescription ?? ''}</p>
</section>`;

  const when = html`<section class="card" aria-labelledby="when-title">
<h2 id="when-title">When</h2>
<fieldset class="choice-group">
<legend>Send</legend>
${choice(ctx, 'when', 'now', 'Now', 'As soon as you confirm it on the next page.')}
${choice(ctx, 'when', 'at', 'At a date and time', `In the shop’s time zone, ${timeZone}.`)}
${choice(
  ctx,
  'when',
  'local',
  'At this time in each subscriber’s own time zone',
  `Each subscriber gets it when their own clock shows this time: Auckland gets it first, Honolulu last; subscribers without a known zone get it at this time in ${timeZone}.`,
)}
</fieldset>
<div class="field-pair">
${textField(ctx, 'at', `Date and time (${timeZone})`, { type: 'datetime-local', size: 'medium', help: 'For “At a date and time”.' })}
${textField(ctx, 'localTime', 'Date and time on each subscriber’s clock', { type: 'datetime-local', size: 'medium', help: 'For “in each subscriber’s own time zone”.' })}
</div>
${textField(ctx, 'endsAt', `Stop sending at (${timeZone}, optional)`, { type: 'datetime-local', size: 'medium', help: 'Nothing more of the campaign goes after this, such as the end of the sale.' })}
<div class="field-pair">
${textField(ctx, 'ttlHours', 'Keep trying for', { inputmode: 'decimal', size: 'short', suffix: 'hours', help: 'A subscriber whose device is off longer than this does not get it. Up to 672 (4 weeks).' })}
${selectField(ctx, 'urgency', 'Urgency', [['very-low', 'Very low (saves battery)'], ['low', 'Low'], ['normal', 'Normal'], ['high', 'High (wakes the device)']])}
</div>
<div class="field check"><input id="c-sendAtBestHour" name="sendAtBestHour" type="checkbox" value="on"${values.sendAtBestHour === 'on' ? html` checked` : ''} aria-describedby="c-sendAtBestHour-help"><label for="c-sendAtBestHour">Send at each subscriber’s best hour</label>
<p class="help" id="c-sendAtBestHour-help">Each subscriber gets it within 24 hours of the start, at the hour they most often click or visit. Not with “in each subscriber’s own time zone”, which already sets the hour.</p>${ctx.form.errors.sendAtBestHour ? html`<p class="field-error">${ctx.form.errors.sendAtBestHour}</p>` : ''}</div>
</section>`;

  const abOn = values.ab === 'on';
  const abTest = html`<section class="card" aria-labelledby="ab-title">
<h2 id="ab-title">A/B test</h2>
<div class="field check"><input id="c-ab" name="ab" type="checkbox" value="on"${abOn ? html` checked` : ''} aria-describedby="c-ab-help"><label for="c-ab">Test 2 to 4 versions first</label>
<p class="help" id="c-ab-help">A share of the audience, split evenly, gets the versions; when the time is up, the one that did best goes to everyone else.</p></div>
<div class="ab-fields">
${Array.from({ length: VARIANT_ROWS }, (_, i) => {
  const letter = 'ABCD'[i]!;
  return html`<fieldset class="locale-texts variant-row"><legend>Variant ${letter}</legend>
<p class="help text-title">${i === 0 ? 'Leave empty to use the title and text above.' : i === 1 ? 'At least B’s title for a test.' : 'Optional.'}</p>
<div class="text-title">${textField(ctx, `variants.${i}.title`, `Variant ${letter} title`)}</div>
<div class="text-body">${textArea(ctx, `variants.${i}.body`, `Variant ${letter} text`)}</div>
</fieldset>`;
})}
<div class="field-pair">
${textField(ctx, 'testPercent', 'Test share', { inputmode: 'numeric', size: 'short', suffix: '% of the audience', help: 'Split evenly between the versions; 2 to 100.' })}
${textField(ctx, 'decideAfterHours', 'Decide after', { inputmode: 'numeric', size: 'short', suffix: 'hours', help: '1 to 168.' })}
</div>
<div class="field-pair">
${selectField(ctx, 'metric', 'Winner by', [['clicks', 'Clicks'], ['conversions', 'Orders (conversions)']])}
${selectField(ctx, 'confidence', 'Confidence', [['0.9', '90 %'], ['0.95', '95 %'], ['0.99', '99 %']], 'How sure the difference must be to call a winner.')}
</div>
<fieldset class="choice-group">
<legend>When the difference is not clear</legend>
${choice(ctx, 'fallback', 'leader', 'Send the leader anyway')}
${choice(ctx, 'fallback', 'variant_a', 'Send variant A')}
${choice(ctx, 'fallback', 'manual', 'Wait for me to pick')}
</fieldset>
</div>
</section>`;

  const body = html`<div class="page-header">
<p class="crumb"><a href="${base}">Campaigns</a> ›</p>
<h1>${input.campaign ? html`Edit “${input.campaign.name}”` : 'New campaign'}</h1>
<p>Write it, choose who gets it and when. Nothing is sent until you confirm it on the next page.</p>
</div>
${problems > 0
  ? notice('error', html`<p>${problems === 1 ? 'One thing needs' : 'Some things need'} a change before this can be saved.</p>${form.general.length > 0 ? html`<ul>${form.general.map((text) => html`<li>${text}</li>`)}</ul>` : ''}`)
  : ''}
<form method="post" action="${action}" novalidate data-live-preview="notification-preview" class="composer">
${csrfField(chrome.csrfToken)}
<button class="default-submit" type="submit" name="intent" value="save" tabindex="-1" aria-hidden="true">Save and review</button>
<div class="template-layout composer-layout">
<div class="composer-fields">
${content}
${translations}
${audience}
${when}
${abTest}
<div class="card form-actions"><button class="button" type="submit" name="intent" value="save">Save and review</button><button class="button secondary" type="submit" name="intent" value="preview">Preview</button><a href="${input.campaign ? `${base}/${input.campaign.id}` : base}">Back without saving</a></div>
</div>
<section class="card preview-card" aria-labelledby="preview-title">
<h2 id="preview-title">What a shopper sees</h2>
<p class="meta">The text above, for a shopper named ${EXAMPLE_FIRST_NAME}. Long texts are cut as the systems cut them.</p>
<div id="notification-preview">${previewPanel(input.preview, { image: values.image?.trim() ? true : false, worstCase: 'the longest names and tags' })}</div>
</section>
</div>
</form>
<script src="${assetUrl(input.assets.pageScripts.get(CAMPAIGN_SCRIPT)!.name)}" defer></script>`;
  return appPage({ title: `${input.campaign ? 'Edit campaign' : 'New campaign'} · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'campaigns' }, body });
}

// --- a campaign's page ---

export type CampaignTestPush = { kind: 'unavailable' } | { kind: 'sent'; results: Array<{ outcome: 'sent' | 'failed' | 'removed'; detail: string }> };

function testNotice(test: CampaignTestPush, installHref: string): Html {
  if (test.kind === 'unavailable') return notice('error', 'This server cannot send test pushes: it was started without a push transport.');
  if (test.results.length === 0) {
    return notice('info', html`No browser of yours is set up for test pushes, so nothing was sent. <a href="${installHref}">Allow test pushes in a browser</a> on the install page first.`);
  }
  const failed = test.results.some((result) => result.outcome !== 'sent');
  return notice(
    failed ? 'error' : 'success',
    html`<p>Test push of this campaign to your browsers:</p><ul>${test.results.map(
      (result) => html`<li>${result.outcome === 'sent' ? 'Sent' : result.outcome === 'removed' ? 'Removed a browser' : 'Not sent'}: ${result.detail}</li>`,
    )}</ul>`,
  );
}

function percent(rate: number | null): string {
  if (rate === null) return '—';
  const value = rate * 100;
  return `${value > 0 && value < 10 ? (Math.round(value * 10) / 10).toString() : Math.round(value).toString()} %`;
}

function money(revenue: Record<string, number>): string {
  const entries = Object.entries(revenue).filter(([, amount]) => amount > 0);
  if (entries.length === 0) return '—';
  return entries
    .map(([currency, amount]) => {
      try {
        return new Intl.NumberFormat('en', { style: 'currency', currency }).format(amount);
      } catch {
        return `${amount.toFixed(2)} ${currency}`;
      }
    })
    .join(' · ');
}

function variantLabel(figures: Pick<VariantFigures, 'variant' | 'name'>): string {
  if (figures.variant === 'all') return 'Everyone';
  if (figures.variant === 'winner') return 'Winner, to the rest';
  return `Variant ${figures.variant}${figures.name ? ` (${figures.name})` : ''}`;
}

function progressSection(view: CampaignView, progressUrl: string): Html {
  const { progress } = view;
  const max = Math.max(progress.total, 1);
  return html`<section class="card" aria-labelledby="progress-title" id="campaign-progress" data-progress-url="${progressUrl}" data-status="${view.status}">
<h2 id="progress-title">Progress</h2>
<progress id="progress-bar" max="${max}" value="${Math.min(progress.sent, max)}" aria-describedby="progress-words">${count(progress.sent)} of ${count(progress.total)}</progress>
<p id="progress-words"><strong data-progress="sent">${count(progress.sent)}</strong> sent of <span data-progress="total">${count(progress.total)}</span>${progress.resolving ? ' (still counting)' : ''} · <span data-progress="remaining">${count(progress.remaining)}</span> still to go · <span data-progress="resolved">${count(progress.resolved)}</span> subscribers taken in so far.</p>
<p class="meta">This page updates by itself every few seconds; reload it to see the latest without the script.</p>
</section>`;
}

function decisionWords(view: CampaignView, timeZone: string): Html | '' {
  const test = view.definition.abTest;
  const ab = view.abTest;
  if (!test || !ab) return '';
  const decision: CampaignDecision | null = ab.decision;
  const metric = test.metric === 'clicks' ? 'clicks' : 'orders';
  const level = `${Math.round(test.confidence * 100)} %`;
  if (!decision) {
    if (test.testPercent >= 100) return html`<p>Everyone is in the test (${test.testPercent} %): there is no rest to send a winner to.</p>`;
    if (view.status === 'cancelled') return html`<p>The campaign was cancelled before a winner was decided.</p>`;
    return html`<p>${test.testPercent} % of the audience gets the ${test.variants.length} versions. ${ab.decideAt ? `At ${shopTime(ab.decideAt, timeZone)} (${timeZone})` : `${test.decideAfterHours ?? 4} hours after the start`} the version with the most ${metric} per push goes to the other ${100 - test.testPercent} %, if it is ahead at ${level} confidence.</p>`;
  }
  const fallbackWhy = `The difference was not clear at ${level} confidence`;
  const reason: Record<CampaignDecision['reason'], string> = {
    significant: `Variant ${decision.winner} won on ${metric} at ${level} confidence and went to the rest of the audience.`,
    fallback_leader: `${fallbackWhy}; as you chose, the leader, variant ${decision.winner}, went to the rest of the audience.`,
    fallback_variant_a: `${fallbackWhy}; as you chose, variant A went to the rest of the audience.`,
    waiting_for_pick: `${fallbackWhy}; you chose to pick the winner yourself. Until you do, the rest of the audience gets nothing.`,
    picked: `You picked variant ${decision.winner}; it went to the rest of the audience.`,
    ended: 'The campaign ended before the decision: no winner was sent.',
  };
  return html`<p><strong>${reason[decision.reason]}</strong></p><p>${decision.summary}</p>`;
}

const SERIES_LOOKS: Array<Pick<LineSeries, 'colour' | 'dash' | 'marker'>> = [
  { colour: 'blue', dash: 'solid', marker: 'circle' },
  { colour: 'vermilion', dash: 'dashed', marker: 'square' },
  { colour: 'green', dash: 'dotted', marker: 'triangle' },
  { colour: 'purple', dash: 'dashdot', marker: 'diamond' },
  { colour: 'ink', dash: 'solid', marker: 'diamond' },
];

/** A period's start as the axis says it: the hour, or the day at midnight and for daily periods. */
function periodLabel(period: string, unit: 'hour' | 'day'): string {
  return unit === 'day' || period.endsWith('T00:00') ? dayLabel(period.slice(0, 10)) : period.slice(11, 16);
}

/** Sent, clicked and (when there is any) revenue per variant over time, from `GET /v1/campaigns/{id}/timeline`. */
function timelineCharts(timeline: CampaignTimeline, view: CampaignView): Html {
  if (timeline.periods.length < 2) return html``;
  const labels = timeline.periods.map((period) => periodLabel(period, timeline.unit));
  const name = (variant: string) => {
    const row = view.results.find((r) => r.variant === variant);
    return row ? variantLabel(row) : variant;
  };
  const lines = (pick: (s: CampaignTimeline['series'][number]) => number[]): LineSeries[] =>
    timeline.series.map((series, i) => ({ key: series.variant, label: name(series.variant), values: pick(series), ...SERIES_LOOKS[i % SERIES_LOOKS.length]! }));
  const per = timeline.unit === 'hour' ? 'per hour' : 'per day';
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const describe = (pick: (s: CampaignTimeline['series'][number]) => number[], what: string) =>
    timeline.series.map((series) => `${name(series.variant)}: ${count(sum(pick(series)))} ${what}`).join('; ');
  const earned = timeline.currency !== null && timeline.series.some((series) => series.revenue.some((value) => value > 0));
  return html`<h3 class="chart-heading">Over time (${per}, ${timeline.timeZone})</h3>
${dayChart({ id: 'timeline-sent', title: `Pushes sent ${per}`, description: describe((s) => s.sent, 'sent'), dates: timeline.periods, labels, lines: lines((s) => s.sent) })}
${dayChart({ id: 'timeline-clicked', title: `Clicks ${per}`, description: describe((s) => s.clicked, 'clicks'), dates: timeline.periods, labels, lines: lines((s) => s.clicked) })}
${earned ? dayChart({ id: 'timeline-revenue', title: `Revenue ${per} (${timeline.currency})`, description: describe((s) => s.revenue, timeline.currency ?? ''), dates: timeline.periods, labels, lines: lines((s) => s.revenue) }) : ''}`;
}

function resultsSection(view: CampaignView, pick: Html | '', timeZone: string, timeline?: CampaignTimeline): Html {
  const rows = view.results;
  return html`<section class="card" aria-labelledby="results-title">
<h2 id="results-title">Results</h2>
${view.definition.abTest ? html`<div class="decision">${decisionWords(view, timeZone)}${pick}</div>` : ''}
<dl class="counts results-counts">
<div><dt>Sent</dt><dd data-total="sent">${count(view.totals.sent)}</dd></div>
<div><dt>Shown</dt><dd data-total="shown">${count(view.totals.shown)}</dd></div>
<div><dt>Clicked</dt><dd data-total="clicked">${count(view.totals.clicked)}</dd></div>
<div><dt>Converted</dt><dd data-total="converted">${count(view.totals.converted)}</dd></div>
<div><dt>Revenue</dt><dd data-total="revenue">${money(view.totals.revenue)}</dd></div>
</dl>
${rows.length === 0
  ? html`<p class="meta">Nothing has gone out yet.</p>`
  : html`<p class="meta">Per ${view.definition.abTest ? 'variant' : 'send'}; the range under each click rate is its 95 % interval.</p>
<div class="table-region" role="region" aria-labelledby="results-caption" tabindex="0"><table class="data-table results-table">
<caption id="results-caption" class="visually-hidden">Results per ${view.definition.abTest ? 'variant' : 'send'}</caption>
<thead><tr><th scope="col">Send</th><th scope="col" class="num">Sent</th><th scope="col" class="num">Shown</th><th scope="col" class="num">Clicked</th><th scope="col" class="num">Converted</th><th scope="col" class="num">Revenue</th><th scope="col" class="num">Click rate</th></tr></thead>
<tbody>${rows.map(
      (row) => html`<tr data-variant="${row.variant}">
<th scope="row">${variantLabel(row)}</th>
<td class="num" data-figure="sent">${count(row.sent)}</td>
<td class="num" data-figure="shown">${count(row.shown)}</td>
<td class="num" data-figure="clicked">${count(row.clicked)}</td>
<td class="num" data-figure="converted">${count(row.converted)}</td>
<td class="num" data-figure="revenue">${money(row.revenue)}</td>
<td class="num" data-figure="clickRate">${percent(row.clickRate)}${row.clickInterval ? html`<span class="sub-line">${percent(row.clickInterval.low)}–${percent(row.clickInterval.high)}</span>` : ''}</td>
</tr>`,
    )}</tbody>
</table></div>
<div class="variant-charts">${rows.map((row) => row.sent === 0 ? html`<h3 class="chart-heading">${variantLabel(row)}</h3><p class="meta">Nothing sent to this ${view.definition.abTest ? 'variant' : 'send'} yet.</p>` : html`<h3 class="chart-heading">${variantLabel(row)}</h3>${
      funnelChart({
        id: `chart-${row.variant}`,
        title: `${variantLabel(row)}: sent, shown, clicked, converted`,
        description: `${count(row.sent)} sent, ${count(row.shown)} shown (${share(row.shown, row.sent)}), ${count(row.clicked)} clicked (${share(row.clicked, row.sent)}), ${count(row.converted)} converted (${share(row.converted, row.sent)}).`,
        steps: [
          { key: 'sent', label: 'Sent', value: row.sent },
          { key: 'shown', label: 'Shown', value: row.shown },
          { key: 'clicked', label: 'Clicked', value: row.clicked },
          { key: 'converted', label: 'Converted', value: row.converted },
        ],
      })}`,
    )}</div>
${timeline ? timelineCharts(timeline, view) : ''}`}
</section>`;
}

export function campaignPage(input: {
  assets: DashboardAssets;
  chrome: SiteChrome;
  view: CampaignView;
  checks?: CampaignChecks;
  preview: NotificationPreview;
  timeZone: string;
  canEdit: boolean;
  canSend: boolean;
  /** A refusal of the last send/schedule in words (e.g. the confirmation was missing). */
  error?: string;
  done?: 'saved' | 'sent' | 'scheduled' | 'cancelled' | 'picked';
  testPush?: CampaignTestPush;
  /** Saved segments' names by id, for an audience that names one. */
  segmentNames?: ReadonlyMap<string, string>;
  /** The campaign over time, once it started. */
  timeline?: CampaignTimeline;
}): Html {
  const { chrome, view, checks, timeZone } = input;
  const base = campaignsPath(chrome.site.id);
  const here = `${base}/${view.id}`;
  const definition = view.definition;
  const before = view.status === 'draft' || view.status === 'scheduled';
  const test = definition.abTest;
  const doneWords: Record<NonNullable<typeof input.done>, string> = {
    saved: 'Saved. Look it over below, then send or schedule it.',
    sent: 'Sending. Pushes go out as the workers take them.',
    scheduled: `Scheduled: ${whenWords(view, timeZone)}.`,
    cancelled: 'Cancelled. Nothing more of it is sent.',
    picked: 'Winner picked: it goes to the rest of the audience now.',
  };

  const facts = html`<section class="card" aria-labelledby="summary-title">
<h2 id="summary-title">Summary</h2>
<dl class="facts">
<dt>Status</dt><dd>${statusBadge(view.status)}${view.failure ? html` <span class="field-error">${view.failure}</span>` : ''}</dd>
<dt>Audience</dt><dd>${audienceWords(definition.audience, input.segmentNames)}</dd>
<dt>When</dt><dd>${whenWords(view, timeZone)}${definition.schedule && 'localTime' in definition.schedule ? html`<span class="sub-line">Auckland gets it first, Honolulu last; subscribers without a known zone get it at this time in ${definition.schedule.fallbackTimeZone ?? timeZone}.</span>` : ''}</dd>
${view.endsAt ? html`<dt>Ends</dt><dd>${shopTime(view.endsAt, timeZone)} (${timeZone})</dd>` : ''}
<dt>Opens</dt><dd class="mono">${definition.content.url}</dd>
${definition.localized ? html`<dt>Translations</dt><dd>${Object.keys(definition.localized).join(', ')}</dd>` : ''}
${test
  ? html`<dt>Variants</dt><dd><ul class="variant-list">${test.variants.map(
      (variant, i) => html`<li><strong>${'ABCD'[i]}</strong>: ${variant.title ?? definition.content.title}${variant.body !== undefined ? html` — ${variant.body}` : ''}</li>`,
    )}</ul></dd>
<dt>A/B test</dt><dd>${test.variants.length} variants to ${test.testPercent} % of the audience, winner by ${test.metric === 'clicks' ? 'clicks' : 'orders'} after ${test.decideAfterHours ?? 4} hours at ${Math.round(test.confidence * 100)} % confidence; if unclear: ${test.fallback === 'leader' ? 'send the leader' : test.fallback === 'variant_a' ? 'send variant A' : 'wait for you to pick'}.</dd>`
  : ''}
</dl>
</section>`;

  // The words of the button it confirms: a scheduled campaign's is "Send now instead".
  const confirmText = (n: number) => `${definition.schedule && view.status === 'draft' ? 'Schedule for' : 'Send to'} ${subscribers(n)}`;
  const review =
    before && checks
      ? html`<section class="card review" aria-labelledby="review-title">
<h2 id="review-title">Review</h2>
<p class="review-count" id="review-count"><strong>${subscribers(checks.audience)}</strong> would get it now${checks.matchesEveryone ? html` — <strong>this matches everyone</strong>, every active subscriber of the shop` : ''}.</p>
${checks.warnings.length > 0 ? html`<ul class="warning-list">${checks.warnings.map((warning) => html`<li>${warning.message}</li>`)}</ul>` : html`<p class="meta">Nothing to warn about for this time and audience.</p>`}
${input.canSend
  ? html`<form method="post" action="${here}/send" class="send-form">
${csrfField(chrome.csrfToken)}
${checks.confirmationRequired
  ? html`<div class="field check confirm-check"><input id="confirm-audience" name="confirmAudience" type="checkbox" value="${checks.audience}" aria-describedby="confirm-audience-help"><label for="confirm-audience">${confirmText(checks.audience)}</label>
<p class="help" id="confirm-audience-help">More than ${count(checks.confirmAbove)} subscribers: tick to confirm you mean this many.</p></div>`
  : ''}
<div class="form-actions">${view.status === 'scheduled'
    ? html`<button class="button" type="submit" name="intent" value="now">Send now instead</button>`
    : html`<button class="button" type="submit" name="intent" value="${definition.schedule ? 'schedule' : 'now'}">${definition.schedule ? 'Schedule' : 'Send now'}</button>`}
${input.canEdit ? html`<a class="button secondary" href="${here}/edit">Edit</a>` : ''}</div>
</form>`
  : notice('info', `Your role (${chrome.site.role}) can see this campaign but not send it.`)}
</section>`
      : '';

  const testCard =
    before && input.canSend
      ? html`<section class="card" aria-labelledby="test-title" id="test-push">
<h2 id="test-title">Send a test to my browsers</h2>
<p class="lede">To the browsers you allowed for test pushes on the <a href="${DASHBOARD_PATH}/sites/${chrome.site.id}/install#test-push">install page</a>, at once, as ${EXAMPLE_FIRST_NAME} would get it. It is in none of the campaign’s figures.</p>
<form method="post" action="${here}/test" class="inline-form">
${csrfField(chrome.csrfToken)}
${test
  ? html`<div class="field"><label for="test-variant">Variant</label><select id="test-variant" name="variant">${test.variants.map((_, i) => html`<option value="${'ABCD'[i]}">Variant ${'ABCD'[i]}</option>`)}</select></div>`
  : ''}
<div class="field"><button class="button secondary" type="submit">Send test to my browsers</button></div>
</form>
</section>`
      : '';

  const waiting = view.abTest?.decision?.reason === 'waiting_for_pick' && view.status === 'sending';
  const pick =
    waiting && input.canSend && test
      ? html`<form method="post" action="${here}/winner" class="form-actions pick-form">${csrfField(chrome.csrfToken)}${test.variants.map(
          (_, i) => html`<button class="button${i === 0 ? '' : ' secondary'}" type="submit" name="variant" value="${'ABCD'[i]}">Pick ${'ABCD'[i]} as the winner</button>`,
        )}</form>`
      : '';

  const cancellable = view.status === 'draft' || view.status === 'scheduled' || view.status === 'sending';
  const body = html`<div class="page-header page-header-actions">
<div><p class="crumb"><a href="${base}">Campaigns</a> ›</p>
<h1>${view.name} ${statusBadge(view.status)}</h1></div>
${cancellable && input.canSend ? html`<a class="button danger" href="${here}/cancel">Cancel campaign</a>` : ''}
</div>
${input.done ? notice('success', doneWords[input.done]) : ''}
${input.error ? notice('error', input.error) : ''}
${input.testPush ? testNotice(input.testPush, `${DASHBOARD_PATH}/sites/${chrome.site.id}/install#test-push`) : ''}
${view.status === 'sending' ? progressSection(view, `${here}/progress`) : ''}
${review}
${view.status === 'sent' || view.status === 'cancelled' || (view.status === 'sending' && (view.totals.sent > 0 || view.abTest?.decision)) ? resultsSection(view, pick, timeZone, input.timeline) : ''}
<div class="template-layout">
${facts}
<section class="card preview-card" aria-labelledby="preview-title">
<h2 id="preview-title">What a shopper sees</h2>
<p class="meta">${test ? 'Variant A' : 'The text'}, for a shopper named ${EXAMPLE_FIRST_NAME}.</p>
<div id="notification-preview">${previewPanel(input.preview, { image: definition.content.image !== undefined, worstCase: 'the longest names and tags' })}</div>
</section>
</div>
${testCard}
${view.status === 'sending' ? html`<script src="${assetUrl(input.assets.pageScripts.get(CAMPAIGN_SCRIPT)!.name)}" defer></script>` : ''}`;
  return appPage({ title: `${view.name} · Campaigns · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'campaigns' }, body });
}

export function cancelCampaignPage(input: { assets: DashboardAssets; chrome: SiteChrome; view: CampaignView }): Html {
  const { chrome, view } = input;
  const here = `${campaignsPath(chrome.site.id)}/${view.id}`;
  const going = view.status === 'sending';
  const body = html`<div class="page-header">
<p class="crumb"><a href="${campaignsPath(chrome.site.id)}">Campaigns</a> › <a href="${here}">${view.name}</a> ›</p>
<h1>Cancel “${view.name}”?</h1>
</div>
<section class="card">
<p>${going
    ? `It is sending: ${count(view.progress.sent)} ${view.progress.sent === 1 ? 'push has' : 'pushes have'} gone and cannot be called back; ${view.progress.remaining > 0 ? `the ${count(view.progress.remaining)} still to go will not be sent` : 'nothing more of it will be sent'}${view.definition.abTest ? ', an A/B test’s winner included' : ''}.`
    : 'It has not started: nothing of it will be sent.'} A cancelled campaign cannot be sent again; its figures stay.</p>
<form method="post" action="${here}/cancel" class="form-actions">
${csrfField(chrome.csrfToken)}
<button class="button danger" type="submit">Yes, cancel the campaign</button>
<a class="button secondary" href="${here}">No, keep it</a>
</form>
</section>`;
  return appPage({ title: `Cancel ${view.name} · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'campaigns' }, body });
}
