import { describe, expect, it } from 'vitest';
import { reasonOf, reasonText } from './delivery-reasons.ts';

describe('delivery reason codes', () => {
  it('reads back the code a reason was written with, whatever the detail holds', () => {
    expect(reasonOf(reasonText('push_error', 'network error: connect ECONNREFUSED 10.0.0.1:443'))).toBe('push_error');
    expect(reasonOf(reasonText('failed_after_attempts', 'gave up after 5 attempts; the last: push service error 500'))).toBe('failed_after_attempts');
    expect(reasonOf('quiet_hours: 23:10 in Europe/Berlin is inside quiet hours 21:00–09:00')).toBe('quiet_hours');
  });

  it('calls text without a code `other`, as the problems summary does', () => {
    expect(reasonOf('gave up after 5 attempts: push service error 500')).toBe('other');
    expect(reasonOf('Timed out: no code')).toBe('other');
    expect(reasonOf('')).toBe('other');
    expect(reasonOf(null)).toBe('other');
  });

  it('keeps a stored reason bounded however long the detail', () => {
    expect(reasonText('build_failed', 'x'.repeat(10_000))).toHaveLength(500);
  });
});
