/**
 * The install page's "Send me a test push" section. Reading works without a script; allowing a
 * browser needs one (the Push API is script-only), which the section says in a <noscript>.
 */
import { html } from 'hono/html';
import type { DashboardAssets } from '../assets/assets.ts';
import { formatSeenTime } from '../install-check.ts';
import { assetUrl, csrfField, DASHBOARD_PATH, notice, type Html } from '../layout.ts';
import { describeUserAgent } from '../user-agent.ts';

export interface TestPushDevice {
  id: string;
  userAgent: string | null;
  addedAt: Date;
  lastSentAt: Date | null;
  lastOutcome: string | null;
}

/** What the last action on the section did, read back from the redirect's query. */
export type TestPushNotice =
  | { kind: 'device'; what: 'added' | 'removed' | 'unknown' }
  | { kind: 'sent'; sent: number; failed: number; removed: number }
  | { kind: 'unavailable' };

export interface TestPushSectionInput {
  assets: DashboardAssets;
  siteId: string;
  siteName: string;
  vapidPublicKey: string;
  csrfToken: string;
  canSend: boolean;
  /** False where this server has no push transport (never on `npm start` or Workers). */
  available: boolean;
  devices: readonly TestPushDevice[];
  notice?: TestPushNotice;
  now: Date;
  timeZone: string;
}

/** Reads the section's notice from the install page's query (`test-device=…`, `test-push=S.F.R`). */
export function testPushNoticeOf(query: (name: string) => string | undefined): TestPushNotice | undefined {
  const device = query('test-device');
  if (device === 'added' || device === 'removed' || device === 'unknown') return { kind: 'device', what: device };
  const sent = query('test-push');
  if (sent === 'unavailable') return { kind: 'unavailable' };
  const counts = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(sent ?? '');
  if (counts) return { kind: 'sent', sent: Number(counts[1]), failed: Number(counts[2]), removed: Number(counts[3]) };
  return undefined;
}

function browsers(count: number): string {
  return `${count} browser${count === 1 ? '' : 's'}`;
}

function noticeHtml(value: TestPushNotice): Html {
  if (value.kind === 'unavailable') return notice('error', 'This server cannot send test pushes: it was started without a push transport.');
  if (value.kind === 'device') {
    if (value.what === 'added') return notice('success', 'This browser is set up for test pushes. Send one below.');
    if (value.what === 'removed') return notice('success', 'The browser was removed. It gets no more test pushes.');
    return notice('info', 'That browser was already removed.');
  }
  if (value.sent + value.failed + value.removed === 0) return notice('info', 'No browser is set up for test pushes yet, so nothing was sent.');
  const parts: string[] = [];
  if (value.sent > 0) parts.push(`Sent to ${browsers(value.sent)}: it should show within a few seconds.`);
  if (value.failed > 0) parts.push(`${browsers(value.failed)} could not be reached; the reason is beside it below.`);
  if (value.removed > 0) parts.push(`${browsers(value.removed)} ${value.removed === 1 ? 'was' : 'were'} removed: the push service no longer knows ${value.removed === 1 ? 'its subscription' : 'their subscriptions'}. Allow test pushes there again.`);
  return notice(value.failed > 0 && value.sent === 0 ? 'error' : 'success', parts.join(' '));
}

export function testPushSection(input: TestPushSectionInput): Html {
  const base = `${DASHBOARD_PATH}/sites/${input.siteId}`;
  const script = input.assets.pageScripts.get('test-push')!;
  const list = input.devices.length
    ? html`<ul class="device-list" aria-label="Your browsers for test pushes">
${input.devices.map(
  (device) => html`<li>
<div><span class="device-name">${describeUserAgent(device.userAgent)}</span><br><span class="meta">Added ${formatSeenTime(device.addedAt, input.now, input.timeZone)}${device.lastSentAt ? html` · last test ${formatSeenTime(device.lastSentAt, input.now, input.timeZone)}: ${device.lastOutcome ?? ''}` : ''}</span></div>
${input.canSend
  ? html`<form method="post" action="${base}/test-devices/${device.id}/delete">${csrfField(input.csrfToken)}<button class="button secondary small" type="submit" aria-label="Remove ${describeUserAgent(device.userAgent)}, added ${formatSeenTime(device.addedAt, input.now, input.timeZone)}">Remove</button></form>`
  : ''}
</li>`,
)}
</ul>`
    : html`<p class="meta">No browser of yours is set up for test pushes on ${input.siteName} yet.</p>`;
  const controls = input.canSend
    ? html`${input.devices.length
        ? html`<form method="post" action="${base}/test-push">${csrfField(input.csrfToken)}<button class="button" type="submit">Send a test push</button></form>`
        : ''}
<p class="test-push-enable">${csrfField(input.csrfToken)}<button class="button secondary" type="button" data-test-push-enable hidden>Allow test pushes in this browser</button></p>
<p class="meta" data-test-push-status role="status"></p>
<noscript><p class="meta">Allowing a browser needs JavaScript: the browser’s Push API is only reachable from a script.</p></noscript>
<script src="${assetUrl(script.name)}" defer></script>`
    : html`<p class="meta">Your role cannot send test pushes. An owner or editor of the shop can.</p>`;
  return html`<section class="card" id="test-push" aria-labelledby="test-push-title" data-test-push data-scope="${base}/test-push/" data-worker="/pushcart-sw.js" data-devices="${base}/test-devices" data-vapid-key="${input.vapidPublicKey}">
<h2 id="test-push-title">Send me a test push</h2>
<p class="lede">See a push from ${input.siteName} in your own browser, encrypted and sent through the push service the way shoppers get theirs. Your browser is not a subscriber: it is in no audience and no figure. Clicking the test push opens this page.</p>
${input.notice ? noticeHtml(input.notice) : ''}
${!input.available ? notice('info', 'This server was started without a push transport, so test pushes cannot be sent from it.') : ''}
${list}
${controls}
</section>`;
}
