/**
 * Charts drawn on the server as SVG: a person reads them without JavaScript, and the page CSP
 * (no inline style) holds, since every colour, dash and font size is an SVG presentation attribute
 * (SVG 2 §6.6), not a style attribute. Each chart is drawn twice, for wide and narrow screens (the
 * stylesheet shows one): a single viewBox scaled down to a phone would shrink its text below
 * reading size. Each is an image with a title and description (`role="img"`, `aria-labelledby`;
 * WAI-ARIA Graphics), and the page puts the same numbers in a table beside it.
 *
 * Colour is never the only cue (WCAG 2.2 SC 1.4.1): lines differ in dash and marker shape, bars
 * below the axis are hatched, and a legend names every series with its own swatch.
 */
import { html, raw } from 'hono/html';
import type { Html } from './layout.ts';

/** A palette with ≥ 3:1 contrast against white for every mark (WCAG 2.2 SC 1.4.11), after Okabe and Ito's. */
export const CHART_COLOURS = {
  blue: '#0063a6',
  vermilion: '#c2410c',
  green: '#047857',
  purple: '#7e22ce',
  ink: '#1a1f2b',
  grid: '#e4e7ec',
  axis: '#5b6475',
} as const;
export type ChartColour = keyof typeof CHART_COLOURS;

export interface Scale {
  min: number;
  max: number;
  ticks: number[];
}

/**
 * Axis ticks at 1, 2, 2.5 or 5 × 10ⁿ that cover [min, max] with about `count` steps, and always
 * include 0 (a bar chart that does not start at 0 exaggerates differences).
 */
export function niceScale(min: number, max: number, count = 4): Scale {
  let low = Math.min(0, min);
  let high = Math.max(0, max);
  if (high === low) high = low + 1;
  const raw = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  // 2.5 only from 25 up: a count axis at 0, 2.5, 5 would read as half shoppers.
  const step = (magnitude >= 10 ? [1, 2, 2.5, 5, 10] : [1, 2, 5, 10]).map((m) => m * magnitude).find((s) => s >= raw - 1e-9)!;
  low = Math.floor(low / step + 1e-9) * step;
  high = Math.ceil(high / step - 1e-9) * step + 0; // + 0: no −0 at the top of an all-negative axis
  const ticks: number[] = [];
  // Multiples of the step, rounded to 12 significant digits: 3 × 0.2 is 0.6000000000000001 in binary.
  for (let k = Math.round(low / step); k <= Math.round(high / step); k++) ticks.push(Number((k * step).toPrecision(12)));
  return { min: low, max: high, ticks };
}

/** Short axis numbers: 950, 1.2k, 34k, 1.5M; a real minus sign. */
export function shortNumber(value: number): string {
  const sign = value < 0 ? '−' : '';
  const abs = Math.abs(value);
  const trim = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1).replace(/\.0$/, ''));
  if (abs >= 1_000_000) return `${sign}${trim(Math.round(abs / 100_000) / 10)}M`;
  if (abs >= 10_000) return `${sign}${Math.round(abs / 1000)}k`;
  if (abs >= 1000) return `${sign}${trim(Math.round(abs / 100) / 10)}k`;
  return `${sign}${trim(Math.round(abs * 10) / 10)}`;
}

/** `2026-11-07` → `7 Nov`: the axis label of a day (the table beside the chart has the full date). */
export function dayLabel(date: string): string {
  const [, month, day] = date.split('-').map(Number);
  return `${day} ${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][month! - 1]}`;
}

/** The indexes of the days that get an axis label: about `count`, evenly spaced back from the last, the first when it fits. */
export function labelledDays(length: number, count: number): number[] {
  if (length <= count) return Array.from({ length }, (_, i) => i);
  const step = Math.ceil((length - 1) / (count - 1));
  const indexes: number[] = [];
  for (let i = length - 1; i >= 0; i -= step) indexes.unshift(i);
  // The first day too, when its label has room before the next one.
  if (indexes[0]! >= step * 0.6) indexes.unshift(0);
  return indexes;
}

interface Frame {
  width: number;
  height: number;
  font: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
  xLabels: number;
}

const WIDE: Omit<Frame, 'left'> = { width: 720, height: 260, font: 12, right: 22, top: 14, bottom: 30, xLabels: 10 };
const NARROW: Omit<Frame, 'left'> = { width: 340, height: 250, font: 13, right: 20, top: 14, bottom: 30, xLabels: 4 };

