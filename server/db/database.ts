import type { ColumnType, Generated, Kysely } from 'kysely';

/** Hand-written table types, `Generated<>` and `T | null` as the columns are: what the migrations in migrations/ create. */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type SubscriptionStatus = 'active' | 'expired' | 'unsubscribed';

export interface SitesTable {
  id: Generated<string>;
  name: string;
  allowed_origins: string[];
  publishable_key: string;
  vapid_public_key: string;
  vapid_private_key: string;
  settings: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Timestamp;
  /** Served as the demo shop at /demo (the site `npm start` creates on an empty database). */
  demo: ColumnType<boolean, boolean | undefined, boolean>;
  /** The shop may still sign identify with a secret key's hash (the scheme before the master-key-derived secret). */
  legacy_identify: Generated<boolean>;
  /** When that ends; set at the first start with a master key. */
  legacy_identify_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface SecretKeysTable {
  id: Generated<string>;
  site_id: string;
  prefix: string;
  key_hash: string;
  created_at: Timestamp;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

export interface SubscriptionsTable {
  id: Generated<string>;
  site_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  vapid_public_key: string;
  visitor_id: string;
  external_user_id: string | null;
  locale: string | null;
  time_zone: string | null;
  user_agent_family: string | null;
  tags: ColumnType<Record<string, unknown>, string | undefined, string>;
  status: ColumnType<SubscriptionStatus, SubscriptionStatus | undefined, SubscriptionStatus>;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_seen_at: Timestamp;
  last_success_at: Timestamp | null;
}

export type NotificationKind = 'transactional' | 'marketing';
export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'expired' | 'suppressed' | 'held_out';

export interface NotificationsTable {
  id: Generated<string>;
  site_id: string;
  source: ColumnType<string, string | undefined, string>;
  kind: NotificationKind;
  content: ColumnType<NotificationContent, string, string>;
  audience: ColumnType<Record<string, unknown>, string, string>;
  audience_size: ColumnType<number, number | undefined, number>;
  ttl_seconds: number;
  urgency: ColumnType<string, string | undefined, string>;
  topic: string | null;
  created_at: Timestamp;
  trigger_key: string | null;
  priority: ColumnType<number, number | undefined, number>;
  localized: ColumnType<Record<string, LocalizedContent> | null, string | null | undefined, string | null>;
}

/** The text of a notification in one locale; the rest of its content is shared. */
export interface LocalizedContent {
  title: string;
  body: string;
  actions?: Array<{ action: string; title: string; url?: string }>;
}

/** What every delivery of a notification shows (the push payload less its per-delivery parts: id and report). */
export interface NotificationContent {
  title: string;
  body: string;
  url: string;
  icon?: string;
  image?: string;
  badge?: string;
  actions?: Array<{ action: string; title: string; url?: string }>;
  requireInteraction?: boolean;
  tag: string;
}

export interface DeliveriesTable {
  id: Generated<string>;
  notification_id: string;
  /** Null once the subscriber was erased (GDPR art. 17): the row stays only as an anonymous count. */
  subscription_id: string | null;
  endpoint: string;
  report_token: string;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  due_at: Timestamp;
  leased_by: string | null;
  last_status: number | null;
  last_error: string | null;
  sent_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  priority: ColumnType<number, number | undefined, number>;
}

export interface IdempotencyKeysTable {
  site_id: string;
  key: string;
  request_hash: string;
  response_status: number;
  response_body: ColumnType<unknown, string, string>;
  created_at: Timestamp;
}

export type InteractionType = 'shown' | 'clicked' | 'dismissed';

export interface InteractionsTable {
  id: Generated<string>;
  delivery_id: string;
  notification_id: string;
  type: InteractionType;
  action: string | null;
  created_at: Timestamp;
}

export interface EventsTable {
  id: Generated<string>;
  site_id: string;
  source: 'browser' | 'server';
  type: string;
  visitor_id: string | null;
  external_user_id: string | null;
  properties: ColumnType<Record<string, unknown>, string, string>;
  client_event_id: string | null;
  created_at: Timestamp;
}

export interface WatchesTable {
  id: Generated<string>;
  site_id: string;
  visitor_id: string;
  product_id: string;
  kind: 'price_drop' | 'back_in_stock';
  price: ColumnType<string | null, number | null, number | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

type Numeric = ColumnType<string, number | string, number | string>;

export interface ProductsTable {
  site_id: string;
  product_id: string;
  name: string;
  url: string | null;
  image: string | null;
  price: ColumnType<string | null, number | string | null, number | string | null>;
  currency: string | null;
  in_stock: ColumnType<boolean, boolean | undefined, boolean>;
  price_source: 'feed' | 'browser';
  pending_price: ColumnType<string | null, number | string | null | undefined, number | string | null>;
  pending_price_shopper: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ProductInterestTable {
  site_id: string;
  product_id: string;
  shopper: string;
  price: Numeric;
  via: 'viewed' | 'carted' | 'watched';
  seen_at: Timestamp;
}

export interface PriceAlertsTable {
  site_id: string;
  product_id: string;
  shopper: string;
  price: Numeric;
  notified_at: Timestamp;
}

export type CartStatus = 'open' | 'empty' | 'ordered';

export interface CartItem {
  productId: string;
  name: string;
  price: number;
  quantity: number;
  image?: string;
  url?: string;
}

export interface CartsTable {
  site_id: string;
  cart_id: string;
  visitor_id: string | null;
  external_user_id: string | null;
  items: ColumnType<CartItem[], string, string>;
  item_count: number;
  total: Numeric;
  currency: string;
  url: string;
  status: CartStatus;
  reminders_sent: ColumnType<number, number | undefined, number>;
  active_at: Timestamp;
  next_reminder_at: Timestamp | null;
  created_at: Timestamp;
}

export interface ConversionsTable {
  id: Generated<string>;
  site_id: string;
  order_id: string;
  notification_id: string;
  delivery_id: string;
  value: Numeric;
  currency: string;
  source: 'browser' | 'server';
  created_at: Timestamp;
}

export interface Database {
  sites: SitesTable;
  secret_keys: SecretKeysTable;
  subscriptions: SubscriptionsTable;
  notifications: NotificationsTable;
  deliveries: DeliveriesTable;
  idempotency_keys: IdempotencyKeysTable;
  interactions: InteractionsTable;
  events: EventsTable;
  watches: WatchesTable;
  products: ProductsTable;
  product_interest: ProductInterestTable;
  price_alerts: PriceAlertsTable;
  carts: CartsTable;
  conversions: ConversionsTable;
}

export type Db = Kysely<Database>;

// Dashboard accounts (migrations/2026-11-29T0200-accounts.ts). Added to `Database` by interface
// merging, so these tables sit in one block below the others.

export type Role = 'owner' | 'editor' | 'viewer';

export interface UsersTable {
  id: Generated<string>;
  /** Normalised (trimmed, lower case): unique case-insensitively. */
  email: string;
  name: string | null;
  /** The self-describing encoded hash (server/accounts/password.ts); null until a password is set. */
  password_hash: string | null;
  password_changed_at: Timestamp | null;
  last_sign_in_at: Timestamp | null;
  created_at: ColumnType<Date, Date, Date>;
}

export interface MembershipsTable {
  user_id: string;
  site_id: string;
  role: Role;
  created_at: ColumnType<Date, Date, Date>;
}

export interface SessionsTable {
  id: Generated<string>;
  /** SHA-256 (hex) of the token the cookie carries. */
  token_hash: string;
  user_id: string;
  created_at: ColumnType<Date, Date, Date>;
  last_seen_at: ColumnType<Date, Date, Date>;
  user_agent: string | null;
}

export interface InvitesTable {
  id: Generated<string>;
  token_hash: string;
  site_id: string;
  email: string;
  role: Role;
  created_by: string | null;
  created_at: ColumnType<Date, Date, Date>;
  expires_at: ColumnType<Date, Date, Date>;
  used_at: Timestamp | null;
  used_by: string | null;
  revoked_at: Timestamp | null;
}

export type PasswordLinkPurpose = 'set' | 'reset';

export interface PasswordLinksTable {
  id: Generated<string>;
  token_hash: string;
  user_id: string;
  purpose: PasswordLinkPurpose;
  created_by: string | null;
  created_at: ColumnType<Date, Date, Date>;
  expires_at: ColumnType<Date, Date, Date>;
  used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface Database {
  users: UsersTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  invites: InvitesTable;
  password_links: PasswordLinksTable;
}

// The soft prompt's funnel counters (migrations/2026-11-29T0320-prompt-funnel.ts, per 15-minute
// period since 2026-11-29T0390-prompt-funnel-buckets.ts).

export interface PromptFunnelBucketsTable {
  site_id: string;
  /** The period's start, on a 15-minute boundary of UTC. */
  bucket: Date;
  step: string;
  shard: number;
  count: number;
}

export interface Database {
  prompt_funnel_buckets: PromptFunnelBucketsTable;
}

// The installation check's record of requests per origin (migrations/2026-11-29T0350-origins-seen.ts).

export interface OriginsSeenTable {
  site_id: string;
  origin: string;
  config_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  subscription_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  refused_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  refused_request: ColumnType<'config' | 'subscription' | null, 'config' | 'subscription' | null | undefined, 'config' | 'subscription' | null>;
  refused_code: string | null;
  refused_detail: string | null;
}

export interface Database {
  origins_seen: OriginsSeenTable;
}

// Who changed what (migrations/2026-11-29T0340-audit-log.ts), and the secret keys' names it added.

/** `cli`: the command line (`pushcart key …`, `pushcart user create`), run by the operator. */
export type AuditActorKind = 'user' | 'secret_key' | 'admin_token' | 'cli';

export interface AuditLogTable {
  id: ColumnType<string, never, never>;
  site_id: string;
  at: ColumnType<Date, Date, Date>;
  actor_kind: AuditActorKind;
  /** The user's or the key's id; null for the admin token and the command line. */
  actor_id: string | null;
  actor_label: string;
  action: string;
  target: string | null;
  details: ColumnType<Record<string, unknown>, string, string>;
}

export interface SecretKeysTable {
  /** What the owner called the key when making it; null for keys made without one. */
  name: string | null;
}

export interface Database {
  audit_log: AuditLogTable;
}

// Dashboard users' own browsers for test pushes (migrations/2026-11-29T0380-test-devices.ts).

export interface TestDevicesTable {
  id: Generated<string>;
  site_id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  vapid_public_key: string;
  user_agent: string | null;
  created_at: ColumnType<Date, Date, Date>;
  last_sent_at: Timestamp | null;
  /** What the push service answered the last test push, in words (e.g. `accepted (201)`). */
  last_outcome: string | null;
}

export interface Database {
  test_devices: TestDevicesTable;
}

// Audiences written in chunks by the workers (migrations/2026-11-29T0400-chunked-audiences.ts).

export type ResolveState = 'resolving' | 'done' | 'cancelled';

export interface NotificationsTable {
  resolve_state: ColumnType<ResolveState, ResolveState | undefined, ResolveState>;
  /** The last subscription id the keyset walk looked at; null before the first chunk. */
  resolve_cursor: string | null;
  /** Subscriptions looked at so far, matching the audience or not. */
  scanned_count: ColumnType<number, number | undefined, number>;
  holdout_percent: ColumnType<number, number | undefined, number>;
  cancelled_at: Timestamp | null;
}

// Campaigns (migrations/2026-11-29T0510-campaigns.ts).

export type CampaignStatus = 'draft' | 'scheduled' | 'sending' | 'sent' | 'cancelled';

export interface CampaignsTable {
  id: Generated<string>;
  site_id: string;
  name: string;
  status: ColumnType<CampaignStatus, CampaignStatus | undefined, CampaignStatus>;
  /** What the owner composed (server/campaigns/campaign-input.ts), validated on the way in. */
  definition: ColumnType<Record<string, unknown>, string, string>;
  start_at: Timestamp | null;
  started_at: Timestamp | null;
  ends_at: Timestamp | null;
  decide_at: Timestamp | null;
  decision: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  sent_at: Timestamp | null;
  cancelled_at: Timestamp | null;
  failure: string | null;
  created_at: ColumnType<Date, Date, Date>;
  updated_at: ColumnType<Date, Date, Date | string>;
}

export interface Database {
  campaigns: CampaignsTable;
}

export interface NotificationsTable {
  /** The campaign this send belongs to, and which of its variants (`A`…`D`, `winner`), if any. */
  campaign_id: ColumnType<string | null, string | null | undefined, string | null>;
  variant: ColumnType<string | null, string | null | undefined, string | null>;
  /** After this nothing more of it goes (a campaign's end): suppressed as `campaign_ended`. */
  ends_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

// Saved audiences by rules (migrations/2026-11-29T0500-segments.ts; server/segments/segment-rules.ts).

export interface SegmentsTable {
  id: Generated<string>;
  site_id: string;
  /** Unique per site, case-insensitively. */
  name: string;
  /** A SegmentDefinition, as validated when it was written. */
  definition: ColumnType<unknown, string, string>;
  created_at: ColumnType<Date, Date, Date>;
  updated_at: ColumnType<Date, Date, Date>;
}

export interface Database {
  segments: SegmentsTable;
}

// Order updates and rating requests (migrations/2026-11-29T0612-order-updates.ts).

/** One order update (site, order, type) that fired: a repeat of it sends nothing. */
export interface OrderUpdatesTable {
  site_id: string;
  order_id: string;
  type: string;
  notification_id: string | null;
  created_at: ColumnType<Date, Date, Date>;
}

export type RatingRequestState = 'scheduled' | 'sent' | 'cancelled' | 'skipped';

/** At most one rating request per order; `due_at` set while it waits. */
export interface RatingRequestsTable {
  site_id: string;
  order_id: string;
  visitor_id: string | null;
  external_user_id: string | null;
  delivered_at: ColumnType<Date | null, Date | null, Date | null>;
  due_at: ColumnType<Date | null, Date | null, Date | null>;
  state: RatingRequestState;
  notification_id: string | null;
  updated_at: ColumnType<Date, Date, Date>;
}

export interface Database {
  order_updates: OrderUpdatesTable;
  rating_requests: RatingRequestsTable;
}

// Price history and low stock (migrations/2026-11-29T0620-price-history-low-stock.ts).

export interface ProductsTable {
  /** Units left as the shop's feed last sent them; null while it never sent any. */
  stock: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface ProductPricesTable {
  id: Generated<string>;
  site_id: string;
  product_id: string;
  price: Numeric;
  currency: string | null;
  /** When the price became this one. */
  changed_at: Timestamp;
}

export interface LowStockAlertsTable {
  site_id: string;
  product_id: string;
  shopper: string;
  notified_at: Timestamp;
}

export interface Database {
  product_prices: ProductPricesTable;
  low_stock_alerts: LowStockAlertsTable;
}

// The engagement budget and best-hour sends (migrations/2026-11-29T0630-engagement-budget-best-hour.ts).

export interface SubscriptionsTable {
  /** The shopper's last click on any push (kept by a trigger on interactions); null: never clicked. */
  last_clicked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

// What segments read of a shopper's behaviour (migrations/2026-11-29T0700-shopper-activity.ts),
// kept by triggers on events and subscriptions: never written by the app.
export interface SubscriptionsTable {
  last_viewed_at: ColumnType<Date | null, never, never>;
  /** The last cart_updated that held an item. */
  last_carted_at: ColumnType<Date | null, never, never>;
  last_checkout_at: ColumnType<Date | null, never, never>;
  last_ordered_at: ColumnType<Date | null, never, never>;
  /** Distinct order ids, and the sum of their values. */
  orders_count: ColumnType<number, never, never>;
  orders_value: ColumnType<string, never, never>;
}

export interface NotificationsTable {
  /** Each delivery goes at its shopper's best hour within 24 hours of the notification's time. */
  best_hour: ColumnType<boolean, boolean | undefined, boolean>;
}

// The welcome push and reactivation (migrations/2026-11-29T0645-welcome-reactivation.ts).

/** A new subscription's welcome: `due_at` set while it waits. */
export interface WelcomePushesTable {
  subscription_id: string;
  site_id: string;
  due_at: ColumnType<Date | null, Date | null, Date | null>;
  state: 'scheduled' | 'sent' | 'skipped';
  /** The first-order code it carried, if any. */
  code: string | null;
  notification_id: string | null;
  updated_at: ColumnType<Date, Date, Date>;
}

/** A single-use first-order code the shop uploaded; claimed once. */
export interface WelcomeCodesTable {
  site_id: string;
  code: string;
  created_at: ColumnType<Date, Date, never>;
  claimed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  subscription_id: string | null;
}

/** The last "we miss you" a subscription got. */
export interface ReactivationsTable {
  subscription_id: string;
  site_id: string;
  sent_at: ColumnType<Date, Date, Date>;
  notification_id: string | null;
}

/** When a site's subscribers are next looked through for reactivation. */
export interface ReactivationScansTable {
  site_id: string;
  next_scan_at: ColumnType<Date, Date, Date>;
}

export interface Database {
  reactivation_scans: ReactivationScansTable;
  welcome_pushes: WelcomePushesTable;
  welcome_codes: WelcomeCodesTable;
  reactivations: ReactivationsTable;
}

// Occasions: birthdays and dated occasions (migrations/2026-11-29T0660-occasions.ts).

export interface ShopperBirthdaysTable {
  site_id: string;
  external_user_id: string;
  /** 1–12 */
  month: number;
  /** 1–31; 29 February is celebrated on the 28th in other years. */
  day: number;
  updated_at: Timestamp;
}

export interface BirthdayPushesTable {
  site_id: string;
  external_user_id: string;
  /** The year in the shopper's zone whose birthday this was. */
  year: number;
  notification_id: string | null;
  sent_at: Timestamp;
}

export interface OccasionSendsTable {
  site_id: string;
  occasion_id: string;
  year: number;
  campaign_id: string | null;
  created_at: Timestamp;
}

export interface Database {
  shopper_birthdays: ShopperBirthdaysTable;
  birthday_pushes: BirthdayPushesTable;
  occasion_sends: OccasionSendsTable;
}
