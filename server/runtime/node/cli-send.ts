/**
 * `pushcart send` and `pushcart stats`: a send from a JSON file (the send API's body) or flags,
 * queued by the same `send` as the API and followed until done; and the per-trigger funnels of the
 * overview as a table. Both read and write the database directly, as the other commands do; the
 * pushes themselves go out through whatever runs the background work (`npm start`, `pushcart
 * worker`).
 */
import { CLI_ACTOR, audienceKind, recordAudit } from '../../audit/audit-log.ts';
import type { Config } from '../../config.ts';
import { dailyReport, type DailyReport } from '../../db/daily-stats.ts';
import type { Db } from '../../db/database.ts';
import type { SiteRow } from '../../db/sites.ts';
import { ApiError } from '../../errors.ts';
import { notificationStatus, type NotificationStatus } from '../../notifications/notification-status.ts';
import { sendNotificationSchema } from '../../notifications/notification-input.ts';
import { reportUrl } from '../../notifications/payload.ts';
import { apiSendRequest, send } from '../../notifications/send.ts';
import { readSiteSettings } from '../../sites/site-settings.ts';
import { dayRange, localDate, localDays, MAX_RANGE_DAYS } from '../../stats/local-days.ts';
import { outcomeLines, progressLine } from './cli-progress.ts';

/** What the command reads and writes: the database, the clock, and the two output streams. */
export interface CliIo {
  db: Db;
  config: Config;
  now: () => number;
  /** stdout, a line at a time. */
  print: (line: string) => void;
  /** stderr: where progress goes, so `--json` output on stdout stays one document. */
  progress: { isTTY: boolean; write: (text: string) => void };
  sleep: (ms: number) => Promise<void>;
  /** Aborts following (Ctrl-C): the send goes on. */
  signal?: AbortSignal;
}

/** A mistake in the command line or the message: one line, exit code 2. */
export class SendUsageError extends Error {}

export interface SendFlags {
  file?: string | undefined;
  fileText?: string | undefined;
  title?: string | undefined;
  body?: string | undefined;
  url?: string | undefined;
  all?: boolean | undefined;
  tag?: string[] | undefined;
  'external-user-id'?: string[] | undefined;
  'visitor-id'?: string[] | undefined;
  kind?: string | undefined;
  ttl?: string | undefined;
}

/** The send API's body from `--file` (its text) or from flags; validation is the API's own. */
export function messageFromFlags(flags: SendFlags): unknown {
  if (flags.fileText !== undefined) {
    const hasFlags = [flags.title, flags.body, flags.url, flags.all || undefined, flags.tag, flags['external-user-id'], flags['visitor-id'], flags.kind, flags.ttl].some((v) => v !== undefined);
    if (hasFlags) throw new SendUsageError('--file takes the whole message (the body of POST /v1/notifications); give the other flags or --file, not both');
    try {
      return JSON.parse(flags.fileText);
    } catch (error) {
      throw new SendUsageError(`${flags.file}: not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const to: Record<string, unknown> = {};
  if (flags.all) to.all = true;
  if (flags.tag?.length) {
    const tags: Record<string, string> = {};
    for (const pair of flags.tag) {
      const at = pair.indexOf('=');
      if (at <= 0) throw new SendUsageError(`--tag ${pair}: write it as key=value`);
      tags[pair.slice(0, at)] = pair.slice(at + 1);
    }
    to.tags = tags;
  }
  if (flags['external-user-id']?.length) to.externalUserIds = flags['external-user-id'];
  if (flags['visitor-id']?.length) to.visitorIds = flags['visitor-id'];
  const ttl = flags.ttl === undefined ? undefined : Number(flags.ttl);
  if (flags.ttl !== undefined && !Number.isInteger(ttl)) throw new SendUsageError(`--ttl ${flags.ttl}: a whole number of seconds`);
  return {
    title: flags.title,
    ...(flags.body !== undefined ? { body: flags.body } : {}),
    url: flags.url,
    ...(flags.kind !== undefined ? { kind: flags.kind } : {}),
    ...(ttl !== undefined ? { ttl } : {}),
    to,
  };
}

/** Follow a send this often: often enough for a lively bar, rare enough to cost the database nothing. */
export const FOLLOW_EVERY_MS = 1_000;
/** Without a terminal, a progress line this often (a log file should not get one a second). */
const PLAIN_PROGRESS_EVERY_MS = 10_000;
/** After this long with nothing sent, say that no worker seems to be running. */
const NO_WORKER_HINT_AFTER_MS = 15_000;

/**
 * Queues the message and, unless `follow` is false, follows it until every delivery has an outcome
 * (or Ctrl-C, which stops following only). Prints the final status: as JSON with `json`, else in words.
 * Returns the exit code: 0 when everything went, 1 when some deliveries failed, 130 when interrupted.
 */
export async function sendCommand(
  io: CliIo,
  site: SiteRow,
  message: unknown,
  /** `onQueued`: tell the running workers (the CLI announces through Postgres, work-notifications.ts). */
  options: { follow: boolean; json: boolean; onQueued?: () => Promise<void> },
): Promise<number> {
  const parsed = sendNotificationSchema.safeParse(message);
  if (!parsed.success) {
    throw new SendUsageError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'message'}: ${issue.message}`).join('; '));
  }
  const startedMs = io.now();
  let sent;
  try {
    sent = await send({ db: io.db, now: new Date(startedMs), reportUrl: reportUrl(io.config.publicUrl) }, apiSendRequest(site, parsed.data));
  } catch (error) {
    // The API's refusals (a click target off the site's origins, a payload too large) in the same words.
    if (error instanceof ApiError) throw new SendUsageError(error.message);
    throw error;
  }
  await recordAudit(io.db, site.id, CLI_ACTOR, { action: 'notification_sent', notificationId: sent.id, audience: audienceKind(parsed.data.to), subscriptions: sent.audience }, new Date(startedMs));
  if (!sent.replayed && (sent.audience > 0 || sent.resolving)) await options.onQueued?.();
  if (!io.signal?.aborted && !options.json) {
    io.print(`Queued ${sent.id} for ${sent.resolving ? `about ${sent.audience.toLocaleString('en-US')}` : sent.audience.toLocaleString('en-US')} subscriber(s) of ${site.name}.`);
  }
  let status = (await notificationStatus(io.db, site.id, sent.id, io.now()))!;
  if (options.follow) status = await follow(io, site, status, startedMs);
  if (options.json) io.print(JSON.stringify(status));
  else outcomeLines(status).forEach(io.print);
  if (status.status === 'sending') {
    if (!options.json) io.print(`Still sending; pushcart send does not stop it. Cancel with POST /v1/notifications/${status.id}/cancel.`);
    return io.signal?.aborted ? 130 : 0;
  }
  return status.counts.failed > 0 ? 1 : 0;
}

