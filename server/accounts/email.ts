/**
 * Account emails, normalised once so that `Owner@Shop.Example ` and `owner@shop.example` are one
 * account. The local part is case-sensitive in principle (RFC 5321 §2.4) but no mail system in use
 * treats it so, and two accounts differing only in case would be a trap.
 */

/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets, so an address at most 254. */
export const MAX_EMAIL_LENGTH = 254;

/** One `@`, something on each side, a dot in the domain, no spaces or control characters. */
const EMAIL_SHAPE = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u;

/** The stored form of an email address, or undefined when it is not one. */
export function normalizeEmail(input: string): string | undefined {
  const email = input.trim().normalize('NFC').toLowerCase();
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL_SHAPE.test(email)) return undefined;
  return email;
}
