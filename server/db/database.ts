import type { ColumnType, Generated, Kysely } from 'kysely';

/** Hand-written table types (DESIGN §6.5): what the migrations in migrations/ create. */

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

export interface Database {
  sites: SitesTable;
  secret_keys: SecretKeysTable;
  subscriptions: SubscriptionsTable;
}

export type Db = Kysely<Database>;
