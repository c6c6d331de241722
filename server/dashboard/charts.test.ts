import { describe, expect, it } from 'vitest';
import { CHART_COLOURS, dayChart, dayLabel, funnelChart, labelledDays, liftChart, niceScale, share, shortNumber, signedPercent } from './charts.ts';

const render = async (markup: ReturnType<typeof dayChart>) => String(await markup);

/** The y coordinate of each gridline label, by its text, in the given drawing. */
function gridLabels(svg: string): Map<string, number> {
  const labels = new Map<string, number>();
  for (const match of svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" dy="0.32em" text-anchor="end">([^<]+)<\/text>/g)) labels.set(match[2]!, Number(match[1]));
  return labels;
}

function drawing(page: string, variant: 'wide' | 'narrow'): string {
  const start = page.indexOf(`<svg class="chart-svg chart-${variant}"`);
  return page.slice(start, page.indexOf('</svg>', start) + 6);
}

describe('niceScale', () => {
  it('steps at 1, 2, 2.5 (from 25) or 5 × 10ⁿ, covers the data and always includes 0', () => {
    expect(niceScale(0, 87)).toEqual({ min: 0, max: 100, ticks: [0, 25, 50, 75, 100] });
    expect(niceScale(0, 9)).toEqual({ min: 0, max: 10, ticks: [0, 5, 10] });
    expect(niceScale(0, 87, 5)).toEqual({ min: 0, max: 100, ticks: [0, 20, 40, 60, 80, 100] });
    expect(niceScale(0, 1234)).toEqual({ min: 0, max: 1500, ticks: [0, 500, 1000, 1500] });
    expect(niceScale(-23, 118)).toEqual({ min: -50, max: 150, ticks: [-50, 0, 50, 100, 150] });
    expect(niceScale(40, 90).min).toBe(0);
    expect(niceScale(-7, -2)).toEqual({ min: -8, max: 0, ticks: [-8, -6, -4, -2, 0] });
  });

  it('gives a usable axis when every value is 0', () => {
    const scale = niceScale(0, 0);
    expect(scale.min).toBe(0);
    expect(scale.max).toBeGreaterThan(0);
    expect(scale.ticks[0]).toBe(0);
  });

  it('never has floating-point noise in its ticks', () => {
    for (const tick of niceScale(0, 0.7).ticks) expect(String(tick)).toMatch(/^\d+(\.\d)?$/);
  });
});

describe('labels', () => {
  it('shortens axis numbers and writes a real minus sign', () => {
    expect([0, 950, 1200, 1000, 34_400, 1_500_000, -50, 2.5].map(shortNumber)).toEqual(['0', '950', '1.2k', '1k', '34k', '1.5M', '−50', '2.5']);
  });

  it('names days briefly and labels about the number asked, the last day always', () => {
    expect(dayLabel('2030-03-07')).toBe('7 Mar');
    expect(dayLabel('2030-12-31')).toBe('31 Dec');
    expect(labelledDays(5, 10)).toEqual([0, 1, 2, 3, 4]);
    expect(labelledDays(30, 4)).toEqual([0, 9, 19, 29]);
    // Evenly spaced back from the last day; day 0 would crowd day 1's label, so it has none.
    expect(labelledDays(30, 10)).toEqual([1, 5, 9, 13, 17, 21, 25, 29]);
    // The first day is labelled only when it leaves room before the next label.
    expect(labelledDays(31, 4)).toEqual([0, 10, 20, 30]);
    expect(labelledDays(8, 4)).toEqual([1, 4, 7]);
  });

  it('shares are whole percent, one decimal under 10 %, and a dash of nothing', () => {
    expect(share(1, 3)).toBe('33 %');
    expect(share(148, 8638)).toBe('1.7 %');
    expect(share(0, 10)).toBe('0 %');
    expect(share(5, 0)).toBe('—');
  });
});

describe('dayChart', () => {
  const dates = ['2030-03-01', '2030-03-02', '2030-03-03'];
  const chart = () =>
    dayChart({
      id: 'c',
      title: 'New & lost <subscribers>',
      description: 'From 1 to 3 March: "quoted"',
      dates,
      bars: [
        { key: 'new', label: 'New', values: [10, 40, 0], colour: 'blue' },
        { key: 'lost', label: 'Lost <b>', values: [5, 0, 20], colour: 'vermilion', below: true },
      ],
      lines: [{ key: 'net', label: 'Net', values: [5, 40, -20], colour: 'ink', dash: 'dashed', marker: 'square' }],
    });

  it('is an image named by its title and description, drawn once per width, escaped', async () => {
    const page = await render(chart());
    for (const variant of ['wide', 'narrow'] as const) {
      const svg = drawing(page, variant);
      expect(svg).toContain(`role="img" aria-labelledby="c-${variant}-title c-${variant}-desc"`);
      expect(svg).toContain(`<title id="c-${variant}-title">New &amp; lost &lt;subscribers&gt;</title>`);
      expect(svg).toContain(`<desc id="c-${variant}-desc">From 1 to 3 March: &quot;quoted&quot;</desc>`);
    }
    expect(page).toContain('Lost &lt;b&gt; (below the line)');
    expect(page).not.toContain('<subscribers>');
    // No inline style (the CSP forbids it): colours are presentation attributes.
    expect(page).not.toMatch(/\sstyle=/);
    expect(page).toContain(`fill="${CHART_COLOURS.blue}"`);
  });

  it('puts bars at their values on the scale, lost ones below the 0 line and hatched', async () => {
    const svg = drawing(await render(chart()), 'wide');
    const labels = gridLabels(svg);
    expect([...labels.keys()]).toEqual(['−20', '0', '20', '40']);
    const zero = labels.get('0')!;
    const perUnit = (zero - labels.get('20')!) / 20;
    const rects = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="([^"]+)"/g)].map((m) => ({
      x: Number(m[1]),
      y: Number(m[2]),
      height: Number(m[4]),
      fill: m[5]!,
    }));
    const bars = rects.filter((rect) => rect.fill === CHART_COLOURS.blue);
    expect(bars.map((bar) => Math.round(bar.height / perUnit))).toEqual([10, 40]);
    for (const bar of bars) expect(bar.y + bar.height).toBeCloseTo(zero, 0);
    const lost = rects.filter((rect) => rect.fill === 'url(#c-wide-hatch-lost)');
    expect(lost.map((bar) => Math.round(bar.height / perUnit))).toEqual([5, 20]);
    for (const bar of lost) expect(bar.y).toBeCloseTo(zero, 0);
    expect(svg).toContain('<pattern id="c-wide-hatch-lost"');
    // Days left to right.
    expect(bars[0]!.x).toBeLessThan(bars[1]!.x);
  });

  it('draws lines through every day with their dash and a marker per point', async () => {
    const svg = drawing(await render(chart()), 'wide');
    const points = /<polyline points="([^"]+)"[^>]*stroke-dasharray="7 4"/.exec(svg)![1]!.split(' ').map((pair) => pair.split(',').map(Number));
    expect(points).toHaveLength(3);
    const labels = gridLabels(svg);
    expect(points[1]![1]).toBeCloseTo(labels.get('40')!, 0);
    expect(points[2]![1]).toBeCloseTo(labels.get('−20')!, 0);
    expect(svg.match(/<path d="M[^"]+h[^"]+v[^"]+h[^"]+z"\/>/g)).toHaveLength(3);
  });

  it('labels the days along the bottom', async () => {
    const svg = drawing(await render(chart()), 'narrow');
    expect(svg).toContain('>1 Mar</text>');
    expect(svg).toContain('>3 Mar</text>');
  });
});

