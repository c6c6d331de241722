import { describe, expect, it } from 'vitest';
import { browserHeaders, testSite } from '../testing/fixtures.ts';
import { routeTestWorld } from '../testing/route-test.ts';

const world = routeTestWorld();

async function call(method: string, body?: unknown, key = world.site.secretKey) {
  const response = await world.app.request('/v1/settings', {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('GET /v1/settings', () => {
  it('answers every section with its defaults filled in', async () => {
    const other = await testSite(world.database.db, ['https://defaults.example'], { quietHours: true });
    const { status, body } = await call('GET', undefined, other.secretKey);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      defaultLocale: 'en',
      engagement: { frequencyCap: { marketingPer24h: 3 }, quietHours: { enabled: true, start: '21:00', end: '09:00' }, defaultTimeZone: 'UTC' },
      cartReminders: { enabled: true, steps: [{ delayMinutes: 60 }, { delayMinutes: 1440 }], holdoutPercent: 0 },
      priceDrop: { enabled: true, thresholdPercent: 5, renotifyWindowHours: 168, holdoutPercent: 0 },
      backInStock: { enabled: true, holdoutPercent: 0 },
      attribution: { windowHours: 24 },
      templates: {},
    });
    expect(body.prompt).toMatchObject({ trigger: 'page_views' });
  });

  it('refuses a publishable key', async () => {
    const response = await world.app.request('/v1/settings', { headers: browserHeaders(world.site) });
    expect(response.status).toBe(403);
  });
});

describe('PATCH /v1/settings', () => {
  it('merges fields into their sections and keeps the rest', async () => {
    const first = await call('PATCH', { engagement: { frequencyCap: { marketingPer24h: 5 } }, priceDrop: { thresholdPercent: 10 } });
    expect(first.status).toBe(200);
    const second = await call('PATCH', { priceDrop: { holdoutPercent: 20 } });
    expect(second.body.priceDrop).toMatchObject({ thresholdPercent: 10, holdoutPercent: 20, enabled: true });
    expect(second.body.engagement.frequencyCap.marketingPer24h).toBe(5);
    // Nested objects merge too: changing the end of quiet hours keeps their start and switch.
    const nested = await call('PATCH', { engagement: { quietHours: { enabled: false, start: '22:00' } } });
    expect(nested.status).toBe(200);
    const end = await call('PATCH', { engagement: { quietHours: { end: '08:00' } } });
    expect(end.body.engagement.quietHours).toEqual({ enabled: false, start: '22:00', end: '08:00' });
    expect(end.body.engagement.frequencyCap.marketingPer24h).toBe(5);
    expect((await call('GET')).body.priceDrop.holdoutPercent).toBe(20);
  });

  it('adds and removes templates per key and locale', async () => {
    const template = { title: '{{product.name}} für {{price.new}}', body: 'Vorher {{price.old}}' };
    await call('PATCH', { templates: { price_drop: { de: template, 'de-AT': template } } });
    const removed = await call('PATCH', { templates: { price_drop: { 'de-AT': null } } });
    expect(removed.status).toBe(200);
    expect(removed.body.templates).toEqual({ price_drop: { de: template } });
    const cleared = await call('PATCH', { templates: { price_drop: null } });
    expect(cleared.body.templates).toEqual({});
  });

  it('refuses bad settings whole, naming the field, and stores nothing of them', async () => {
    const before = (await call('GET')).body;
    for (const patch of [
      { cartReminders: { steps: [{ delayMinutes: 120 }, { delayMinutes: 60 }] } },
      { engagement: { quietHours: { start: '25:00' } } },
      { engagement: { defaultTimeZone: 'Mars/Olympus' } },
      { priceDrop: { holdoutPercent: 120 } },
      { defaultLocale: 'not a locale!' },
      { templates: { price_drop: { en: { title: '{{price.newest}}', body: '' } } } },
      { templates: { farewell: { en: { title: 'Hi', body: '' } } } },
    ]) {
      const answer = await call('PATCH', patch);
      expect(answer.status, JSON.stringify(patch)).toBe(400);
      expect(answer.body.error.code).toBe('validation_failed');
    }
    expect((await call('GET')).body).toEqual(before);
  });

  it('refuses a template that could not fit a push payload with 413, saying by how much', async () => {
    const answer = await call('PATCH', { templates: { back_in_stock: { en: { title: '{{product.name}}', body: '{{product.name}} '.repeat(55) } } } });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('payload_too_large');
    expect(answer.body.error.details.overflow).toBeGreaterThan(0);
  });
});
