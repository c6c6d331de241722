import { sql, type Kysely } from 'kysely';

// Frozen: commerce triggers (issue 5) — the catalogue, carts, who saw which product at what price,
// price alerts already sent, conversions; priorities, per-locale content and holdouts on the outbox.

export async function up(db: Kysely<any>): Promise<void> {
  // Which trigger made a notification and for what (a cart id, a product id): the delivery worker
  // re-checks that thing at send time, e.g. a cart bought meanwhile means no reminder.
  await db.schema.alterTable('notifications').addColumn('trigger_key', 'text').execute();
  await db.schema.alterTable('notifications').addColumn('priority', 'smallint', (col) => col.notNull().defaultTo(10)).execute();
  // Content rendered per locale ({ "de": {title, body, actions?}, … }); `content` is the fallback.
  await db.schema.alterTable('notifications').addColumn('localized', 'jsonb').execute();

  // Copied from the notification so the claim can order what waits for one subscriber by importance.
  await db.schema.alterTable('deliveries').addColumn('priority', 'smallint', (col) => col.notNull().defaultTo(10)).execute();
  // held_out: deliberately not sent (a holdout group), so the stats can show the lift pushes cause.
  await sql`alter table deliveries drop constraint deliveries_status_check`.execute(db);
  await sql`alter table deliveries add constraint deliveries_status_check
    check (status in ('queued', 'sending', 'sent', 'failed', 'expired', 'suppressed', 'held_out'))`.execute(db);
  // Frequency caps count a subscriber's recent sends.
  await db.schema
    .createIndex('deliveries_subscription_sent_idx')
    .on('deliveries')
    .columns(['subscription_id', 'sent_at'])
    .where(sql.ref('sent_at'), 'is not', null)
    .execute();

  await db.schema
    .createTable('products')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('product_id', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('url', 'text')
    .addColumn('image', 'text')
    .addColumn('price', 'numeric')
    .addColumn('currency', 'text')
    .addColumn('in_stock', 'boolean', (col) => col.notNull().defaultTo(true))
    // 'feed': set by the shop's backend (authoritative); 'browser': learned from product_viewed.
    .addColumn('price_source', 'text', (col) => col.notNull().check(sql`price_source in ('feed', 'browser')`))
    // A browser-reported price change waits here until a second visitor reports the same price:
    // one visitor alone cannot make a price drop that pushes to everyone else.
    .addColumn('pending_price', 'numeric')
    .addColumn('pending_price_shopper', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('products_pkey', ['site_id', 'product_id'])
    .execute();

  // The last price each shopper saw a product at (viewed, carted or watched). A shopper is
  // 'v:<visitor id>' or 'u:<external user id>', the two ways subscriptions are found.
  await db.schema
    .createTable('product_interest')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('product_id', 'text', (col) => col.notNull())
    .addColumn('shopper', 'text', (col) => col.notNull())
    .addColumn('price', 'numeric', (col) => col.notNull())
    .addColumn('via', 'text', (col) => col.notNull().check(sql`via in ('viewed', 'carted', 'watched')`))
    .addColumn('seen_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('product_interest_pkey', ['site_id', 'product_id', 'shopper'])
    .execute();

  // One price-drop push per product × shopper per drop: a later drop notifies again only when the
  // price falls below the one last announced, or after the re-notify window.
  await db.schema
    .createTable('price_alerts')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('product_id', 'text', (col) => col.notNull())
    .addColumn('shopper', 'text', (col) => col.notNull())
    .addColumn('price', 'numeric', (col) => col.notNull())
    .addColumn('notified_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('price_alerts_pkey', ['site_id', 'product_id', 'shopper'])
    .execute();

  await db.schema
    .createTable('carts')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('cart_id', 'text', (col) => col.notNull())
    .addColumn('visitor_id', 'text')
    .addColumn('external_user_id', 'text')
    .addColumn('items', 'jsonb', (col) => col.notNull())
    .addColumn('item_count', 'integer', (col) => col.notNull())
    .addColumn('total', 'numeric', (col) => col.notNull())
    .addColumn('currency', 'text', (col) => col.notNull())
    .addColumn('url', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('open', 'empty', 'ordered')`))
    // Reminder steps already fired: a step fires when this moves from step − 1 to step, in the same
    // transaction as its notification, so each step fires once whatever the number of workers.
    .addColumn('reminders_sent', 'integer', (col) => col.notNull().defaultTo(0))
    // The shopper's last activity on the cart: reminder delays count from here.
    .addColumn('active_at', 'timestamptz', (col) => col.notNull())
    // When the next step is due (null: none left); the scan reads only carts whose time has come.
    .addColumn('next_reminder_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('carts_pkey', ['site_id', 'cart_id'])
    .execute();
  await db.schema
    .createIndex('carts_next_reminder_idx')
    .on('carts')
    .column('next_reminder_at')
    .where(sql.ref('status'), '=', 'open')
    .execute();
  await db.schema.createIndex('carts_site_visitor_idx').on('carts').columns(['site_id', 'visitor_id']).execute();
  await db.schema.createIndex('carts_site_external_user_idx').on('carts').columns(['site_id', 'external_user_id']).execute();

  // A click followed by an order from the same subscriber within the window: revenue on a notification.
  await db.schema
    .createTable('conversions')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('order_id', 'text', (col) => col.notNull())
    .addColumn('notification_id', 'uuid', (col) => col.notNull().references('notifications.id').onDelete('cascade'))
    .addColumn('delivery_id', 'bigint', (col) => col.notNull().references('deliveries.id').onDelete('cascade'))
    .addColumn('value', 'numeric', (col) => col.notNull())
    .addColumn('currency', 'text', (col) => col.notNull())
    // Who reported the order: the shop's backend ('server') is authoritative over a browser.
    .addColumn('source', 'text', (col) => col.notNull().check(sql`source in ('browser', 'server')`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    // An order converts once, however often it is reported.
    .addUniqueConstraint('conversions_site_order_key', ['site_id', 'order_id'])
    .execute();
  await db.schema.createIndex('conversions_notification_idx').on('conversions').column('notification_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('conversions').execute();
  await db.schema.dropTable('carts').execute();
  await db.schema.dropTable('price_alerts').execute();
  await db.schema.dropTable('product_interest').execute();
  await db.schema.dropTable('products').execute();
  await db.schema.dropIndex('deliveries_subscription_sent_idx').execute();
  await sql`alter table deliveries drop constraint deliveries_status_check`.execute(db);
  await sql`alter table deliveries add constraint deliveries_status_check
    check (status in ('queued', 'sending', 'sent', 'failed', 'expired', 'suppressed'))`.execute(db);
  await db.schema.alterTable('deliveries').dropColumn('priority').execute();
  await db.schema.alterTable('notifications').dropColumn('localized').execute();
  await db.schema.alterTable('notifications').dropColumn('priority').execute();
  await db.schema.alterTable('notifications').dropColumn('trigger_key').execute();
}