describe('funnelChart', () => {
  it('draws each step as a bar as long as its share of the largest, with its count and share of the first', async () => {
    const page = String(
      await funnelChart({
        id: 'f',
        title: 'Opt-in funnel',
        description: 'd',
        steps: [
          { key: 'shown', label: 'Prompt shown', value: 1000 },
          { key: 'yes', label: 'Said <yes>', value: 250 },
          { key: 'later', label: 'Said later', value: 400, branch: true },
          { key: 'none', label: 'Nothing', value: 0 },
        ],
      }),
    );
    const svg = drawing(page, 'wide');
    const widths = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="22" rx="3" fill="([^"]+)"/g)].filter((m) => m[2] !== '#f2f4f7').map((m) => Number(m[1]));
    expect(widths).toHaveLength(3);
    expect(widths[1]! / widths[0]!).toBeCloseTo(0.25, 2);
    expect(widths[2]! / widths[0]!).toBeCloseTo(0.4, 2);
    expect(svg).toContain('>1,000 · 100 %</text>');
    expect(svg).toContain('>250 · 25 %</text>');
    expect(svg).toContain('>0 · 0 %</text>');
    expect(svg).toContain('Said &lt;yes&gt;');
    expect(svg).toContain('fill="url(#f-wide-hatch)"');
    expect(drawing(page, 'narrow')).toContain('aria-labelledby="f-narrow-title f-narrow-desc"');
  });
});

