import { describe, expect, it } from 'vitest';
import { MAX_EMAIL_LENGTH, normalizeEmail } from './email.ts';

describe('account emails', () => {
  it('are one account whatever their case or surrounding spaces', () => {
    expect(normalizeEmail('  Owner@Shop.Example ')).toBe('owner@shop.example');
    expect(normalizeEmail('OWNER@SHOP.EXAMPLE')).toBe(normalizeEmail('owner@shop.example'));
  });

  it('compose accented letters, so two spellings of one address are one account', () => {
    expect(normalizeEmail('Ren\u0065\u0301@shop.example')).toBe(normalizeEmail('REN\u00c9@shop.example'));
  });

  it.each(['', 'owner', 'owner@', '@shop.example', 'owner@shop', 'own er@shop.example', 'a@b@shop.example', 'owner@shop.example\n'.replace('\n', '\u0000')])(
    'refuse %j',
    (input) => {
      expect(normalizeEmail(input)).toBeUndefined();
    },
  );

  it(`refuse addresses over ${MAX_EMAIL_LENGTH} characters`, () => {
    const domain = '@shop.example';
    expect(normalizeEmail('a'.repeat(MAX_EMAIL_LENGTH - domain.length) + domain)).toBeDefined();
    expect(normalizeEmail('a'.repeat(MAX_EMAIL_LENGTH - domain.length + 1) + domain)).toBeUndefined();
  });
});
