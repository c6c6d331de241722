import { sql, type Expression, type SqlBool } from 'kysely';
import type { Db, LocalizedContent, NotificationKind } from '../db/database.ts';
import type { SiteRow } from '../db/sites.ts';
import { send } from '../notifications/send.ts';
import type { SiteSettings } from '../sites/site-settings.ts';
import type { TemplateKey } from '../sites/template-settings.ts';
import { resolveTemplate } from './template-lookup.ts';
import { renderMessage, type TemplateContext } from './template-rendering.ts';

export type TriggerSource = 'cart_reminder' | 'price_drop' | 'back_in_stock' | 'low_stock' | 'welcome' | 'reactivation' | 'birthday' | 'order_update' | 'rating_request';

/** A push a trigger is about to queue: what it says (per locale), where it leads, whom it reaches. */
export interface TriggerNotification {
  site: SiteRow;
  settings: SiteSettings;
  source: TriggerSource;
  /** Marketing unless said: order updates are transactional (never capped, never held). */
  kind?: NotificationKind;
  templateKey: TemplateKey;
  /** Placeholder values for one locale (money is formatted for it). */
  context: (locale: string) => TemplateContext;
  url: string | null;
  image?: string | null;
  /**
   * Where a button leads, by its action id (`null` leaves that button out), for pushes whose
   * buttons go elsewhere than the notification — an order's tracking page, the rating page with
   * the answer. Without it every button leads where the notification does: the cart, the product.
   */
  actionUrl?: (action: string) => string | null;
  triggerKey: string;
  /** Stored on the notification for the record: what fired it. */
  audience: { trigger: TriggerSource; [detail: string]: unknown };
  /** The subscriptions (alias `s`) it goes to; only active ones are ever used. */
  where: Expression<SqlBool>;
  holdoutPercent: number;
  ttlSeconds: number;
  /** Normal unless said. */
  urgency?: 'normal' | 'high';
  /** Each delivery waits for its shopper's best hour within 24 hours (and within its TTL). */
  bestHour?: boolean;
  now: Date;
  /** Where service workers report (config.publicUrl): its length counts toward the payload. */
  reportUrl: string;
}

/**
 * Renders a trigger's push in every locale its subscribers use and queues it through `send`, as the
 * send API does, with the trigger's own audience and holdout. Returns the notification id and
 * audience (0: nobody to tell, nothing stored). Call inside a transaction with whatever marks the
 * trigger as fired: `send` joins it.
 */
export async function queueTriggerNotification(db: Db, push: TriggerNotification): Promise<{ id: string; audience: number }> {
  const locales = await db
    .selectFrom('subscriptions as s')
    .select('s.locale')
    .distinct()
    .where('s.site_id', '=', push.site.id)
    .where('s.status', '=', 'active')
    .where(push.where)
    .execute();
  if (locales.length === 0) return { id: '', audience: 0 };

  const { defaultLocale, templates } = push.settings;
  const url = onSiteUrl(push.url, push.site);
  const render = (locale: string): LocalizedContent => {
    const message = renderMessage(resolveTemplate(templates, push.templateKey, locale, defaultLocale), push.context(locale));
    const actions = (message.actions ?? []).flatMap((action) => {
      const target = push.actionUrl ? push.actionUrl(action.action) : url;
      return target === null ? [] : [{ action: action.action, title: action.title, url: onSiteUrl(target, push.site) }];
    });
    return { title: message.title, body: message.body, ...(actions.length > 0 ? { actions } : {}) };
  };
  const localized: Record<string, LocalizedContent> = {};
  for (const { locale } of locales) {
    if (locale && locale !== defaultLocale) localized[locale] = render(locale);
  }
  const { id, audience } = await send(
    { db, now: push.now, reportUrl: push.reportUrl },
    {
      site: push.site,
      source: push.source,
      kind: push.kind ?? 'marketing',
      content: { ...render(defaultLocale), url, ...(push.image ? { image: push.image } : {}) },
      localized,
      to: { by: 'query', where: push.where, record: push.audience },
      ttlSeconds: push.ttlSeconds,
      urgency: push.urgency ?? 'normal',
      triggerKey: push.triggerKey,
      holdoutPercent: push.holdoutPercent,
      ...(push.bestHour ? { bestHour: true } : {}),
      // Templates are checked to fit when saved, but URLs come from shop data and may be long: a
      // trigger shortens its push rather than lose it, and a translation too long falls back.
      whenTooLarge: 'shorten',
    },
  );
  return { id, audience };
}

/** Subscriptions of a shopper known by visitor id and/or the shop's user id. */
export function shopperSubscriptions(ids: { visitorId: string | null; externalUserId: string | null }): Expression<SqlBool> {
  const byVisitor = ids.visitorId === null ? sql<SqlBool>`false` : sql<SqlBool>`s.visitor_id = ${ids.visitorId}`;
  const byUser = ids.externalUserId === null ? sql<SqlBool>`false` : sql<SqlBool>`s.external_user_id = ${ids.externalUserId}`;
  return sql<SqlBool>`(${byVisitor} or ${byUser})`;
}

/**
 * Click targets stay on the shop (a push must never send a shopper to a page the shop does not own): a URL from an event (which anyone with the
 * publishable key can send) that is not on the site's origins is replaced by the shop's home page.
 */
export function onSiteUrl(url: string | null, site: SiteRow): string {
  const home = `${site.allowed_origins[0]}/`;
  if (!url) return home;
  try {
    return site.allowed_origins.includes(new URL(url).origin) ? url : home;
  } catch {
    return home;
  }
}