describe('liftChart', () => {
  it('draws each interval against the line of no difference, coloured by what it says, with its numbers written', async () => {
    const page = String(
      await liftChart({
        id: 'l',
        title: 'Lift',
        description: 'Cart reminders brought 40 % more orders',
        rows: [
          { key: 'cart_reminder', label: 'Cart <reminders>', lift: 0.4, low: 0.1, high: 0.8 },
          { key: 'price_drop', label: 'Price drops', lift: 0.2, low: -0.3, high: 0.9 },
          { key: 'api', label: 'API', lift: -0.3, low: -0.5, high: -0.1 },
        ],
      }),
    );
    const svg = drawing(page, 'wide');
    expect(svg).toContain('role="img" aria-labelledby="l-wide-title l-wide-desc"');
    expect(svg).toContain('Cart &lt;reminders&gt;');
    expect(svg).toContain('>+40 % (+10 % to +80 %)</text>');
    expect(svg).toContain('>−30 % (−50 % to −10 %)</text>');
    // The axis: −60 % … +100 %, its 0 dashed.
    const zero = /<line x1="([\d.]+)" x2="[\d.]+" y1="[\d.]+" y2="[\d.]+" stroke="#5b6475" stroke-width="1.5" stroke-dasharray="4 3"\/>(?:<line[^>]*\/>)*<text[^>]*>0 %<\/text>/.exec(svg);
    expect(zero).not.toBeNull();
    const zeroX = Number(zero![1]);
    const intervals = [...svg.matchAll(/<line x1="([\d.]+)" x2="([\d.]+)" y1="([\d.]+)" y2="\3" stroke="(#[0-9a-f]+)" stroke-width="3"/g)].map((m) => ({ from: Number(m[1]), to: Number(m[2]), colour: m[4] }));
    expect(intervals).toHaveLength(3);
    expect(intervals[0]!.from).toBeGreaterThan(zeroX);
    expect(intervals[0]!.colour).toBe(CHART_COLOURS.green);
    expect(intervals[1]!.from).toBeLessThan(zeroX);
    expect(intervals[1]!.to).toBeGreaterThan(zeroX);
    expect(intervals[1]!.colour).toBe(CHART_COLOURS.axis);
    expect(intervals[2]!.to).toBeLessThan(zeroX);
    expect(intervals[2]!.colour).toBe(CHART_COLOURS.vermilion);
    expect(drawing(page, 'narrow')).toContain('aria-labelledby="l-narrow-title l-narrow-desc"');
  });

  it('writes relative differences with their sign', () => {
    expect([0.14, -0.08, 0, 0.004, 1.5].map(signedPercent)).toEqual(['+14 %', '−8 %', '0 %', '0 %', '+150 %']);
  });
});
