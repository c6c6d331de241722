/**
 * A shop's delivery health: what is wrong with its pushes, if anything, in words — the problems
 * first, or "All good" — then the weekly expiry of subscriptions as a table.
 */
import { html } from 'hono/html';
import type { Role } from '../../db/database.ts';
import type { DashboardAssets } from '../assets/assets.ts';
import { percent, type Finding, type HealthReport } from '../delivery-health.ts';
import { appPage, type Html, type SignedInChrome } from '../layout.ts';

export interface HealthInput {
  assets: DashboardAssets;
  chrome: SignedInChrome & { site: { id: string; name: string; role: Role } };
  report: HealthReport;
  timeZone: string;
  /** The week starts, written as days in the shop's zone. */
  weekLabels: string[];
}

const LEVEL_LABEL: Record<Finding['level'], string> = { problem: 'Problem', warning: 'Worth a look', info: 'By your rules' };

function findingItem(finding: Finding, index: number): Html {
  const id = `finding-${index}`;
  return html`<li class="health-finding health-${finding.level}" aria-labelledby="${id}">
<div class="health-head"><h3 id="${id}">${finding.title}</h3><span class="health-level">${LEVEL_LABEL[finding.level]}</span></div>
${finding.sentences.map((sentence) => html`<p>${sentence}</p>`)}
</li>`;
}

const integer = new Intl.NumberFormat('en-US');

function expirySection(input: HealthInput): Html {
  const { expiry } = input.report;
  return html`<section class="card" aria-labelledby="expiry-title">
<h2 id="expiry-title">Subscriptions expiring per week</h2>
<p class="lede">Of the subscriptions active at the start of each of the last eight weeks, the share the push services said were gone (or the browser replaced) during it.</p>
<p class="health-reading health-expiry-${expiry.verdict}">${expiry.reading}</p>
<div class="table-scroll" role="region" aria-labelledby="expiry-table-caption" tabindex="0">
<table class="figures health-weeks">
<caption id="expiry-table-caption" class="visually-hidden">Subscriptions expiring per week</caption>
<thead><tr><th scope="col">Week from</th><th scope="col" class="num">Active at start</th><th scope="col" class="num">Expired</th><th scope="col" class="num">Share</th></tr></thead>
<tbody>${expiry.weeks.map(
    (week, i) =>
      html`<tr><th scope="row">${input.weekLabels[i]}</th><td class="num">${integer.format(week.activeAtStart)}</td><td class="num">${integer.format(week.expired)}</td><td class="num">${week.rate === null ? '–' : percent(week.rate)}</td></tr>`,
  )}</tbody>
</table>
</div>
</section>`;
}

export function healthPage(input: HealthInput): Html {
  const { report } = input;
  const site = input.chrome.site;
  const problems = report.findings.filter((f) => f.level !== 'info');
  const rules = report.findings.filter((f) => f.level === 'info');
  const body = html`<div class="page-header">
<h1>Delivery health</h1>
<p>What stops or slows the pushes of ${site.name}, read from the deliveries themselves. Times in ${input.timeZone}.</p>
</div>
<section class="card health-summary ${report.allGood ? 'health-good' : 'health-bad'}" aria-labelledby="health-summary-title">
<h2 id="health-summary-title">${report.allGood ? 'All good' : 'Needs attention'}</h2>
<p>${report.summary}</p>
${problems.length > 0 ? html`<ul class="health-list">${problems.map(findingItem)}</ul>` : ''}
</section>
<section class="card" aria-labelledby="health-rules-title">
<h2 id="health-rules-title">Held or skipped by your rules</h2>
${rules.length > 0
  ? html`<ul class="health-list">${rules.map((finding, i) => findingItem(finding, problems.length + i))}</ul>`
  : html`<p class="empty-note">Nothing waits for quiet hours, and no push was skipped in the last 7 days.</p>`}
</section>
${expirySection(input)}`;
  return appPage({ title: `Delivery health · ${site.name}`, assets: input.assets, chrome: { ...input.chrome, current: 'health' }, body });
}
