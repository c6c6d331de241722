import { sql, type Kysely } from 'kysely';

// Frozen: campaigns, the shop's own sends, composed in the dashboard or the API and sent now, at
// an instant, or at a wall-clock time in each subscriber's own zone, optionally as an A/B test.
//
// A campaign is a definition (`definition`: content, texts per locale, audience, schedule, A/B
// set-up — validated by the application, kept whole as the owner last saved it) and a state. Each
// send it makes is an ordinary notification (one per A/B variant, and one for the winner) that
// names its campaign and variant, so delivery, caps, quiet hours, cancel and every figure work as
// for any push.
//
// - `status`: draft → scheduled → sending → sent, or cancelled from any but sent.
// - `start_at`: when a scheduled campaign starts (for a local-time send, when the earliest zone's
//   wave is due); the background round starts what is due (campaigns_due_idx).
// - `decide_at` / `decision`: an A/B test's decision time and what was decided (winner, reason).
// - `failure`: why a scheduled campaign could not start (its segment was deleted, its text no longer
//   fits), in words; it is then cancelled rather than tried again every round.
// - `ends_at`: after it nothing more of the campaign goes (also stored on its notifications, where
//   the delivery engine reads it).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table campaigns (
    id uuid primary key default gen_random_uuid(),
    site_id uuid not null references sites (id) on delete cascade,
    name text not null,
    status text not null default 'draft' check (status in ('draft', 'scheduled', 'sending', 'sent', 'cancelled')),
    definition jsonb not null,
    start_at timestamptz,
    started_at timestamptz,
    ends_at timestamptz,
    decide_at timestamptz,
    decision jsonb,
    sent_at timestamptz,
    cancelled_at timestamptz,
    failure text,
    created_at timestamptz not null,
    updated_at timestamptz not null
  )`.execute(db);
  await sql`create index campaigns_site_created_idx on campaigns (site_id, created_at desc)`.execute(db);
  await sql`create index campaigns_due_idx on campaigns (start_at) where status = 'scheduled'`.execute(db);
  await sql`create index campaigns_decision_idx on campaigns (decide_at) where status = 'sending' and decision is null`.execute(db);
  await sql`create index campaigns_sending_idx on campaigns (site_id) where status = 'sending'`.execute(db);
  await sql`alter table notifications
    add column campaign_id uuid references campaigns (id) on delete set null,
    add column variant text,
    add column ends_at timestamptz`.execute(db);
  await sql`create index notifications_campaign_idx on notifications (campaign_id) where campaign_id is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('notifications_campaign_idx').execute();
  await sql`alter table notifications drop column campaign_id, drop column variant, drop column ends_at`.execute(db);
  await db.schema.dropTable('campaigns').execute();
}
