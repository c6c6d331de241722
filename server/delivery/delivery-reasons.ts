/**
 * Why a delivery did not go (yet): the stable code that starts its `last_error`, as `code: detail`.
 * `GET /v1/notifications/{id}` groups a notification's deliveries by it (`problems`) and the
 * worker's failure log lines name it, so the code is part of the API; the detail after the colon is
 * for people and may change.
 */
export type DeliveryReason =
  /** Deferred until the subscriber's quiet hours end (queued), or suppressed when its TTL would run out first. */
  | 'quiet_hours'
  /** Over the marketing frequency cap (suppressed), or waiting for pushes in flight elsewhere (queued). */
  | 'frequency_cap'
  /** Over the subscriber's engagement budget: too many marketing pushes ignored in a row (suppressed), or waiting for pushes in flight elsewhere (queued). */
  | 'engagement_budget'
  /** A best-hour push waiting for its shopper's best hour of the day (queued). */
  | 'best_hour'
  /** A cart reminder whose cart was bought or emptied meanwhile (suppressed). */
  | 'cart_ordered'
  /** A welcome whose shopper ordered after it was queued (suppressed): it would offer a first-order code too late. */
  | 'already_ordered'
  /** The subscriber opted out or the subscription expired after the push was queued (suppressed). */
  | 'subscription_inactive'
  /** The notification's TTL ran out before it could be sent (suppressed). */
  | 'ttl_elapsed'
  /**
   * The sender cancelled the notification before this delivery went (suppressed); also a rating
   * request whose order was cancelled or refunded before its push went (triggers/order-updates.ts).
   */
  | 'cancelled'
  /** The campaign's end passed before this delivery went (suppressed). */
  | 'campaign_ended'
  /** The endpoint's host is not an allowed push service (failed). */
  | 'endpoint_not_allowed'
  /** The request could not be built: a subscription key that is not a P-256 point (failed). */
  | 'build_failed'
  /** The site's VAPID private key cannot be opened: no or the wrong PUSHCART_MASTER_KEY (queued, no attempt spent, until it is fixed). */
  | 'vapid_key_unavailable'
  /** The encryption threads were unavailable (queued for a retry). */
  | 'encryption_unavailable'
  /** The push service asked its whole host to slow down (429/503), or the host is paused (queued, no attempt spent). */
  | 'push_host_backoff'
  /** A 5xx, a timeout or a network error (queued for a retry with backoff). */
  | 'push_error'
  /** The push service refused the request for good: 400, 401, 403, a redirect (failed). */
  | 'push_rejected'
  /** The push service refused the message as too large, 413 (failed). */
  | 'payload_too_large'
  /** Retried until the attempts ran out; the detail carries the last error (failed: the dead letter). */
  | 'failed_after_attempts'
  /** The push service answered 404/410: the subscription is gone (expired). */
  | 'subscription_gone';

/** Room for a message from a network stack or a key parser, but not an unbounded one, in every row. */
const MAX_REASON_LENGTH = 500;

/** `code: detail`, cut to a bounded length. */
export function reasonText(reason: DeliveryReason, detail: string): string {
  return `${reason}: ${detail}`.slice(0, MAX_REASON_LENGTH);
}

/** A `last_error` code is lowercase letters, digits and underscores before the first colon. */
const REASON_CODE = /^([a-z][a-z0-9_]*):/;

/** The code of a stored `last_error`; `other` for text without one (written before codes existed). */
export function reasonOf(lastError: string | null): string {
  return (lastError && REASON_CODE.exec(lastError)?.[1]) || 'other';
}
