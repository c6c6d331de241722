/**
 * A shop's overview: subscribers, the opt-in funnel, what the pushes did and earned, and whether
 * they caused orders (holdout lift), for a range of days. Every chart has its numbers in a table
 * beside it (WCAG 2.2 SC 1.1.1: a text alternative that carries the same information).
 */
import { html, raw } from 'hono/html';
import type { Role } from '../../db/database.ts';
import type { DailyReport, PushFigures } from '../../db/daily-stats.ts';
import type { PromptFunnelStep } from '../../db/prompt-funnel.ts';
import { triggerName } from '../../stats/lift.ts';
import type { DashboardAssets } from '../assets/assets.ts';
import { dayChart, funnelChart, liftChart, share, type FunnelStep, type LiftRow } from '../charts.ts';
import { appPage, DASHBOARD_PATH, notice, type Html, type SignedInChrome } from '../layout.ts';

export interface RangeForm {
  from: string;
  to: string;
  /** Problems with the range asked for, per field, in words. */
  errors: { from?: string; to?: string };
}

export interface OverviewInput {
  assets: DashboardAssets;
  chrome: SignedInChrome & { site: { id: string; name: string; role: Role } };
  report: DailyReport;
  /** The prompt funnel summed over the range (the shop's days, as the report's). */
  funnel: Record<PromptFunnelStep, number>;
  /** The site's today, for the quick ranges. */
  today: string;
  /** The range as typed, when it was refused; the report is then of the default range. */
  form?: RangeForm;
  /** The quick ranges, in days, and their links. */
  presets: Array<{ days: number; href: string; current: boolean }>;
}

const integer = new Intl.NumberFormat('en-US');
const count = (n: number) => integer.format(n);

/** A money amount in its currency; a code Intl does not know is written out as it came. */
export function money(value: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency, maximumFractionDigits: value >= 100 ? 0 : 2 }).format(value);
  } catch {
    return `${value.toFixed(2)} ${currency}`;
  }
}

/** An axis amount: €1.5K. */
function compactMoney(value: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency, notation: 'compact', minimumFractionDigits: 0, maximumFractionDigits: 1 }).format(value);
  } catch {
    return `${value} ${currency}`;
  }
}

function revenueText(revenue: Record<string, number>): string {
  const entries = Object.entries(revenue).filter(([, value]) => value !== 0);
  if (entries.length === 0) return '0';
  return entries
    .sort(([, a], [, b]) => b - a)
    .map(([currency, value]) => money(value, currency))
    .join(' + ');
}

