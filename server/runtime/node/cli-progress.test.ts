import { describe, expect, it } from 'vitest';
import type { NotificationStatus } from '../../notifications/notification-status.ts';
import { duration, outcomeLines, progressLine } from './cli-progress.ts';

function status(overrides: Partial<NotificationStatus> & { progress: NotificationStatus['progress'] }): NotificationStatus {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    status: 'sending',
    kind: 'marketing',
    trigger: 'api',
    audience: overrides.progress.resolved,
    createdAt: '2030-01-01T00:00:00.000Z',
    cancelledAt: null,
    counts: { queued: 0, sent: 0, failed: 0, expired: 0, suppressed: 0, heldOut: 0, shown: 0, clicked: 0, dismissed: 0, converted: 0 },
    revenue: {},
    problems: [],
    ...overrides,
  };
}

describe('pushcart send progress', () => {
  it('draws the share done, the count against an estimated total, the rate and the ETA', () => {
    const line = progressLine(status({ progress: { resolving: true, resolved: 400_000, total: 1_000_000, sent: 379_000, remaining: 620_000, etaSeconds: 257 } }), 157.6);
    expect(line).toBe('[█████████░░░░░░░░░░░░░░░]   38 %   379,000 / ~1,000,000 sent  2,411/s  ETA 4m17s');
  });

  it('says done with the time taken, cancelled, or that no worker is sending yet', () => {
    expect(progressLine(status({ status: 'completed', progress: { resolving: false, resolved: 10, total: 10, sent: 9, remaining: 0, etaSeconds: null } }), 3)).toMatch(/^\[█{24}\]  100 %   9 \/ 10 sent  3\/s  done in 3s$/);
    expect(progressLine(status({ status: 'cancelled', progress: { resolving: false, resolved: 10, total: 10, sent: 2, remaining: 8, etaSeconds: null } }), 3)).toMatch(/cancelled$/);
    expect(progressLine(status({ progress: { resolving: false, resolved: 10, total: 10, sent: 0, remaining: 10, etaSeconds: null } }), 0)).toMatch(/  0 %   0 \/ 10 sent  waiting for a worker$/);
    expect(progressLine(status({ progress: { resolving: false, resolved: 0, total: 0, sent: 0, remaining: 0, etaSeconds: null } }), 1)).toContain('100 %');
  });

  it('writes durations as people read them', () => {
    expect([duration(0), duration(59.4), duration(61), duration(3600 + 125)]).toEqual(['0s', '59s', '1m01s', '1h02m']);
  });

  it('ends with the outcomes and why deliveries did not go', () => {
    const lines = outcomeLines(
      status({
        status: 'completed',
        progress: { resolving: false, resolved: 5, total: 5, sent: 3, remaining: 0, etaSeconds: null },
        counts: { queued: 0, sent: 3, failed: 1, expired: 1, suppressed: 0, heldOut: 0, shown: 0, clicked: 0, dismissed: 0, converted: 0 },
        problems: [{ reason: 'push_rejected', status: 'failed', count: 1, example: { deliveryId: '7', subscriptionId: null, attempts: 1, lastStatus: 403, lastError: 'push_rejected: push service refused with 403' } }],
      }),
    );
    expect(lines).toEqual(['Done: 3 sent, 1 failed, 1 expired (subscription gone), 0 suppressed, 0 held out, 0 waiting.', '  failed push_rejected: 1 (e.g. push_rejected: push service refused with 403)']);
  });
});
