import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../audit/audit-log.ts';
import { findSiteById } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { readSiteSettings, siteSettingsSchema } from '../sites/site-settings.ts';
import { testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { removePromptLocale } from './change-settings.ts';

const NOW = new Date(Date.UTC(2030, 0, 15, 9, 0, 0));
const TEXTS = { title: 'Titre', body: 'Texte', allow: 'Oui', later: 'Plus tard' };

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

async function siteWithTexts(defaultLocale: string) {
  const site = await testSite(database.db);
  const settings = siteSettingsSchema.parse({ defaultLocale, prompt: { texts: { en: TEXTS, fr: TEXTS, 'de-AT': TEXTS } } });
  await database.db.updateTable('sites').set({ settings: JSON.stringify(settings) as never }).where('id', '=', site.id).execute();
  return (await findSiteById(database.db, site.id))!;
}

const auditRows = (siteId: string) => database.db.selectFrom('audit_log').select(['action', 'details']).where('site_id', '=', siteId).execute();

describe('removePromptLocale', () => {
  it('removes one locale’s texts, keeps the rest, and records the change with it', async () => {
    const site = await siteWithTexts('en');
    const after = await removePromptLocale(database.db, site, 'de-AT', { actor: CLI_ACTOR, now: NOW });
    expect(Object.keys(after.prompt.texts).sort()).toEqual(['en', 'fr']);
    expect(Object.keys(readSiteSettings((await findSiteById(database.db, site.id))!.settings).prompt.texts).sort()).toEqual(['en', 'fr']);
    expect(await auditRows(site.id)).toEqual([{ action: 'settings_changed', details: { sections: ['prompt'] } }]);
  });

  it('refuses the default locale’s texts and a locale without texts, changing and recording nothing', async () => {
    const site = await siteWithTexts('fr');
    const refusal = (locale: string) => removePromptLocale(database.db, site, locale, { actor: CLI_ACTOR, now: NOW }).then(() => undefined, (error: unknown) => error);
    const byDefault = await refusal('fr');
    expect(byDefault).toBeInstanceOf(ApiError);
    expect(byDefault).toMatchObject({ code: 'validation_failed' });
    expect((byDefault as ApiError).message).toContain('prompt.texts.fr');
    expect(await refusal('it')).toMatchObject({ code: 'not_found' });
    expect(Object.keys(readSiteSettings((await findSiteById(database.db, site.id))!.settings).prompt.texts).sort()).toEqual(['de-AT', 'en', 'fr']);
    expect(await auditRows(site.id)).toEqual([]);
  });
});