/** The currency that earned most over the range: the one the revenue chart is drawn in. */
function mainCurrency(report: DailyReport): string | undefined {
  const totals = new Map<string, number>();
  for (const trigger of Object.values(report.triggers)) {
    for (const [currency, value] of Object.entries(trigger.revenue)) totals.set(currency, (totals.get(currency) ?? 0) + value);
  }
  return [...totals].sort(([, a], [, b]) => b - a)[0]?.[0];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `2030-03-07` → `7 Mar 2030` (by hand: a date formatter made per call costs more than the rest of a row). */
function longDate(date: string): string {
  const [year, month, day] = date.split('-').map(Number);
  return `${day} ${MONTHS[month! - 1]} ${year}`;
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One table row as a string (a year is hundreds of rows: one template each is slow); every cell escaped. */
function tableRow(row: Array<string | number>): string {
  return `<tr>${row.map((cell, i) => (i === 0 ? `<th scope="row">${escapeText(String(cell))}</th>` : `<td class="num">${escapeText(typeof cell === 'number' ? count(cell) : cell)}</td>`)).join('')}</tr>`;
}

function numbersTable(caption: string, headers: string[], rows: Array<Array<string | number>>, footer?: Array<string | number>): Html {
  return html`<details class="chart-numbers"><summary>Show numbers</summary>
<div class="table-scroll" role="region" aria-label="${caption}" tabindex="0">
<table class="figures">
<caption class="visually-hidden">${caption}</caption>
<thead><tr>${headers.map((header, i) => html`<th scope="col"${i > 0 ? html` class="num"` : ''}>${header}</th>`)}</tr></thead>
<tbody>${raw(rows.map(tableRow).join(''))}</tbody>
${footer ? html`<tfoot><tr>${footer.map((cell, i) => (i === 0 ? html`<th scope="row">${cell}</th>` : html`<td class="num">${typeof cell === 'number' ? count(cell) : cell}</td>`))}</tr></tfoot>` : ''}
</table>
</div>
</details>`;
}

function rangeSection(input: OverviewInput): Html {
  const action = `${DASHBOARD_PATH}/sites/${input.chrome.site.id}/overview`;
  const form = input.form ?? { from: input.report.from, to: input.report.to, errors: {} };
  const fieldError = (field: 'from' | 'to') =>
    form.errors[field] ? html`<p class="field-error" id="range-${field}-error">${form.errors[field]}</p>` : '';
  const invalid = (field: 'from' | 'to') => (form.errors[field] ? html` aria-invalid="true" aria-describedby="range-${field}-error"` : '');
  return html`<section class="card range-card" aria-labelledby="range-title">
<h2 id="range-title" class="visually-hidden">Date range</h2>
${input.form ? notice('error', html`<p>That range cannot be shown, so these are the last 30 days instead.</p>`) : ''}
<form class="range-form" method="get" action="${action}">
<div class="field"><label for="range-from">From</label><input id="range-from" name="from" type="date" value="${form.from}" max="${input.today}"${invalid('from')}>${fieldError('from')}</div>
<div class="field"><label for="range-to">To</label><input id="range-to" name="to" type="date" value="${form.to}"${invalid('to')}>${fieldError('to')}</div>
<div class="field range-submit"><button class="button" type="submit">Show</button></div>
</form>
<nav class="range-presets" aria-label="Quick ranges"><ul>${input.presets.map(
    (preset) => html`<li><a href="${preset.href}"${preset.current ? html` aria-current="true"` : ''}>Last ${preset.days} days</a></li>`,
  )}</ul></nav>
</section>`;
}

function tile(label: string, value: string, detail?: string): Html {
  return html`<div class="stat-tile"><dt>${label}</dt><dd><span class="stat-value">${value}</span>${detail ? html`<span class="stat-detail">${detail}</span>` : ''}</dd></div>`;
}

function totalsOf(report: DailyReport) {
  let gained = 0;
  let lost = 0;
  for (const day of report.days) {
    gained += day.subscribers.new + day.subscribers.returned;
    lost += day.subscribers.lostExpired + day.subscribers.lostUnsubscribed + day.subscribers.lostErased;
  }
  const pushes: PushFigures = { audience: 0, sent: 0, heldOut: 0, suppressed: 0, failed: 0, expired: 0, shown: 0, clicked: 0, converted: 0, revenue: {} };
  for (const trigger of Object.values(report.triggers)) {
    for (const key of ['audience', 'sent', 'heldOut', 'suppressed', 'failed', 'expired', 'shown', 'clicked', 'converted'] as const) pushes[key] += trigger[key];
    for (const [currency, value] of Object.entries(trigger.revenue)) pushes.revenue[currency] = Math.round(((pushes.revenue[currency] ?? 0) + value) * 100) / 100;
  }
  return { gained, lost, pushes };
}

/** True when nothing at all happened yet: the page then says how to start instead of drawing empty charts. */
export function overviewIsEmpty(report: DailyReport, funnel: Record<PromptFunnelStep, number>): boolean {
  const { gained, lost, pushes } = totalsOf(report);
  return report.activeNow === 0 && gained === 0 && lost === 0 && pushes.audience === 0 && pushes.converted === 0 && Object.values(funnel).every((n) => n === 0);
}

function subscribersSection(report: DailyReport): Html {
  const lost = report.days.map((day) => day.subscribers.lostExpired + day.subscribers.lostUnsubscribed + day.subscribers.lostErased);
  const gained = report.days.map((day) => day.subscribers.new + day.subscribers.returned);
  const totalGained = gained.reduce((a, b) => a + b, 0);
  const totalLost = lost.reduce((a, b) => a + b, 0);
  const first = report.days[0]?.subscribers;
  const startActive = first ? first.active - first.net : 0;
  return html`<section class="card" aria-labelledby="subscribers-title">
<h2 id="subscribers-title">Subscribers per day</h2>
<p class="lede">New subscriptions above the line, the ones lost (expired at the push service, opted out or erased) below it, and the day’s net change as a line.</p>
${dayChart({
  id: 'chart-subscribers',
  title: 'New, lost and net subscribers per day',
  description: `From ${longDate(report.from)} to ${longDate(report.to)}: ${count(totalGained)} new, ${count(totalLost)} lost, net ${totalGained - totalLost >= 0 ? '+' : '−'}${count(Math.abs(totalGained - totalLost))}; ${count(startActive)} active at the start, ${count(report.days.at(-1)?.subscribers.active ?? 0)} at the end.`,
  dates: report.days.map((day) => day.date),
  bars: [
    { key: 'new', label: 'New', values: gained, colour: 'blue' },
    { key: 'lost', label: 'Lost', values: lost, colour: 'vermilion', below: true },
  ],
  lines: [{ key: 'net', label: 'Net change', values: report.days.map((day) => day.subscribers.net), colour: 'ink', dash: 'solid', marker: 'circle' }],
})}
${numbersTable(
  'Subscribers per day',
  ['Day', 'New', 'Came back', 'Expired', 'Opted out', 'Erased', 'Net', 'Active at the end'],
  report.days.map((day) => [
    longDate(day.date),
    day.subscribers.new,
    day.subscribers.returned,
    day.subscribers.lostExpired,
    day.subscribers.lostUnsubscribed,
    day.subscribers.lostErased,
    day.subscribers.net,
    day.subscribers.active,
  ]),
)}
</section>`;
}

const FUNNEL_STEPS: Array<{ step: PromptFunnelStep; label: string; branch?: boolean }> = [
  { step: 'prompt_shown', label: 'Prompt shown' },
  { step: 'prompt_accepted', label: 'Said yes' },
  { step: 'permission_granted', label: 'Allowed in the browser' },
  { step: 'push_subscribed', label: 'Subscribed' },
  { step: 'prompt_postponed', label: 'Said later', branch: true },
  { step: 'permission_denied', label: 'Blocked in the browser', branch: true },
  { step: 'permission_dismissed', label: 'Closed the browser’s ask', branch: true },
];

function funnelSection(funnel: Record<PromptFunnelStep, number>, report: DailyReport): Html {
  const steps: FunnelStep[] = FUNNEL_STEPS.map((entry) => ({ key: entry.step, label: entry.label, value: funnel[entry.step], ...(entry.branch ? { branch: true } : {}) }));
  const shown = funnel.prompt_shown;
  return html`<section class="card" aria-labelledby="funnel-title">
<h2 id="funnel-title">Opt-in funnel</h2>
<p class="lede">How shoppers answered the soft prompt, as a share of the times it was shown. The hatched rows are the shoppers who left at that step.</p>
${shown === 0 && Object.values(funnel).every((n) => n === 0)
  ? html`<p class="empty-note">The prompt has not been shown in this range. It appears on the shop once the snippet is installed and its trigger is reached.</p>`
  : funnelChart({
      id: 'chart-funnel',
      title: 'Opt-in funnel',
      description: `Of ${count(shown)} prompts shown, ${count(funnel.prompt_accepted)} said yes (${share(funnel.prompt_accepted, shown)}), ${count(funnel.permission_granted)} allowed notifications (${share(funnel.permission_granted, shown)}) and ${count(funnel.push_subscribed)} subscribed (${share(funnel.push_subscribed, shown)}); ${count(funnel.prompt_postponed)} said later, ${count(funnel.permission_denied)} blocked and ${count(funnel.permission_dismissed)} closed the browser’s ask.`,
      steps,
    })}
${numbersTable(
  'Opt-in funnel',
  ['Step', 'Shoppers', 'Share of prompts shown'],
  steps.map((step) => [step.label, step.value, share(step.value, shown)]),
)}
<p class="meta">Counted by day in ${report.timeZone}, from ${longDate(report.from)} to ${longDate(report.to)}.</p>
</section>`;
}

function pushesSection(report: DailyReport): Html {
  const { pushes } = totalsOf(report);
  const currency = mainCurrency(report);
  const triggers = Object.entries(report.triggers);
  const revenueOf = (figures: PushFigures) => revenueText(figures.revenue);
  return html`<section class="card" aria-labelledby="pushes-title">
<h2 id="pushes-title">Pushes per day</h2>
<p class="lede">By the day each push was queued: how many went out, were shown, were clicked, and led to an order.</p>
${pushes.audience === 0 && pushes.converted === 0
  ? html`<p class="empty-note">No pushes in this range. Cart reminders, price drops and back-in-stock alerts start by themselves once shoppers subscribe and the shop sends its events.</p>`
  : html`${dayChart({
      id: 'chart-pushes',
      title: 'Pushes sent and shown per day',
      description: `From ${longDate(report.from)} to ${longDate(report.to)}: ${count(pushes.sent)} sent, ${count(pushes.shown)} shown.`,
      dates: report.days.map((day) => day.date),
      bars: [{ key: 'sent', label: 'Sent', values: report.days.map((day) => day.pushes.sent), colour: 'blue' }],
      lines: [{ key: 'shown', label: 'Shown', values: report.days.map((day) => day.pushes.shown), colour: 'purple', dash: 'dashed', marker: 'square' }],
    })}
<h3 class="chart-heading">Clicks and orders per day</h3>
${dayChart({
  id: 'chart-clicks',
  title: 'Pushes clicked and orders from them per day',
  description: `From ${longDate(report.from)} to ${longDate(report.to)}: ${count(pushes.clicked)} clicked, ${count(pushes.converted)} orders after a click.`,
  dates: report.days.map((day) => day.date),
  bars: [{ key: 'clicked', label: 'Clicked', values: report.days.map((day) => day.pushes.clicked), colour: 'green' }],
  lines: [{ key: 'orders', label: 'Orders', values: report.days.map((day) => day.pushes.converted), colour: 'vermilion', dash: 'dashdot', marker: 'diamond' }],
})}
${currency
  ? html`<h3 class="chart-heading">Revenue per day (${currency})</h3>
${dayChart({
  id: 'chart-revenue',
  title: `Revenue from pushes per day, in ${currency}`,
  description: `From ${longDate(report.from)} to ${longDate(report.to)}: ${revenueOf(pushes)} from orders that followed a click.`,
  dates: report.days.map((day) => day.date),
  bars: [{ key: 'revenue', label: `Revenue (${currency})`, values: report.days.map((day) => day.pushes.revenue[currency] ?? 0), colour: 'green' }],
  format: (value) => compactMoney(value, currency),
})}`
  : ''}
${numbersTable(
  'Pushes per day',
  ['Day', 'Sent', 'Shown', 'Clicked', 'Orders', 'Revenue'],
  report.days.map((day) => [longDate(day.date), day.pushes.sent, day.pushes.shown, day.pushes.clicked, day.pushes.converted, revenueOf(day.pushes)]),
  ['Total', pushes.sent, pushes.shown, pushes.clicked, pushes.converted, revenueOf(pushes)],
)}`}
<h3 class="table-heading" id="triggers-title">Per trigger</h3>
${triggers.length === 0
  ? html`<p class="empty-note">No trigger has sent anything in this range.</p>`
  : html`<div class="table-scroll" role="region" aria-labelledby="triggers-title" tabindex="0">
<table class="figures per-trigger">
<thead><tr><th scope="col">Trigger</th><th scope="col" class="num">Sent</th><th scope="col" class="num">Held out</th><th scope="col" class="num">Shown</th><th scope="col" class="num">Clicked</th><th scope="col" class="num">Click rate</th><th scope="col" class="num">Orders</th><th scope="col" class="num">Revenue</th></tr></thead>
<tbody>${triggers.map(
      ([source, figures]) =>
        html`<tr><th scope="row">${triggerName(source)}</th><td class="num">${count(figures.sent)}</td><td class="num">${count(figures.heldOut)}</td><td class="num">${count(figures.shown)}</td><td class="num">${count(figures.clicked)}</td><td class="num">${share(figures.clicked, figures.sent)}</td><td class="num">${count(figures.converted)}</td><td class="num">${revenueOf(figures)}</td></tr>`,
    )}</tbody>
<tfoot><tr><th scope="row">All</th><td class="num">${count(pushes.sent)}</td><td class="num">${count(pushes.heldOut)}</td><td class="num">${count(pushes.shown)}</td><td class="num">${count(pushes.clicked)}</td><td class="num">${share(pushes.clicked, pushes.sent)}</td><td class="num">${count(pushes.converted)}</td><td class="num">${revenueOf(pushes)}</td></tr></tfoot>
</table>
</div>`}
</section>`;
}

function liftSection(report: DailyReport): Html {
  const withHoldout = Object.entries(report.triggers).filter(([, figures]) => figures.holdout !== null);
  const intervals: LiftRow[] = withHoldout.flatMap(([source, figures]) => {
    const holdout = figures.holdout!;
    return holdout.interval && holdout.lift !== null ? [{ key: source, label: triggerName(source), lift: holdout.lift, low: holdout.interval.low, high: holdout.interval.high }] : [];
  });
  const verdictLabel = { more: 'More orders', fewer: 'Fewer orders', unclear: 'No clear difference', not_enough_data: 'Not enough data' } as const;
  return html`<section class="card" aria-labelledby="lift-title">
<h2 id="lift-title">Did the pushes cause orders?</h2>
<p class="lede">A trigger with a holdout sends nothing to a random share of shoppers. Comparing how often each group ordered within ${report.attributionWindowHours} hours shows the orders the pushes themselves brought.</p>
${withHoldout.length === 0
  ? html`<p class="empty-note">No trigger held anyone out in this range. Set a holdout share on an automation to measure its lift.</p>`
  : html`${intervals.length > 0
      ? html`<p class="meta">Each diamond is a trigger’s lift, the bar around it its 95 % interval. A bar clear of the dashed line of no difference is a finding; one across it is not yet.</p>`
      : ''}${intervals.length > 0
      ? liftChart({
          id: 'chart-lift',
          title: 'Lift in orders per trigger, with its 95 % interval',
          description: withHoldout.map(([, figures]) => figures.holdout!.reading).join(' '),
          rows: intervals,
        })
      : ''}<ul class="lift-list">${withHoldout.map(([source, figures]) => {
      const holdout = figures.holdout!;
      const rate = (group: { subscribers: number; ordered: number }) => share(group.ordered, group.subscribers);
      return html`<li class="lift-item">
<div class="lift-head"><h3>${triggerName(source)}</h3><span class="verdict verdict-${holdout.verdict}">${verdictLabel[holdout.verdict]}</span></div>
<p class="lift-reading">${holdout.reading}</p>
<p class="meta">Pushed: ${count(holdout.recipients.ordered)} of ${count(holdout.recipients.subscribers)} ordered (${rate(holdout.recipients)}). Held out: ${count(holdout.heldOut.ordered)} of ${count(holdout.heldOut.subscribers)} ordered (${rate(holdout.heldOut)}).</p>
</li>`;
    })}</ul>`}
</section>`;
}

export function overviewPage(input: OverviewInput): Html {
  const { report } = input;
  const site = input.chrome.site;
  const { gained, lost, pushes } = totalsOf(report);
  const empty = overviewIsEmpty(report, input.funnel);
  const header = html`<div class="page-header">
<h1>Overview</h1>
<p>${longDate(report.from)} to ${longDate(report.to)}, days in ${report.timeZone}.</p>
</div>`;
  const body = empty
    ? html`${header}${rangeSection(input)}
<section class="card empty-state" aria-labelledby="empty-title">
<h2 id="empty-title">No figures yet</h2>
<p>Nobody has subscribed to ${site.name} in this range, and no push has gone out. The figures appear here as soon as shoppers opt in.</p>
<ol class="steps">
<li><a href="${DASHBOARD_PATH}/sites/${site.id}/install">Install the snippet and the service worker</a> on the shop.</li>
<li>Open the shop, allow notifications when asked, and come back: your own subscription is counted here.</li>
<li>Send product, cart and order events so cart reminders and price drops can start.</li>
</ol>
</section>`
    : html`${header}${rangeSection(input)}
<dl class="stat-tiles">
${tile('Active subscribers now', count(report.activeNow))}
${tile('New in range', count(gained), `${count(lost)} lost`)}
${tile('Pushes sent', count(pushes.sent), `${share(pushes.clicked, pushes.sent)} clicked`)}
${tile('Orders from pushes', count(pushes.converted), revenueText(pushes.revenue))}
</dl>
${subscribersSection(report)}
${funnelSection(input.funnel, report)}
${pushesSection(report)}
${liftSection(report)}`;
  return appPage({ title: `Overview · ${site.name}`, assets: input.assets, chrome: { ...input.chrome, current: 'overview' }, body });
}
