import { describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../push/base64url.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

const position = { createdAtMicros: '1795946400123456', id: '0b5e0b7e-3c1a-4f8e-9d2b-5a6c7d8e9f00' };
const encode = (text: string) => encodeBase64Url(new TextEncoder().encode(text));

describe('the list cursor', () => {
  it('gives back the position it was made from, to the microsecond', () => {
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it('is refused when it is not one the API made', () => {
    for (const cursor of [
      '',
      'not a cursor',
      `${encodeCursor(position)}=`,
      encode('1795946400123456'),
      encode(`1795946400.5.${position.id}`),
      encode(`-1.${position.id}`),
      encode(`123456789012345678.${position.id}`),
      encode(`1795946400123456.${position.id.toUpperCase()}`),
      encode(`1795946400123456.${position.id}'--`),
      encodeBase64Url(new Uint8Array([0xff, 0xfe, 0x31])),
    ]) {
      expect(decodeCursor(cursor), cursor).toBeUndefined();
    }
  });
});
