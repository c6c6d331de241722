import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { App } from '../app.ts';

/** Time for one full-page screenshot: well inside the browser tests' own 180 s. */
export const SCREENSHOT_TIMEOUT_MS = 90_000;

/** The widths every dashboard page is looked at: a desktop and a phone. */
export const DASHBOARD_WIDTHS = [1280, 390] as const;

/**
 * An app on a free port of 127.0.0.1, made once its origin is known (the public URL is part of
 * its config); requests before that get a 503.
 */
export async function serveApp(makeApp: (origin: string) => App): Promise<{ server: Server; origin: string }> {
  let app: App | undefined;
  const server = serve({
    fetch: (request, env) => (app ? app.fetch(request, env) : new Response('starting', { status: 503 })),
    port: 0,
    hostname: '127.0.0.1',
  }) as Server;
  await new Promise<void>((resolve, reject) => {
    if (server.listening) return resolve();
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  app = makeApp(origin);
  return { server, origin };
}

/** axe-core on the page as it is: no serious or critical violation. */
export async function checkAccessibility(page: Page, axeSource: string, name: string): Promise<void> {
  // Evaluated through the DevTools Protocol, which the page's CSP does not govern (a <script> it would refuse).
  await page.evaluate(axeSource);
  const { rulesRun, violations }: { rulesRun: number; violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: unknown }> }> } = await page.evaluate(async () => {
    const result = await (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ['violations'] });
    return {
      rulesRun: result.passes.length + result.violations.length + result.incomplete.length,
      violations: result.violations.map((violation: any) => ({ id: violation.id, impact: violation.impact, help: violation.help, nodes: violation.nodes.map((node: any) => ({ target: node.target })) })),
    };
  });
  // A page axe could not read would pass with no violations; it must have applied its rules.
  expect(rulesRun, `${name}: axe rules applied`).toBeGreaterThan(10);
  const serious = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  expect(serious, `${name}: ${JSON.stringify(serious, null, 1)}`).toEqual([]);
}

/** The CSP violations the test's init script collected in `__cspViolations`, in the page and every frame it holds. */
export async function cspViolations(page: Page): Promise<string[]> {
  const all: string[] = [];
  for (const frame of page.frames()) all.push(...(await frame.evaluate(() => ((globalThis as any).__cspViolations as string[] | undefined) ?? [])));
  return all;
}

export interface PageUnderCheck {
  page: Page;
  /** Where the screenshots go: `<name>-<width>.png`. */
  shotsDir: string;
  axeSource: string;
  /** Console errors and page errors the test collected. */
  problems: readonly string[];
  /** Run after each resize, before the screenshot (e.g. for a script that lays out on resize). */
  afterResize?: () => Promise<void>;
}

/**
 * What every dashboard page must hold, at each of DASHBOARD_WIDTHS: a full-page screenshot, nothing
 * scrolling sideways, axe-core clean; then no CSP violation in the page or any of its frames and
 * no console or page error.
 */
export async function checkDashboardPage({ page, shotsDir, axeSource, problems, afterResize }: PageUnderCheck, name: string): Promise<void> {
  for (const width of DASHBOARD_WIDTHS) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
    await afterResize?.();
    // A full-page capture on a busy 2-core machine has taken over Playwright's default 30 s; the
    // picture is for a person to look at, so it gets the time the test itself has.
    await page.screenshot({ path: join(shotsDir, `${name}-${width}.png`), fullPage: true, timeout: SCREENSHOT_TIMEOUT_MS });
    const scrollWidth = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number);
    expect(scrollWidth, `${name} at ${width} px scrolls sideways`).toBeLessThanOrEqual(width);
    await checkAccessibility(page, axeSource, `${name} at ${width} px`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  expect(await cspViolations(page), `${name}: CSP violations`).toEqual([]);
  expect(problems, `${name}: errors in the page`).toEqual([]);
}

/**
 * Collects into `problems` what a dashboard page must never show: console errors, uncaught
 * exceptions, and Content-Security-Policy violations (kept in the page as `__cspViolations` by an
 * init script, read by `cspViolations`). `statusPagesExpected`: a page answered with an error
 * status on purpose (a form's 422, a refusal's 403, a 404 page) is logged by Chromium as a failed
 * load of the document itself; that one line is expected, a stylesheet or script failing is not.
 */
export async function watchDashboardPage(context: BrowserContext, page: Page, problems: string[], options: { statusPagesExpected: boolean }): Promise<void> {
  await context.addInitScript(() => {
    const g = globalThis as any;
    g.__cspViolations = [];
    g.document.addEventListener('securitypolicyviolation', (event: any) => g.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const documentStatus = options.statusPagesExpected && message.text().startsWith('Failed to load resource') && message.location().url === page.url();
    if (!documentStatus) problems.push(`console.error: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
}