function withLeft(frame: Omit<Frame, 'left'>, scale: Scale, format: (n: number) => string): Frame {
  const longest = Math.max(...scale.ticks.map((tick) => format(tick).length));
  return { ...frame, left: Math.ceil(longest * frame.font * 0.62) + 12 };
}

const r = (n: number) => Math.round(n * 10) / 10;

export type Marker = 'circle' | 'square' | 'triangle' | 'diamond';
export type Dash = 'solid' | 'dashed' | 'dotted' | 'dashdot';
const DASHES: Record<Dash, string | undefined> = { solid: undefined, dashed: '7 4', dotted: '2 3', dashdot: '8 3 2 3' };

/**
 * The marks (bars, points, gridlines) are many — a year is thousands — and hold only numbers and
 * this file's own colours, so they are joined as plain strings rather than one escaped template
 * each; the few texts among them go through `escapeText`.
 */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function markerPath(shape: Marker, x: number, y: number, size: number): string {
  const s = size;
  const fill = (d: string) => `<path d="${d}"/>`;
  switch (shape) {
    case 'circle':
      return `<circle cx="${r(x)}" cy="${r(y)}" r="${r(s * 0.8)}"/>`;
    case 'square':
      return fill(`M${r(x - s * 0.7)} ${r(y - s * 0.7)}h${r(s * 1.4)}v${r(s * 1.4)}h${r(-s * 1.4)}z`);
    case 'triangle':
      return fill(`M${r(x)} ${r(y - s)}L${r(x + s)} ${r(y + s * 0.75)}L${r(x - s)} ${r(y + s * 0.75)}z`);
    case 'diamond':
      return fill(`M${r(x)} ${r(y - s)}L${r(x + s)} ${r(y)}L${r(x)} ${r(y + s)}L${r(x - s)} ${r(y)}z`);
  }
}

export interface BarSeries {
  key: string;
  label: string;
  values: number[];
  colour: ChartColour;
  /** Drawn below the axis (values given positive), hatched. */
  below?: boolean;
}

export interface LineSeries {
  key: string;
  label: string;
  values: number[];
  colour: ChartColour;
  dash: Dash;
  marker: Marker;
}

export interface DayChart {
  /** Unique on the page: the ids of the title, description and patterns start with it. */
  id: string;
  title: string;
  description: string;
  dates: string[];
  /** What the x axis says under each of `dates` (default: the day, as "29 Nov"): e.g. hours. */
  labels?: string[];
  bars?: BarSeries[];
  lines?: LineSeries[];
  format?: (n: number) => string;
}

