import type { ClaimedDelivery } from '../db/deliveries.ts';
import { deliveryOutcomeOf, noopMetrics } from '../metrics/metrics.ts';
import { pushServiceOf } from '../push/endpoint-policy.ts';
import type { BatchResult } from './batch-recorder.ts';
import { reasonOf } from './delivery-reasons.ts';
import type { DeliveryDeps } from './delivery-engine.ts';

/**
 * Counts each result of a claimed batch by the push service of its subscription's endpoint (the one
 * it was or would have been sent to), its outcome and its reason code.
 */
export function deliveryOutcomeCounter(deps: Pick<DeliveryDeps, 'metrics' | 'config'>, claimed: readonly ClaimedDelivery[]): (result: BatchResult) => void {
  const metrics = deps.metrics ?? noopMetrics;
  if (metrics === noopMetrics) return () => {};
  const services = new Map(claimed.map((delivery) => [delivery.id, pushServiceOf(delivery.subscription_endpoint, deps.config.extraPushHosts)]));
  return (result) => {
    metrics.deliveryOutcome(services.get(result.id) ?? 'other', deliveryOutcomeOf(result), result.status === 'sent' ? 'none' : reasonOf(result.lastError));
  };
}

/** Times one push request, from handing it to the transport to its answer, by push service. */
export async function timedSend<T>(deps: Pick<DeliveryDeps, 'metrics' | 'config'>, endpoint: string, send: () => Promise<T>): Promise<T> {
  const metrics = deps.metrics ?? noopMetrics;
  const startedAt = performance.now();
  const answer = await send();
  metrics.sendLatency(pushServiceOf(endpoint, deps.config.extraPushHosts), (performance.now() - startedAt) / 1000);
  return answer;
}
