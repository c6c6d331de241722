import type { Migration } from 'kysely';
import * as foundation from './2026-11-22T0000-foundation.ts';
import * as delivery from './2026-11-22T0100-delivery.ts';
import * as interactions from './2026-11-22T0200-interactions.ts';
import * as eventsWatches from './2026-11-22T0300-events-watches.ts';
import * as commerce from './2026-11-22T0400-commerce.ts';
import * as demoSite from './2026-11-29T0000-demo-site.ts';
import * as identifyLegacy from './2026-11-29T0100-identify-legacy.ts';
import * as accounts from './2026-11-29T0200-accounts.ts';
import * as subscriberIndexes from './2026-11-29T0310-subscriber-indexes.ts';
import * as promptFunnel from './2026-11-29T0320-prompt-funnel.ts';
import * as statsRollup from './2026-11-29T0330-stats-rollup.ts';
import * as auditLog from './2026-11-29T0340-audit-log.ts';
import * as originsSeen from './2026-11-29T0350-origins-seen.ts';
import * as deliveryHealth from './2026-11-29T0360-delivery-health.ts';
import * as siteDeletionRollup from './2026-11-29T0370-site-deletion-rollup.ts';
import * as testDevices from './2026-11-29T0380-test-devices.ts';
import * as auditCliActor from './2026-11-29T0385-audit-cli-actor.ts';
import * as promptFunnelBuckets from './2026-11-29T0390-prompt-funnel-buckets.ts';
import * as orderedDeliveries from './2026-11-29T0395-ordered-deliveries.ts';
import * as chunkedAudiences from './2026-11-29T0400-chunked-audiences.ts';
import * as claimOrderIndex from './2026-11-29T0420-claim-order-index.ts';
import * as segments from './2026-11-29T0500-segments.ts';
import * as campaigns from './2026-11-29T0510-campaigns.ts';
import * as orderUpdates from './2026-11-29T0612-order-updates.ts';
import * as priceHistoryLowStock from './2026-11-29T0620-price-history-low-stock.ts';
import * as engagementBudgetBestHour from './2026-11-29T0630-engagement-budget-best-hour.ts';
import * as welcomeReactivation from './2026-11-29T0645-welcome-reactivation.ts';
import * as occasions from './2026-11-29T0660-occasions.ts';
import * as shopperActivity from './2026-11-29T0700-shopper-activity.ts';

/**
 * Every migration, by name, in order. Listed statically (not read from disk) so the same list
 * works on Node and on Workers, where there is no file system.
 */
export const migrations: Record<string, Migration> = {
  '2026-11-22T0000-foundation': foundation,
  '2026-11-22T0100-delivery': delivery,
  '2026-11-22T0200-interactions': interactions,
  '2026-11-22T0300-events-watches': eventsWatches,
  '2026-11-22T0400-commerce': commerce,
  '2026-11-29T0000-demo-site': demoSite,
  '2026-11-29T0100-identify-legacy': identifyLegacy,
  '2026-11-29T0200-accounts': accounts,
  '2026-11-29T0310-subscriber-indexes': subscriberIndexes,
  '2026-11-29T0320-prompt-funnel': promptFunnel,
  '2026-11-29T0330-stats-rollup': statsRollup,
  '2026-11-29T0340-audit-log': auditLog,
  '2026-11-29T0350-origins-seen': originsSeen,
  '2026-11-29T0360-delivery-health': deliveryHealth,
  '2026-11-29T0370-site-deletion-rollup': siteDeletionRollup,
  '2026-11-29T0380-test-devices': testDevices,
  '2026-11-29T0385-audit-cli-actor': auditCliActor,
  '2026-11-29T0390-prompt-funnel-buckets': promptFunnelBuckets,
  '2026-11-29T0395-ordered-deliveries': orderedDeliveries,
  '2026-11-29T0400-chunked-audiences': chunkedAudiences,
  '2026-11-29T0420-claim-order-index': claimOrderIndex,
  '2026-11-29T0500-segments': segments,
  '2026-11-29T0510-campaigns': campaigns,
  '2026-11-29T0612-order-updates': orderUpdates,
  '2026-11-29T0620-price-history-low-stock': priceHistoryLowStock,
  '2026-11-29T0630-engagement-budget-best-hour': engagementBudgetBestHour,
  '2026-11-29T0645-welcome-reactivation': welcomeReactivation,
  '2026-11-29T0660-occasions': occasions,
  '2026-11-29T0700-shopper-activity': shopperActivity,
};