function legend(chart: DayChart): Html {
  const items = [
    ...(chart.bars ?? []).map(
      (bar) =>
        html`<li><svg class="legend-swatch" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false"><rect x="1" y="1" width="14" height="14" rx="2" fill="${bar.below ? `url(#${chart.id}-hatch-${bar.key}-legend)` : CHART_COLOURS[bar.colour]}" stroke="${CHART_COLOURS[bar.colour]}"/>${bar.below ? hatchPattern(`${chart.id}-hatch-${bar.key}-legend`, bar.colour) : ''}</svg>${bar.label}${bar.below ? ' (below the line)' : ''}</li>`,
    ),
    ...(chart.lines ?? []).map(
      (line) =>
        html`<li><svg class="legend-swatch line" viewBox="0 0 28 16" width="28" height="16" aria-hidden="true" focusable="false"><line x1="1" y1="8" x2="27" y2="8" stroke="${CHART_COLOURS[line.colour]}" stroke-width="2.5"${DASHES[line.dash] ? html` stroke-dasharray="${DASHES[line.dash]}"` : ''}/><g fill="${CHART_COLOURS[line.colour]}" stroke="#fff" stroke-width="1">${raw(markerPath(line.marker, 14, 8, 4.5))}</g></svg>${line.label}</li>`,
    ),
  ];
  return html`<ul class="chart-legend" aria-hidden="true">${items}</ul>`;
}

function hatchPattern(id: string, colour: ChartColour): Html {
  return html`<defs><pattern id="${id}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><rect width="3" height="6" fill="${CHART_COLOURS[colour]}"/></pattern></defs>`;
}

/** One drawing of a day chart in one frame. */
function drawDays(chart: DayChart, base: Omit<Frame, 'left'>, variant: 'wide' | 'narrow'): Html {
  const format = chart.format ?? shortNumber;
  const bars = chart.bars ?? [];
  const lines = chart.lines ?? [];
  const n = chart.dates.length;
  let high = 0;
  let low = 0;
  for (let i = 0; i < n; i++) {
    const up = bars.filter((bar) => !bar.below).reduce((sum, bar) => sum + (bar.values[i] ?? 0), 0);
    const down = bars.filter((bar) => bar.below).reduce((sum, bar) => sum + (bar.values[i] ?? 0), 0);
    high = Math.max(high, up, ...lines.map((line) => line.values[i] ?? 0));
    low = Math.min(low, -down, ...lines.map((line) => line.values[i] ?? 0));
  }
  const scale = niceScale(low, high, base.height > 200 ? 4 : 3);
  const frame = withLeft(base, scale, format);
  const plotWidth = frame.width - frame.left - frame.right;
  const plotHeight = frame.height - frame.top - frame.bottom;
  const y = (value: number) => frame.top + ((scale.max - value) / (scale.max - scale.min)) * plotHeight;
  const slot = plotWidth / Math.max(n, 1);
  const x = (i: number) => frame.left + slot * (i + 0.5);
  const barWidth = Math.max(1, Math.min(slot * 0.7, 28));
  const id = `${chart.id}-${variant}`;

  const grid = scale.ticks
    .map(
      (tick) =>
        `<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${r(y(tick))}" y2="${r(y(tick))}" stroke="${tick === 0 ? CHART_COLOURS.axis : CHART_COLOURS.grid}" stroke-width="${tick === 0 ? 1.25 : 1}"/><text x="${frame.left - 6}" y="${r(y(tick))}" dy="0.32em" text-anchor="end">${escapeText(format(tick))}</text>`,
    )
    .join('');
  const xLabels = labelledDays(n, frame.xLabels)
    .map((i) => `<text x="${r(x(i))}" y="${frame.height - frame.bottom + frame.font + 6}" text-anchor="middle">${escapeText(chart.labels?.[i] ?? dayLabel(chart.dates[i]!))}</text>`)
    .join('');

  const barMarks = chart.dates
    .map((_, i) => {
    let upTop = 0;
    let downBottom = 0;
    return bars
      .map((bar) => {
      const value = bar.values[i] ?? 0;
      if (value <= 0) return '';
      const from = bar.below ? downBottom : upTop;
      const to = bar.below ? from - value : from + value;
      if (bar.below) downBottom = to;
      else upTop = to;
      const top = Math.min(y(from), y(to));
      const height = Math.max(Math.abs(y(to) - y(from)), 0.5);
      return `<rect x="${r(x(i) - barWidth / 2)}" y="${r(top)}" width="${r(barWidth)}" height="${r(height)}" fill="${bar.below ? `url(#${id}-hatch-${bar.key})` : CHART_COLOURS[bar.colour]}" stroke="${CHART_COLOURS[bar.colour]}" stroke-width="${bar.below ? 1 : 0}"/>`;
      })
      .join('');
    })
    .join('');

  const markerSize = n > 45 ? 0 : variant === 'narrow' ? 2.6 : 3.6;
  const lineMarks = lines
    .map((line) => {
      const points = line.values.map((value, i) => `${r(x(i))},${r(y(value))}`).join(' ');
      const dash = DASHES[line.dash] ? ` stroke-dasharray="${DASHES[line.dash]}"` : '';
      const markers =
        markerSize > 0
          ? `<g fill="${CHART_COLOURS[line.colour]}" stroke="#fff" stroke-width="1">${line.values.map((value, i) => markerPath(line.marker, x(i), y(value), markerSize)).join('')}</g>`
          : '';
      return `<g class="series-${escapeText(line.key)}"><polyline points="${points}" fill="none" stroke="${CHART_COLOURS[line.colour]}" stroke-width="2.25" stroke-linejoin="round" stroke-linecap="round"${dash}/>${markers}</g>`;
    })
    .join('');

  return html`<svg class="chart-svg chart-${variant}" viewBox="0 0 ${frame.width} ${frame.height}" role="img" aria-labelledby="${id}-title ${id}-desc" font-size="${frame.font}" fill="${CHART_COLOURS.axis}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif">
<title id="${id}-title">${chart.title}</title>
<desc id="${id}-desc">${chart.description}</desc>
${bars.filter((bar) => bar.below).map((bar) => hatchPattern(`${id}-hatch-${bar.key}`, bar.colour))}
<g class="grid">${raw(grid)}</g>
<g class="x-axis">${raw(xLabels)}</g>
<g class="bars">${raw(barMarks)}</g>
<g class="lines">${raw(lineMarks)}</g>
</svg>`;
}

/** A chart over days: bars (stacked, some below the axis) and/or lines, with its legend. */
export function dayChart(chart: DayChart): Html {
  return html`<figure class="chart" id="${chart.id}">
${legend(chart)}
${drawDays(chart, WIDE, 'wide')}
${drawDays(chart, NARROW, 'narrow')}
</figure>`;
}

export interface FunnelStep {
  key: string;
  label: string;
  value: number;
  /** A side branch (shoppers who left here): hatched and indented. */
  branch?: boolean;
}

/** `part` of `whole` as whole percent ("—" when the whole is 0); one decimal below 10 %. */
export function share(part: number, whole: number): string {
  if (whole <= 0) return '—';
  const value = (part / whole) * 100;
  if (value > 0 && value < 10) return `${(Math.round(value * 10) / 10).toString()} %`;
  return `${Math.round(value)} %`;
}

function drawFunnel(id: string, title: string, description: string, steps: FunnelStep[], variant: 'wide' | 'narrow'): Html {
  const whole = steps[0]?.value ?? 0;
  const max = Math.max(1, ...steps.map((step) => step.value));
  const wide = variant === 'wide';
  const width = wide ? 720 : 340;
  const labelWidth = wide ? 225 : 0;
  const valueWidth = wide ? 130 : 0;
  const rowHeight = wide ? 34 : 46;
  const barHeight = wide ? 22 : 18;
  const height = steps.length * rowHeight + 4;
  const svgId = `${id}-${variant}`;
  const barLeft = labelWidth;
  const barSpan = width - labelWidth - valueWidth - 4;
  const rows = steps.map((step, i) => {
    const top = i * rowHeight + 2;
    const barTop = wide ? top + (rowHeight - barHeight) / 2 : top + 22;
    const length = Math.max((step.value / max) * barSpan, step.value > 0 ? 2 : 0);
    const indent = step.branch ? 14 : 0;
    const label = `${step.value.toLocaleString('en-US')} · ${share(step.value, whole)}`;
    return html`<g class="funnel-step">
<text x="${step.branch ? indent : 0}" y="${wide ? r(barTop + barHeight / 2) : top + 12}" dy="${wide ? '0.32em' : '0.2em'}" fill="${CHART_COLOURS.ink}"${step.branch ? '' : html` font-weight="600"`}>${step.branch ? '↳ ' : ''}${step.label}</text>
<rect x="${barLeft}" y="${r(barTop)}" width="${r(barSpan)}" height="${barHeight}" rx="3" fill="#f2f4f7"/>
${length > 0
  ? html`<rect x="${barLeft}" y="${r(barTop)}" width="${r(length)}" height="${barHeight}" rx="3" fill="${step.branch ? `url(#${svgId}-hatch)` : CHART_COLOURS.blue}" stroke="${step.branch ? CHART_COLOURS.vermilion : CHART_COLOURS.blue}"/>`
  : ''}
<text x="${width - 2}" y="${wide ? r(barTop + barHeight / 2) : top + 12}" dy="${wide ? '0.32em' : '0.2em'}" text-anchor="end" fill="${CHART_COLOURS.ink}">${label}</text>
</g>`;
  });
  return html`<svg class="chart-svg chart-${variant}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${svgId}-title ${svgId}-desc" font-size="13" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif">
<title id="${svgId}-title">${title}</title>
<desc id="${svgId}-desc">${description}</desc>
${hatchPattern(`${svgId}-hatch`, 'vermilion')}
${rows}
</svg>`;
}

/** A horizontal bar funnel: each step's count and its share of the first step. */
export function funnelChart(input: { id: string; title: string; description: string; steps: FunnelStep[] }): Html {
  return html`<figure class="chart funnel" id="${input.id}">
${drawFunnel(input.id, input.title, input.description, input.steps, 'wide')}
${drawFunnel(input.id, input.title, input.description, input.steps, 'narrow')}
</figure>`;
}

export interface LiftRow {
  key: string;
  label: string;
  /** Relative lift (0.14 = 14 % more) and its 95 % interval. */
  lift: number;
  low: number;
  high: number;
}

/** A relative difference as signed whole percent: +14 %, −8 %, 0 %. */
export function signedPercent(share: number): string {
  const rounded = Math.round(share * 100);
  return `${rounded > 0 ? '+' : rounded < 0 ? '−' : ''}${Math.abs(rounded)} %`;
}

function drawLift(id: string, title: string, description: string, rows: LiftRow[], variant: 'wide' | 'narrow'): Html {
  const wide = variant === 'wide';
  const width = wide ? 720 : 340;
  const labelWidth = wide ? 190 : 0;
  const rowHeight = wide ? 48 : 50;
  const top = 8;
  const axisHeight = 26;
  const height = top + rows.length * rowHeight + axisHeight;
  const scale = niceScale(Math.min(0, ...rows.map((row) => row.low)), Math.max(0, ...rows.map((row) => row.high)), wide ? 6 : 4);
  // Room for half an axis label either side of the plot.
  const left = labelWidth + (wide ? 24 : 26);
  const right = width - (wide ? 30 : 26);
  const x = (value: number) => left + ((value - scale.min) / (scale.max - scale.min)) * (right - left);
  const svgId = `${id}-${variant}`;
  // On a phone every other tick is labelled (0 always), so the labels do not run into each other.
  const zeroIndex = scale.ticks.indexOf(0);
  const lineYOf = (i: number) => (wide ? top + i * rowHeight + 25 : top + i * rowHeight + 34);
  const ticks = scale.ticks
    .map((tick, index) => {
      // Gridlines only across the bars, never through the row labels.
      const segments = rows
        .map(
          (_, i) =>
            `<line x1="${r(x(tick))}" x2="${r(x(tick))}" y1="${r(lineYOf(i) - 11)}" y2="${r(i === rows.length - 1 ? height - axisHeight : lineYOf(i) + 11)}" stroke="${tick === 0 ? CHART_COLOURS.axis : CHART_COLOURS.grid}" stroke-width="${tick === 0 ? 1.5 : 1}"${tick === 0 ? ' stroke-dasharray="4 3"' : ''}/>`,
        )
        .join('');
      const labelled = wide || (index - zeroIndex) % 2 === 0;
      return `${segments}${labelled ? `<text x="${r(x(tick))}" y="${height - 8}" text-anchor="middle">${escapeText(signedPercent(tick))}</text>` : ''}`;
    })
    .join('');
  const marks = rows
    .map((row, i) => {
      const rowTop = top + i * rowHeight;
      const lineY = wide ? rowTop + 25 : rowTop + 34;
      const colour = row.low > 0 ? CHART_COLOURS.green : row.high < 0 ? CHART_COLOURS.vermilion : CHART_COLOURS.axis;
      const label = `<text x="0" y="${rowTop + 16}" fill="${CHART_COLOURS.ink}" font-weight="600">${escapeText(row.label)}</text>`;
      const numbers = escapeText(`${signedPercent(row.lift)} (${signedPercent(row.low)} to ${signedPercent(row.high)})`);
      const estimate = wide
        ? `<text x="0" y="${rowTop + 34}">${numbers}</text>`
        : `<text x="${width}" y="${rowTop + 16}" text-anchor="end" fill="${CHART_COLOURS.ink}">${numbers}</text>`;
      return `${label}${estimate}<line x1="${r(x(row.low))}" x2="${r(x(row.high))}" y1="${r(lineY)}" y2="${r(lineY)}" stroke="${colour}" stroke-width="3" stroke-linecap="round"/><line x1="${r(x(row.low))}" x2="${r(x(row.low))}" y1="${r(lineY - 6)}" y2="${r(lineY + 6)}" stroke="${colour}" stroke-width="2"/><line x1="${r(x(row.high))}" x2="${r(x(row.high))}" y1="${r(lineY - 6)}" y2="${r(lineY + 6)}" stroke="${colour}" stroke-width="2"/><g fill="${colour}" stroke="#fff" stroke-width="1.5">${markerPath('diamond', x(row.lift), lineY, 7)}</g>`;
    })
    .join('');
  return html`<svg class="chart-svg chart-${variant}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${svgId}-title ${svgId}-desc" font-size="13" fill="${CHART_COLOURS.axis}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif">
<title id="${svgId}-title">${title}</title>
<desc id="${svgId}-desc">${description}</desc>
<g class="grid">${raw(ticks)}</g>
<g class="intervals">${raw(marks)}</g>
</svg>`;
}

/**
 * Lift per trigger as a forest plot: the estimate (a diamond) and its 95 % interval (a bar with
 * end caps) against the dashed line of no difference; an interval clear of that line is the
 * finding, one across it is not (yet). Green for more, vermilion for fewer, grey for unclear —
 * and the numbers written beside each, so colour is never the only cue.
 */
export function liftChart(input: { id: string; title: string; description: string; rows: LiftRow[] }): Html {
  return html`<figure class="chart lift" id="${input.id}">
${drawLift(input.id, input.title, input.description, input.rows, 'wide')}
${drawLift(input.id, input.title, input.description, input.rows, 'narrow')}
</figure>`;
}
