import type { Selectable } from 'kysely';
import type { Db, TestDevicesTable } from './database.ts';

export type TestDeviceRow = Selectable<TestDevicesTable>;

/**
 * Browsers one person keeps for a shop's test pushes. Enough for a laptop, a phone and a few
 * browsers to compare; a bound so a script that subscribes in a loop cannot grow the table.
 */
export const MAX_TEST_DEVICES_PER_MEMBER = 10;

export interface NewTestDevice {
  siteId: string;
  userId: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  vapidPublicKey: string;
  userAgent: string | null;
  at: Date;
}

/**
 * Keeps a browser's subscription for the member's test pushes: the same endpoint again (the page
 * asked twice, or the browser renewed its keys) updates the row. `too_many` when the member already
 * has the maximum and this endpoint is new; nothing is written then.
 */
export async function saveTestDevice(db: Db, device: NewTestDevice): Promise<{ outcome: 'saved'; id: string } | { outcome: 'too_many' }> {
  return db.transaction().execute(async (trx) => {
    // The membership row, locked, serialises two saves of one member so the bound holds.
    await trx.selectFrom('memberships').select('user_id').where('user_id', '=', device.userId).where('site_id', '=', device.siteId).forUpdate().executeTakeFirst();
    const existing = await trx
      .selectFrom('test_devices')
      .select((eb) => [eb.fn.countAll<string>().as('count'), eb.fn.countAll<string>().filterWhere('endpoint', '=', device.endpoint).as('same')])
      .where('site_id', '=', device.siteId)
      .where('user_id', '=', device.userId)
      .executeTakeFirstOrThrow();
    if (Number(existing.same) === 0 && Number(existing.count) >= MAX_TEST_DEVICES_PER_MEMBER) return { outcome: 'too_many' as const };
    const row = await trx
      .insertInto('test_devices')
      .values({
        site_id: device.siteId,
        user_id: device.userId,
        endpoint: device.endpoint,
        p256dh: device.p256dh,
        auth: device.auth,
        vapid_public_key: device.vapidPublicKey,
        user_agent: device.userAgent,
        created_at: device.at,
      })
      .onConflict((oc) =>
        oc.columns(['site_id', 'user_id', 'endpoint']).doUpdateSet({
          p256dh: device.p256dh,
          auth: device.auth,
          vapid_public_key: device.vapidPublicKey,
          user_agent: device.userAgent,
        }),
      )
      .returning('id')
      .executeTakeFirstOrThrow();
    return { outcome: 'saved' as const, id: row.id };
  });
}

/** The member's test browsers for the site, newest first. */
export async function listTestDevices(db: Db, siteId: string, userId: string): Promise<TestDeviceRow[]> {
  return db.selectFrom('test_devices').selectAll().where('site_id', '=', siteId).where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id').execute();
}

/** Forgets one of the member's test browsers; false when it is not theirs (or already gone). */
export async function deleteTestDevice(db: Db, siteId: string, userId: string, deviceId: string): Promise<boolean> {
  const result = await db.deleteFrom('test_devices').where('id', '=', deviceId).where('site_id', '=', siteId).where('user_id', '=', userId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function recordTestPushOutcome(db: Db, deviceId: string, at: Date, outcome: string): Promise<void> {
  await db.updateTable('test_devices').set({ last_sent_at: at, last_outcome: outcome }).where('id', '=', deviceId).execute();
}
