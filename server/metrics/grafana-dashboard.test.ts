import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createNodeMetrics } from '../runtime/node/node-metrics.ts';
import { METRIC } from './metrics.ts';

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
  gridPos: { x: number; y: number; w: number; h: number };
}

const dashboard = JSON.parse(readFileSync(new URL('./grafana-dashboard.json', import.meta.url), 'utf8')) as { panels: Panel[]; uid: string };
const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

/** Every metric a PromQL query reads: its identifiers that are not functions, keywords, labels or label values. */
function metricNamesIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '');
  const withoutGroupings = withoutStrings.replace(/\b(?:by|without)\s*\([^)]*\)/g, '');
  return [...withoutGroupings.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter((match) => !/^\s*\(/.test(withoutGroupings.slice(match.index + match[0].length)))
    .map(([name]) => name)
    .filter((name) => !['by', 'without', 'and', 'or', 'unless', 'offset', 'bool'].includes(name));
}

/** The samples a registry's families expose: a histogram `h` as `h_bucket`, `h_sum` and `h_count`. */
async function exposedNames(): Promise<Set<string>> {
  const text = await createNodeMetrics({ pool: () => ({ totalCount: 0, idleCount: 0, waitingCount: 0, max: 10 }) }).exposition!.render({ dueDeliveries: 0, oldestDueAgeSeconds: 0 });
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    else names.add(name!);
  }
  return names;
}

describe('the Grafana dashboard (server/metrics/grafana-dashboard.json)', () => {
  it('reads only metrics the registry exposes', async () => {
    const exposed = await exposedNames();
    expect(queries.length).toBeGreaterThan(10);
    for (const { panel, expr } of queries) {
      const names = metricNamesIn(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exposed.has(name), `${panel} reads ${name}, which /metrics does not expose`).toBe(true);
    }
  });

  it('reads every Pushcart metric, the event loop and the pool', () => {
    const read = new Set(queries.flatMap(({ expr }) => metricNamesIn(expr)).map((name) => name.replace(/_(bucket|sum|count)$/, '')));
    for (const metric of Object.values(METRIC)) expect(read.has(metric.name), `no panel reads ${metric.name}`).toBe(true);
    expect(read.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });

  it('finds the metric names in a query and nothing else', () => {
    expect(metricNamesIn('histogram_quantile(0.95, sum by (le, push_service) (rate(pushcart_push_send_duration_seconds_bucket{outcome="sent"}[$__rate_interval])))')).toEqual([
      'pushcart_push_send_duration_seconds_bucket',
    ]);
    expect(metricNamesIn('pushcart_db_pool_connections - pushcart_db_pool_idle_connections')).toEqual(['pushcart_db_pool_connections', 'pushcart_db_pool_idle_connections']);
  });

  it('lays its panels out without overlaps on the 24-column grid', () => {
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      for (let column = x; column < x + w; column++) {
        for (let row = y; row < y + h; row++) {
          const cell = `${column},${row}`;
          expect(cells.has(cell), `${panel.title} overlaps another panel at ${cell}`).toBe(false);
          cells.add(cell);
        }
      }
    }
  });
});
