import type { Expression, SqlBool } from 'kysely';
import type { Db, LocalizedContent, NotificationKind } from '../db/database.ts';
import type { SiteRow } from '../db/sites.ts';
import { send } from '../notifications/send.ts';
import type { SiteSettings } from '../sites/site-settings.ts';
import type { TemplateKey } from '../sites/template-settings.ts';
import { resolveTemplate } from './template-lookup.ts';
import { renderMessage, type TemplateContext } from './template-rendering.ts';
import { onSiteUrl } from './trigger-notification.ts';

/**
 * A push about one order (an order update, a rating request). Unlike the catalogue triggers
 * (trigger-notification.ts), each button may lead somewhere of its own — the tracking page, the
 * rating page with the answer — and the kind is the caller's: order updates are transactional.
 */
export interface OrderPush {
  site: SiteRow;
  settings: SiteSettings;
  source: 'order_update' | 'rating_request';
  kind: NotificationKind;
  templateKey: TemplateKey;
  context: (locale: string) => TemplateContext;
  /** Where a click on the notification leads; already on the site's origins (see `onSiteUrl`). */
  url: string;
  /** Where a button leads, by its action id; `null` leaves that button out (no target on the shop). */
  actionUrl: (action: string) => string | null;
  triggerKey: string;
  audience: { trigger: 'order_update' | 'rating_request'; [detail: string]: unknown };
  /** The subscriptions (alias `s`) it goes to; only active ones are ever used. */
  where: Expression<SqlBool>;
  holdoutPercent: number;
  ttlSeconds: number;
  urgency: 'normal' | 'high';
  /** Each delivery waits for its shopper's best hour within 24 hours (marketing only). */
  bestHour?: boolean;
  now: Date;
  reportUrl: string;
}

/**
 * Renders the push in every locale its subscribers use and queues it through `send` (joining the
 * caller's transaction). Returns the notification id and audience (0: nobody subscribed, nothing stored).
 */
export async function queueOrderPush(db: Db, push: OrderPush): Promise<{ id: string; audience: number }> {
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
  const render = (locale: string): LocalizedContent => {
    const message = renderMessage(resolveTemplate(templates, push.templateKey, locale, defaultLocale), push.context(locale));
    const actions = (message.actions ?? []).flatMap((action) => {
      const target = push.actionUrl(action.action);
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
      kind: push.kind,
      content: { ...render(defaultLocale), url: onSiteUrl(push.url, push.site) },
      localized,
      to: { by: 'query', where: push.where, record: push.audience },
      ttlSeconds: push.ttlSeconds,
      urgency: push.urgency,
      triggerKey: push.triggerKey,
      holdoutPercent: push.holdoutPercent,
      ...(push.bestHour ? { bestHour: true } : {}),
      // The order's URLs come from the shop's backend and may be long: shorten rather than lose the push.
      whenTooLarge: 'shorten',
    },
  );
  return { id, audience };
}

/** A URL template with `{orderId}` filled in (URL-encoded), or null when there is none. */
export function orderUrlFrom(template: string | undefined, orderId: string): string | null {
  return !template ? null : template.replaceAll('{orderId}', encodeURIComponent(orderId));
}

/** `url` if it is on one of the site's origins, else null. */
export function onSiteOrNull(url: string | null | undefined, site: SiteRow): string | null {
  if (!url) return null;
  try {
    return site.allowed_origins.includes(new URL(url).origin) ? url : null;
  } catch {
    return null;
  }
}
