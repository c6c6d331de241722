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

  it('is one of the types the triggers read: the four of the purchase and the five order updates', () => {
    expect([...KNOWN_EVENT_TYPES].sort()).toEqual([
      'cart_updated',
      'checkout_started',
      'order_cancelled',
      'order_completed',
      'order_delivered',
      'order_ready_for_pickup',
      'order_shipped',
      'product_viewed',
      'refund_issued',
    ]);
    expect(knownEventSchema.safeParse({ type: 'wishlist_added', properties: {} }).success).toBe(false);
  });
});

describe('an order update', () => {
  it('needs the order id, keeps the tracking URL and carrier, and refuses a tracking URL that is not http(s)', () => {
    expect(knownEventSchema.parse({ type: 'order_shipped', properties: { orderId: 'o-1', trackingUrl: 'https://www.dhl.de/t?id=1', carrier: 'DHL', itemCount: 2 } })).toEqual({
      type: 'order_shipped',
      properties: { orderId: 'o-1', trackingUrl: 'https://www.dhl.de/t?id=1', carrier: 'DHL', itemCount: 2 },
    });
    expect(knownEventSchema.safeParse({ type: 'order_delivered', properties: {} }).error!.issues.map((issue) => issue.path.join('.'))).toEqual(['properties.orderId']);
    expect(knownEventSchema.safeParse({ type: 'order_shipped', properties: { orderId: 'o-1', trackingUrl: 'javascript:alert(1)' } }).success).toBe(false);
    expect(knownEventSchema.safeParse({ type: 'refund_issued', properties: { orderId: 'o-1', amount: -5, currency: 'EUR' } }).success).toBe(false);
  });
});
