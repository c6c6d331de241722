/**
 * How `pushcart send` shows a send going out: one line redrawn in place on a terminal, or a line
 * now and then when the output is a file or a pipe. Pure: the status in, text out.
 */
import type { NotificationStatus } from '../../notifications/notification-status.ts';

const BAR_CELLS = 24;

function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `1h02m`, `4m05s`, `12s`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * `[█████████░░░░░░░░░░░░░░░] 38 %  380,000 / ~1,000,000 sent  2,412/s  ETA 4m17s`: done (any
 * final outcome) of the total, `~` while the total is an estimate; the rate is of final outcomes
 * since the send started.
 */
export function progressLine(status: NotificationStatus, elapsedSeconds: number): string {
  const { progress } = status;
  const done = Math.max(0, progress.total - progress.remaining);
  const share = progress.total === 0 ? 1 : Math.min(1, done / progress.total);
  const filled = Math.round(share * BAR_CELLS);
  const bar = `[${'█'.repeat(filled)}${'░'.repeat(BAR_CELLS - filled)}]`;
  const total = `${progress.resolving ? '~' : ''}${thousands(progress.total)}`;
  const rate = elapsedSeconds > 0 ? `${thousands(done / elapsedSeconds)}/s` : '';
  const tail =
    status.status === 'cancelled'
      ? 'cancelled'
      : status.status === 'completed'
        ? `done in ${duration(elapsedSeconds)}`
        : progress.etaSeconds !== null
          ? `ETA ${duration(progress.etaSeconds)}`
          : 'waiting for a worker';
  return [bar, `${String(Math.floor(share * 100)).padStart(3)} %`, ` ${thousands(progress.sent)} / ${total} sent`, rate, tail].filter(Boolean).join('  ');
}

/** The closing lines: how each delivery ended. */
export function outcomeLines(status: NotificationStatus): string[] {
  const c = status.counts;
  const lines = [
    `${status.status === 'cancelled' ? 'Cancelled' : status.status === 'completed' ? 'Done' : 'Still sending'}: ${thousands(c.sent)} sent, ${thousands(c.failed)} failed, ${thousands(c.expired)} expired (subscription gone), ${thousands(c.suppressed)} suppressed, ${thousands(c.heldOut)} held out, ${thousands(c.queued)} waiting.`,
  ];
  for (const problem of status.problems) lines.push(`  ${problem.status} ${problem.reason}: ${thousands(problem.count)} (e.g. ${problem.example.lastError})`);
  return lines;
}
