import { describe, expect, it } from 'vitest';
import { browserHeaders, SHOP_ORIGIN, testSite } from '../testing/fixtures.ts';
import { routeTestWorld } from '../testing/route-test.ts';

const world = routeTestWorld();

async function patchSettings(secretKey: string, body: unknown) {
  const response = await world.app.request('/v1/settings', {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${secretKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function config(publishableKey: string, locale?: string) {
  const query = locale === undefined ? '' : `?locale=${encodeURIComponent(locale)}`;
  const response = await world.app.request(`/v1/sites/${publishableKey}/config${query}`, { headers: { Origin: SHOP_ORIGIN } });
  expect(response.status).toBe(200);
  return (await response.json()) as any;
}

const FR = { title: 'Des offres ?', body: 'Les baisses de prix et votre panier, rien de plus.', allow: 'Oui', later: 'Plus tard' };
const DE_AT = { title: 'Angebote, Servus?', body: 'Nur Preise und Ihr Warenkorb.', allow: 'Gerne', later: 'Später' };

describe('GET /v1/sites/{publishableKey}/config: the prompt', () => {
  it('sends the texts of one locale, looked up like templates: exact, shorter prefix, the site’s default locale, then built-in', async () => {
    const site = await testSite(world.database.db);
    const patched = await patchSettings(site.secretKey, { defaultLocale: 'fr', prompt: { texts: { fr: FR, 'de-at': DE_AT } } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(Object.keys(patched.body.prompt.texts).sort()).toEqual(['de-AT', 'fr']);

    expect((await config(site.publishableKey, 'de-AT')).prompt.texts).toEqual(DE_AT);
    expect((await config(site.publishableKey, 'de-at-x-shop')).prompt.texts).toEqual(DE_AT);
    expect((await config(site.publishableKey, 'fr-CA')).prompt.texts).toEqual(FR);
    // German but not Austrian: the site's own French wins over built-in German (the shop's voice, as templates).
    expect((await config(site.publishableKey, 'de-DE')).prompt.texts).toEqual(FR);
    // No locale, or one that is no language tag: the site's default locale.
    expect((await config(site.publishableKey)).prompt.texts).toEqual(FR);
    expect((await config(site.publishableKey, '!!')).prompt.texts).toEqual(FR);
  });

  it('falls back to the built-in texts in the shopper’s language, then English, and keeps a site’s earlier single texts', async () => {
    const site = await testSite(world.database.db);
    expect((await config(site.publishableKey, 'de-CH')).prompt.texts).toEqual({
      title: 'Angebote und Warenkorb-Erinnerungen erhalten?',
      body: 'Wir benachrichtigen Sie nur zu Preisen und Ihrem Warenkorb. Sie können das jederzeit abschalten.',
      allow: 'Erlauben',
      later: 'Später',
    });
    expect((await config(site.publishableKey, 'ja')).prompt.texts).toMatchObject({ allow: 'Allow', later: 'Later' });

    await world.database.db
      .updateTable('sites')
      .set({ settings: JSON.stringify({ prompt: { title: 'Our own title', allowLabel: 'Yes please' } }) })
      .where('id', '=', site.id)
      .execute();
    expect((await config(site.publishableKey, 'en-GB')).prompt.texts).toEqual({
      title: 'Our own title',
      body: 'We will only notify you about prices and your cart. Turn it off at any time.',
      allow: 'Yes please',
      later: 'Later',
    });
  });

  it('sends the theme with the label colour that reads on the accent, and the logo only when there is one', async () => {
    const site = await testSite(world.database.db);
    const plain = await config(site.publishableKey);
    expect(plain.prompt.theme).toEqual({ accent: '#2557d6', onAccent: '#ffffff', background: '#ffffff', text: '#1f2328', radius: 16, position: 'bottom-right' });

    const theme = { accent: '#ffd60a', background: '#111827', text: '#f9fafb', radius: 0, position: 'center', logoUrl: 'https://cdn.example/logo.png' };
    expect((await patchSettings(site.secretKey, { prompt: { theme } })).status).toBe(200);
    const themed = await config(site.publishableKey);
    expect(themed.prompt.theme).toEqual({ ...theme, onAccent: '#111111' });
    // Only what the snippet reads: no other locale's texts, no stored legacy fields.
    expect(Object.keys(themed.prompt).sort()).toEqual(['delaySeconds', 'pageViews', 'snoozeDays', 'texts', 'theme', 'trigger']);
  });

  it('answers the same for a browser with the publishable key in the path, and is cacheable per locale', async () => {
    const site = await testSite(world.database.db);
    const response = await world.app.request(`/v1/sites/${site.publishableKey}/config?locale=de`, { headers: browserHeaders(site) });
    expect(response.status).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('public, max-age=300');
  });
});

describe('PATCH /v1/settings: the prompt', () => {
  it('merges one locale’s texts and one theme field, keeping the rest', async () => {
    const site = await testSite(world.database.db);
    await patchSettings(site.secretKey, { prompt: { texts: { fr: FR }, theme: { accent: '#0f766e' } } });
    const { status, body } = await patchSettings(site.secretKey, { prompt: { texts: { de: DE_AT }, theme: { radius: 4 } } });
    expect(status).toBe(200);
    expect(body.prompt.texts).toEqual({ fr: FR, de: DE_AT });
    expect(body.prompt.theme).toMatchObject({ accent: '#0f766e', radius: 4, position: 'bottom-right' });
  });

  it.each([
    ['a colour that is no hex', { theme: { accent: 'red' } }, 'prompt.theme.accent', /#rgb or #rrggbb/],
    ['a radius beyond 32 px', { theme: { radius: 40 } }, 'prompt.theme.radius', /32/],
    ['an http logo', { theme: { logoUrl: 'http://cdn.example/logo.png' } }, 'prompt.theme.logoUrl', /https/],
    ['a logo with a password', { theme: { logoUrl: 'https://user:secret@cdn.example/logo.png' } }, 'prompt.theme.logoUrl', /password/],
    ['an unknown position', { theme: { position: 'middle' } }, 'prompt.theme.position', /./],
    ['text that cannot be read on its background', { theme: { text: '#777', background: '#888888' } }, 'prompt.theme.text', /contrast of 1\.\d:1; at least 4\.5:1/],
    ['a title over 120 characters', { texts: { en: { ...FR, title: 'x'.repeat(121) } } }, 'prompt.texts.en.title', /120/],
    ['a locale without its "later" text', { texts: { en: { title: 'a', body: 'b', allow: 'c' } } }, 'prompt.texts.en.later', /./],
    ['no language tag as locale', { texts: { 'not a tag!': FR } }, 'prompt.texts.not a tag!', /BCP 47/],
    ['two spellings of one locale', { texts: { 'de-at': FR, 'de-AT': FR } }, 'prompt.texts', /repeats/],
  ])('refuses %s with 400 and says where', async (_label, prompt, path, message) => {
    const site = await testSite(world.database.db);
    const { status, body } = await patchSettings(site.secretKey, { prompt });
    expect(status).toBe(400);
    const details = body.error.details as Array<{ path: string; message: string }>;
    expect(details.some((detail) => detail.path.startsWith(path) && message.test(detail.message)), JSON.stringify(details)).toBe(true);
  });
});
