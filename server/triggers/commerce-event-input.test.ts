import { describe, expect, it } from 'vitest';
import { KNOWN_EVENT_TYPES, knownEventSchema } from './commerce-event-input.ts';

describe('a known event', () => {
  it('parses by its type, keeping the fields a shop adds', () => {
    const parsed = knownEventSchema.parse({
      type: 'order_completed',
      properties: { orderId: 'o-1', value: 0.1 + 0.2, currency: 'EUR', coupon: 'SPRING' },
    });
    expect(parsed).toEqual({ type: 'order_completed', properties: { orderId: 'o-1', value: 0.3, currency: 'EUR', coupon: 'SPRING' } });
  });

  it('is refused with the issue under properties when a field its type needs is wrong', () => {
    const result = knownEventSchema.safeParse({ type: 'product_viewed', properties: { productId: 'p-1', price: -1, currency: 'EUR', url: 'https://shop.example/p/1' } });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((issue) => issue.path.join('.'))).toEqual(['properties.price']);
  });

  it('refuses a NUL in a field the shop added, as free-form JSON is refused', () => {
    const result = knownEventSchema.safeParse({ type: 'checkout_started', properties: { note: 'a\u0000b' } });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toMatch(/NUL/);
  });

  it('is one of the four types the triggers read', () => {
    expect([...KNOWN_EVENT_TYPES].sort()).toEqual(['cart_updated', 'checkout_started', 'order_completed', 'product_viewed']);
    expect(knownEventSchema.safeParse({ type: 'wishlist_added', properties: {} }).success).toBe(false);
  });
});