async function follow(io: CliIo, site: SiteRow, first: NotificationStatus, startedMs: number): Promise<NotificationStatus> {
  let status = first;
  let lastPlainMs = -Infinity;
  let hinted = false;
  const draw = (final: boolean) => {
    const elapsed = (io.now() - startedMs) / 1000;
    const line = progressLine(status, elapsed);
    if (io.progress.isTTY) io.progress.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else if (final || io.now() - lastPlainMs >= PLAIN_PROGRESS_EVERY_MS) {
      io.progress.write(`${line}\n`);
      lastPlainMs = io.now();
    }
  };
  while (status.status === 'sending' && !io.signal?.aborted) {
    draw(false);
    const nothingYet = status.progress.sent + status.counts.failed + status.counts.expired + status.counts.suppressed === 0;
    if (!hinted && nothingYet && io.now() - startedMs >= NO_WORKER_HINT_AFTER_MS) {
      hinted = true;
      if (io.progress.isTTY) io.progress.write('\n');
      io.progress.write('Nothing has gone out yet: is a worker running? `npm start` runs one, `npx pushcart worker` adds one.\n');
    }
    await io.sleep(FOLLOW_EVERY_MS);
    status = (await notificationStatus(io.db, site.id, status.id, io.now()))!;
  }
  draw(true);
  return status;
}

export interface StatsRange {
  from?: string | undefined;
  to?: string | undefined;
}

/** The overview's figures for `range` (local dates in the shop's zone; default its last 30 days). */
export async function statsReport(io: Pick<CliIo, 'db' | 'now'>, site: SiteRow, range: StatsRange): Promise<DailyReport> {
  const settings = readSiteSettings(site.settings);
  const timeZone = settings.engagement.defaultTimeZone;
  for (const [flag, value] of Object.entries(range)) {
    if (value !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new SendUsageError(`--${flag} ${value}: a date such as 2026-11-01`);
  }
  const { from, to, problem } = dayRange(range, localDate(io.now(), timeZone));
  if (problem === 'from_after_to') throw new SendUsageError('--from must not be after --to');
  if (problem === 'too_long') throw new SendUsageError(`at most ${MAX_RANGE_DAYS} days from --from to --to`);
  return dailyReport(io.db, site.id, localDays(from, to, timeZone), timeZone, settings.attribution.windowHours);
}

/** `pushcart stats` in words: a line for the subscribers, then the funnel per trigger as a table, and each lift in a sentence. */
export function statsTable(site: SiteRow, report: DailyReport): string[] {
  const n = (value: number) => value.toLocaleString('en-US');
  const money = (revenue: Record<string, number>) =>
    Object.entries(revenue)
      .map(([currency, amount]) => `${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`)
      .join(', ') || '—';
  const percent = (part: number, whole: number) => (whole > 0 ? `${((part / whole) * 100).toFixed(1)} %` : '—');
  const lines = [`${site.name}: ${report.from} to ${report.to} (${report.timeZone}); ${n(report.activeNow)} active subscribers now.`, ''];
  const header = ['trigger', 'audience', 'sent', 'shown', 'clicked', 'click rate', 'converted', 'revenue'];
  const rows = Object.entries(report.triggers)
    .sort(([, a], [, b]) => b.audience - a.audience)
    .map(([trigger, f]) => [trigger, n(f.audience), n(f.sent), n(f.shown), n(f.clicked), percent(f.clicked, f.sent), n(f.converted), money(f.revenue)]);
  if (rows.length === 0) return [...lines, 'No pushes in this range.'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const format = (row: string[]) => row.map((cell, i) => (i === 0 || i === row.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  lines.push(format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(format));
  const readings = Object.entries(report.triggers).filter(([, f]) => f.holdout !== null);
  if (readings.length > 0) lines.push('', ...readings.map(([trigger, f]) => `${trigger}: ${f.holdout!.reading}`));
  return lines;
}
