import { describe, expect, it } from 'vitest';
import { messageTemplateSchema, PLACEHOLDERS, TEMPLATE_KEYS, templatesSchema, type MessageTemplate } from './template-settings.ts';

function template(title: string, body = ''): MessageTemplate {
  return { title, body };
}

function issueMessages(result: { success: boolean; error?: { issues: Array<{ message: string; path: PropertyKey[] }> } }): string[] {
  expect(result.success).toBe(false);
  return (result.error?.issues ?? []).map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`);
}

describe('templatesSchema', () => {
  it('refuses an unknown placeholder, naming it and the known ones', () => {
    const messages = issueMessages(
      templatesSchema.safeParse({ price_drop: { en: template('{{product.nmae}} is now {{price.new}}') } }),
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('price_drop.en.title: unknown placeholder {{product.nmae}}; known: {{product.name}}');
    for (const name of PLACEHOLDERS) expect(messages[0]).toContain(`{{${name}}}`);
  });

  it('refuses placeholders with spaces or in action titles as unknown', () => {
    const messages = issueMessages(
      messageTemplateSchema.safeParse({
        title: '{{ product.name }}',
        body: '',
        actions: [{ action: 'open', title: 'Use {{code}}' }],
      }),
    );
    expect(messages).toEqual([
      expect.stringContaining('title: unknown placeholder {{ product.name }};'),
      expect.stringContaining('actions.0.title: unknown placeholder {{code}};'),
    ]);
  });

  it('refuses an invalid locale with a clear message', () => {
    const messages = issueMessages(templatesSchema.safeParse({ price_drop: { de_AT: template('x') } }));
    expect(messages).toEqual(['price_drop.de_AT: invalid locale "de_AT": must be a BCP 47 language tag such as "de" or "de-AT"']);
  });

  it('stores locales canonically and refuses two spellings of one locale', () => {
    expect(Object.keys(templatesSchema.parse({ price_drop: { 'de-at': template('x') } }).price_drop ?? {})).toEqual(['de-AT']);
    const messages = issueMessages(templatesSchema.safeParse({ price_drop: { 'de-at': template('x'), 'de-AT': template('y') } }));
    expect(messages).toEqual(['price_drop.de-AT: locale "de-AT" repeats "de-at"']);
  });

  it('refuses an unknown template key, listing the known ones', () => {
    const messages = issueMessages(templatesSchema.safeParse({ price_dorp: { en: template('x') } }));
    expect(messages).toEqual([`price_dorp: unknown template key "price_dorp"; known: ${TEMPLATE_KEYS.join(', ')}`]);
  });

  it('refuses control characters, line breaks in titles, more than two actions and unknown fields', () => {
    const base = { title: 'x', body: 'fine\nline' };
    expect(messageTemplateSchema.safeParse(base).success).toBe(true);
    expect(messageTemplateSchema.safeParse({ ...base, title: 'a\nb' }).success).toBe(false);
    expect(messageTemplateSchema.safeParse({ ...base, body: 'a\u0000b' }).success).toBe(false);
    expect(messageTemplateSchema.safeParse({ ...base, body: 'a\ud800b' }).success).toBe(false);
    const action = { action: 'open', title: 'Open' };
    expect(messageTemplateSchema.safeParse({ ...base, actions: [action, action, action] }).success).toBe(false);
    expect(messageTemplateSchema.safeParse({ ...base, actions: [{ action: 'no spaces', title: 'x' }] }).success).toBe(false);
    expect(messageTemplateSchema.safeParse({ ...base, icon: 'x' }).success).toBe(false);
  });
});
