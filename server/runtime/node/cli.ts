import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { announceWork } from './work-notifications.ts';
import { messageFromFlags, sendCommand, SendUsageError, statsReport, statsTable } from './cli-send.ts';
import { ConfigError, parseConfig, type Config } from '../../config.ts';
import { normalizeEmail } from '../../accounts/email.ts';
import { CLI_ACTOR, recordAudit } from '../../audit/audit-log.ts';
import { createDashboardUserLink, createPasswordResetLink } from '../../dashboard/links.ts';
import type { Role } from '../../db/database.ts';
import { listSecretKeys, revokeSecretKey } from '../../db/secret-keys.ts';
import { listUsersWithMemberships } from '../../db/users.ts';
import { findSiteById, listSites, markDemoSite } from '../../db/sites.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { jsonLogger } from '../../logger.ts';
import { createSecretKey, createSite, publicSiteView, secretKeyView } from '../../sites/create-site.ts';
import { installInstructions, installSnippet } from '../../sites/install-snippet.ts';
import { identifySecretView } from '../../sites/identity-signature.ts';
import { checkStoredKeys, sealStoredKeys } from '../../sites/stored-keys.ts';
import { newSiteSchema } from '../../sites/site-input.ts';
import { EmbeddedPostgresError, openDatabase, type OpenDatabase, type OpenDatabaseOptions } from './database.ts';
import type { RunningMetricsServer } from './metrics-server.ts';
import type { NodeMetrics } from './node-metrics.ts';


const USAGE = `Usage: pushcart <command> [options]

  start [--demo-data]                    run the server and one delivery worker (what npm start runs);
                                         --demo-data seeds the demo site (never a real shop) with a
                                         month of sample data, once
  worker [--metrics-port=N] [--metrics-host=ADDR]
                                         run background work only: delivery, cart reminders, purges
                                         (as many as you like; beside a running server they share
                                         its embedded Postgres); --metrics-port serves GET /metrics
                                         on 127.0.0.1:N (or ADDR), with the metrics token
  migrate                                bring the database schema up to date
  site create --name NAME --origin URL [--origin URL…] [--demo] [--json]
                                         create a site; prints its keys (the secret key only now) and
                                         its install tag; --demo serves it as the demo shop at /demo
  site list [--json]                     list sites
  site identify-secret --site SITE_ID [--json]
                                         print the secret the shop's backend signs identify with
                                         (derived from PUSHCART_MASTER_KEY; README: Keys and the master key)
  key create --site SITE_ID [--json]     add a secret key to a site (rotation: create, deploy, revoke the old)
  key list --site SITE_ID [--json]       list a site's secret keys (prefixes only)
  key revoke --site SITE_ID --key KEY_ID_OR_PREFIX [--json]
                                         revoke a secret key; it is refused from the next request on
  keys seal [--json]                     seal the VAPID private keys stored before PUSHCART_MASTER_KEY
                                         was set, and bind older sealed keys to their site
  user create --email EMAIL --site SITE_ID --role owner|editor|viewer [--name NAME] [--json]
                                         give a person a role on a site in the dashboard (the account
                                         is made if new) and print a one-time link to set its password
  user reset-password --email EMAIL [--json]
                                         print a one-time link (1 hour) that replaces a forgotten password
  user list [--site SITE_ID] [--json]    list dashboard accounts and their roles
  send --site SITE_ID (--file MESSAGE.json | --title T --url URL [--body B]
       (--all | --tag KEY=VALUE… | --external-user-id ID… | --visitor-id ID…)) [--kind transactional]
       [--ttl SECONDS] [--no-follow] [--json]
                                         queue a push (the file is the body of POST /v1/notifications,
                                         - for stdin) and follow it with a progress bar until every
                                         delivery has an outcome; Ctrl-C stops following, not the send;
                                         exit 1 when deliveries failed
  stats --site SITE_ID [--from DATE] [--to DATE] [--json]
                                         the funnel per trigger (sent, shown, clicked, converted,
                                         revenue) and each holdout's lift, for the shop's last 30 days

Key changes and the roles given by user create are recorded in the site's audit log, by "the
command line". Configuration comes from the environment (README: Configuration).`;

/** A mistake by the person at the keyboard: printed as one line, exit code 2, no stack trace. */
class UsageError extends Error {}

/** `--file`: the message as the send API takes it, or `-` for stdin. */
async function readMessageFile(path: string): Promise<string> {
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const logger = jsonLogger((line) => process.stderr.write(`${line}\n`));

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      origin: { type: 'string', multiple: true },
      site: { type: 'string' },
      key: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string' },
      json: { type: 'boolean', default: false },
      demo: { type: 'boolean', default: false },
      'demo-data': { type: 'boolean', default: false },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      // pushcart send / stats
      file: { type: 'string' },
      title: { type: 'string' },
      body: { type: 'string' },
      url: { type: 'string' },
      all: { type: 'boolean' },
      tag: { type: 'string', multiple: true },
      'external-user-id': { type: 'string', multiple: true },
      'visitor-id': { type: 'string', multiple: true },
      kind: { type: 'string' },
      ttl: { type: 'string' },
      'no-follow': { type: 'boolean', default: false },
      from: { type: 'string' },
      to: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, subcommand] = positionals;
  if (values.help || command === undefined || command === 'help') {
    console.log(USAGE);
    return;
  }
  const config = parseConfig(process.env);
  const print = (line: string) => console.log(line);

  if (command === 'start') {
    // Imported here so the other commands do not load the HTTP server.
    const { startNodeServer } = await import('./entry-node.ts');
    const starting = startNodeServer(config, jsonLogger((line) => process.stdout.write(`${line}\n`)), print, { demoData: values['demo-data'] });
    // Listening from the start: a signal while it starts still stops the embedded Postgres with it.
    const stop = async () => {
      await (await starting.catch(() => undefined))?.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await starting;
    return;
  }

  if (command === 'worker') {
    await runWorker(config, metricsListen(config, values['metrics-port'], values['metrics-host']));
    return;
  }

  await withDatabase(config, {}, async ({ db }) => {
    if (command === 'migrate') {
      const result = await migrateToLatest(db);
      const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
      print(applied.length === 0 ? 'Database schema is up to date.' : `Applied: ${applied.join(', ')}`);
      return;
    }
    await migrateToLatest(db);
    if (command === 'send') {
      const site = await requireSite(db, values.site);
      const fileText = values.file === undefined ? undefined : await readMessageFile(values.file);
      const message = messageFromFlags({ ...values, fileText });
      // Ctrl-C stops following, not the send: the status so far is printed and the command ends.
      const interrupted = new AbortController();
      process.once('SIGINT', () => interrupted.abort());
      process.exitCode = await sendCommand(
        {
          db,
          config,
          now: Date.now,
          print,
          progress: { isTTY: process.stderr.isTTY === true, write: (text) => void process.stderr.write(text) },
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
          signal: interrupted.signal,
        },
        site,
        message,
        { follow: !values['no-follow'], json: values.json, onQueued: () => announceWork(db, logger) },
      );
      return;
    }
    if (command === 'stats') {
      const site = await requireSite(db, values.site);
      const report = await statsReport({ db, now: Date.now }, site, { from: values.from, to: values.to });
      if (values.json) print(JSON.stringify(report));
      else statsTable(site, report).forEach(print);
      return;
    }
    if (command === 'keys' && subcommand === 'seal') {
      const report = await sealStoredKeys(db, config.masterKey);
      print(
        values.json
          ? JSON.stringify(report)
          : `Sealed ${report.sealed} keys stored in clear; bound ${report.upgraded} keys to their site; ${report.alreadySealed} already sealed.`,
      );
      return;
    }
    if (command === 'site' && subcommand === 'create') {
      const input = newSiteSchema.safeParse({ name: values.name ?? '', origins: values.origin ?? [] });
      if (!input.success) {
        throw new UsageError(input.error.issues.map((i) => `--${i.path[0] === 'origins' ? 'origin' : String(i.path[0])}: ${i.message}`).join('; '));
      }
      // A new key sealed with another master key than the others (or left in clear beside them) would
      // split the sites between two settings; refused here as at start.
      await checkStoredKeys(db, { masterKey: config.masterKey, nowMs: Date.now(), logger });
      const site = await createSite(db, input.data, config.masterKey);
      if (values.demo) await markDemoSite(db, site.id);
      const install = installSnippet(config.publicUrl, site.publishableKey);
      if (values.json) {
        const { id, publishableKey, secretKey, vapidPublicKey } = site;
        print(JSON.stringify({ id, publishableKey, secretKey, vapidPublicKey, scriptTag: install.scriptTag, serviceWorkerFile: install.serviceWorkerFile }));
      } else {
        print(`Site ${site.name} (${site.id}) for ${site.origins.join(', ')}`);
        print(`  publishable key: ${site.publishableKey}`);
        print(`  secret key:      ${site.secretKey}   (shown only now; store it safely)`);
        print(`  VAPID public key: ${site.vapidPublicKey}`);
        print('');
        installInstructions(site.name, config.publicUrl, site.publishableKey).forEach(print);
        if (values.demo) print(`The demo shop shows this site at ${config.publicUrl}/demo (when one of its origins is ${new URL(config.publicUrl).origin}).`);
      }
      return;
    }
    if (command === 'site' && subcommand === 'list') {
      const sites = (await listSites(db)).map(publicSiteView);
      if (values.json) print(JSON.stringify(sites));
      else for (const site of sites) print(`${site.id}  ${site.publishableKey}  ${site.name}  ${site.origins.join(', ')}`);
      return;
    }
    if (command === 'site' && subcommand === 'identify-secret') {
      const site = await requireSite(db, values.site);
      if (!config.masterKey) {
        throw new ConfigError(
          'Invalid configuration — PUSHCART_MASTER_KEY: not set, so there is no identify secret; identify signatures are keyed with a secret key’s hash until it is set (README: Keys and the master key)',
        );
      }
      await checkStoredKeys(db, { masterKey: config.masterKey, nowMs: Date.now(), logger });
      // Read again: the check may just have started the site's transition period.
      const view = await identifySecretView((await findSiteById(db, site.id)) ?? site, config.masterKey, Date.now());
      if (values.json) {
        print(JSON.stringify(view));
      } else {
        print(`Identify secret of ${site.name} (${site.id}): ${view.identifySecret}`);
        print('  The shop backend signs a user id as hex HMAC-SHA256(key = this secret, message = the user id).');
        print('  Keep it on the server, like a secret key; it changes only with PUSHCART_MASTER_KEY.');
        if (view.legacyAcceptedUntil) print(`  Signatures keyed with a secret key's hash are still accepted until ${view.legacyAcceptedUntil}.`);
      }
      return;
    }
    if (command === 'key') {
      const site = await requireSite(db, values.site);
      // Key changes are recorded in the audit log as the command line's, in the change's transaction,
      // as the Keys page and the admin API record theirs.
      if (subcommand === 'create') {
        const { secretKey, key } = await db.transaction().execute(async (trx) => {
          const created = await createSecretKey(trx, site.id);
          await recordAudit(trx, site.id, CLI_ACTOR, { action: 'key_created', key: created.key }, new Date());
          return created;
        });
        print(values.json ? JSON.stringify({ id: key.id, prefix: key.prefix, secretKey }) : `${secretKey}   (id ${key.id}; shown only now)`);
        return;
      }
      if (subcommand === 'list') {
        const keys = await listSecretKeys(db, site.id);
        // camelCase, as the HTTP API and `site list --json` answer.
        if (values.json) print(JSON.stringify(keys.map(secretKeyView)));
        else for (const key of keys) print(`${key.id}  ${key.prefix}…  ${key.revoked_at ? `revoked ${key.revoked_at.toISOString()}` : 'live'}`);
        return;
      }
      if (subcommand === 'revoke') {
        if (!values.key) throw new UsageError('--key KEY_ID_OR_PREFIX is required (see: pushcart key list)');
        const now = new Date();
        const key = await db.transaction().execute(async (trx) => {
          const before = await listSecretKeys(trx, site.id);
          const revoked = await revokeSecretKey(trx, site.id, values.key!, now);
          // Revoking a revoked key changes nothing (its first revocation is kept): no row for it.
          if (revoked && before.find((candidate) => candidate.id === revoked.id)?.revoked_at === null) {
            await recordAudit(trx, site.id, CLI_ACTOR, { action: 'key_revoked', key: revoked }, now);
          }
          return revoked;
        });
        if (!key) throw new UsageError(`Site ${site.id} has no key ${values.key} (or the prefix matches more than one)`);
        print(values.json ? JSON.stringify(secretKeyView(key)) : `Revoked ${key.prefix}… (${key.id})`);
        return;
      }
    }
    if (command === 'user') {
      if (await userCommand(db, config, subcommand, values, print)) return;
    }
    throw new UsageError(`Unknown command: ${positionals.join(' ')}\n\n${USAGE}`);
  });
}

const ROLES: readonly Role[] = ['owner', 'editor', 'viewer'];

/**
 * `pushcart user …`: dashboard accounts from the terminal. No mail server is assumed, so each
 * command prints the one-time link for the operator to hand over; the links are made with
 * PUSHCART_PUBLIC_URL, which must be the server's.
 */
async function userCommand(
  db: OpenDatabase['db'],
  config: Config,
  subcommand: string | undefined,
  values: { email?: string | undefined; site?: string | undefined; role?: string | undefined; name?: string | undefined; json: boolean },
  print: (line: string) => void,
): Promise<boolean> {
  const now = new Date();
  // As the account stores it, when it is an address at all.
  const email = values.email === undefined ? undefined : (normalizeEmail(values.email) ?? values.email.trim());
  if (subcommand === 'create') {
    if (email === undefined) throw new UsageError('--email EMAIL is required');
    const site = await requireSite(db, values.site);
    if (values.role === undefined || !ROLES.includes(values.role as Role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    const role = values.role as Role;
    const name = values.name?.trim();
    // A membership added or a role changed is recorded as the command line's, as the Team page records its own.
    const result = await createDashboardUserLink(db, { siteId: site.id, email, role, name: name ? name : null, now, publicUrl: config.publicUrl, actor: CLI_ACTOR });
    if (result.outcome === 'invalid_email') throw new UsageError(`--email: "${email}" is not an email address`);
    if (result.outcome === 'last_owner') {
      throw new UsageError(`${email} is the only owner of ${site.name} (${site.id}); make someone else owner first, or nobody could manage its keys and users`);
    }
    if (values.json) {
      print(JSON.stringify({ userId: result.userId, siteId: site.id, role, hasPassword: result.outcome === 'has_password', url: result.url, expiresAt: result.outcome === 'password_link' ? result.expiresAt.toISOString() : null }));
    } else if (result.outcome === 'password_link') {
      print(`${email} is ${role} of ${site.name} (${site.id}). One-time link to set the password (until ${result.expiresAt.toISOString()}):`);
      print(`  ${result.url}`);
    } else {
      print(`${email} is ${role} of ${site.name} (${site.id}). The account has a password already; it signs in at ${result.url}`);
    }
    return true;
  }
  if (subcommand === 'reset-password') {
    if (email === undefined) throw new UsageError('--email EMAIL is required');
    const result = await createPasswordResetLink(db, { email, now, publicUrl: config.publicUrl });
    if (result.outcome === 'no_such_user') throw new UsageError(`No dashboard account has the email ${email} (see: pushcart user list)`);
    if (values.json) {
      print(JSON.stringify({ userId: result.userId, url: result.url, expiresAt: result.expiresAt.toISOString() }));
    } else {
      print(`One-time link to set a new password for ${email} (until ${result.expiresAt.toISOString()}; earlier links stop working, and using it signs the account out everywhere):`);
      print(`  ${result.url}`);
    }
    return true;
  }
  if (subcommand === 'list') {
    const site = values.site === undefined ? undefined : await requireSite(db, values.site);
    const users = await listUsersWithMemberships(db, site?.id);
    if (values.json) {
      print(
        JSON.stringify(
          users.map((user) => ({
            id: user.id,
            email: user.email,
            name: user.name,
            hasPassword: user.hasPassword,
            lastSignInAt: user.last_sign_in_at?.toISOString() ?? null,
            createdAt: user.created_at.toISOString(),
            memberships: user.memberships,
          })),
        ),
      );
      return true;
    }
    if (users.length === 0) print(site ? `Nobody has a role on ${site.name} (${site.id}) yet.` : 'No dashboard accounts yet.');
    for (const user of users) {
      const roles = user.memberships.map((membership) => `${membership.role} of ${membership.siteName} (${membership.siteId})`).join(', ') || 'no site';
      const state = user.hasPassword ? (user.last_sign_in_at ? `last signed in ${user.last_sign_in_at.toISOString()}` : 'never signed in') : 'no password yet';
      print(`${user.email}${user.name ? ` (${user.name})` : ''}  ${roles}  ${state}`);
    }
    return true;
  }
  return false;
}

async function requireSite(db: OpenDatabase['db'], siteId: string | undefined) {
  if (!siteId) throw new UsageError('--site SITE_ID is required (see: pushcart site list)');
  const site = await findSiteById(db, siteId);
  if (!site) throw new UsageError(`No site with id ${siteId}`);
  return site;
}

/**
 * `--metrics-port=N [--metrics-host=ADDR]`, checked before anything starts: a port, and a token to
 * protect it (the same rule as the server's /metrics, so one scrape configuration fits both).
 */
function metricsListen(config: Config, port: string | undefined, hostname: string | undefined): { port: number; hostname?: string } | undefined {
  if (port === undefined) {
    if (hostname !== undefined) throw new UsageError('--metrics-host needs --metrics-port=N');
    return undefined;
  }
  const number = /^\d+$/.test(port) ? Number(port) : Number.NaN;
  if (!(number >= 0 && number <= 65535)) throw new UsageError(`--metrics-port: "${port}" must be a port number, 0 to 65535 (0: any free port)`);
  if (config.metricsToken === undefined) throw new UsageError('--metrics-port: set PUSHCART_METRICS_TOKEN (or PUSHCART_ADMIN_TOKEN); scrapers send it as Authorization: Bearer');
  if (hostname !== undefined && hostname.trim() === '') throw new UsageError('--metrics-host: give an address to listen on, e.g. 0.0.0.0');
  return { port: number, ...(hostname === undefined ? {} : { hostname: hostname.trim() }) };
}

/**
 * Background work only (delivery, cart reminders, purges) until SIGINT/SIGTERM; the batches in
 * flight are finished first. The same rounds `npm start` runs, so any number of these can help it.
 * With `metrics`, its counters are served at GET /metrics on that port.
 */
async function runWorker(config: Config, metricsAt: { port: number; hostname?: string } | undefined): Promise<void> {
  const { startBackgroundWork } = await import('./background-work.ts');
  const workerLogger = jsonLogger((line) => process.stdout.write(`${line}\n`));
  await withDatabase(config, {}, async ({ db, describe, poolStats, connectionString }) => {
    await migrateToLatest(db);
    // Before claiming anything: a worker that cannot open the keys would only hold deliveries back.
    await checkStoredKeys(db, { masterKey: config.masterKey, nowMs: Date.now(), logger: workerLogger });
    const signalled = new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    let metricsServer: RunningMetricsServer | undefined;
    let metrics: NodeMetrics | undefined;
    if (metricsAt) {
      const { createNodeMetrics } = await import('./node-metrics.ts');
      const { serveMetrics } = await import('./metrics-server.ts');
      metrics = createNodeMetrics({ pool: poolStats });
      metricsServer = await serveMetrics({ config, db, logger: workerLogger, metrics }, metricsAt);
    }
    const work = startBackgroundWork({ db, config, logger: workerLogger, listenOn: connectionString, ...(metrics ? { metrics } : {}) });
    workerLogger.log('info', 'delivery worker started', {
      workerId: work.workerId,
      database: describe,
      encryptionThreads: work.encryptionThreads,
      ...(metricsServer ? { metrics: `${metricsServer.url}/metrics` } : {}),
    });
    try {
      await Promise.race([signalled, work.finished]);
    } finally {
      await work.stop();
      await metricsServer?.close();
    }
  });
}

async function withDatabase(config: Config, options: OpenDatabaseOptions, work: (database: OpenDatabase) => Promise<void>): Promise<void> {
  const database = await openDatabase(config, logger, options);
  try {
    await work(database);
  } finally {
    await database.close();
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError || error instanceof EmbeddedPostgresError || error instanceof UsageError || error instanceof SendUsageError) {
    console.error(`pushcart: ${error.message}`);
    process.exit(error instanceof UsageError || error instanceof SendUsageError ? 2 : 1);
  }
  if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
    console.error(`pushcart: port ${(error as { port?: number }).port ?? ''} is already in use; stop the other server or set PORT`);
    process.exit(1);
  }
  if (error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    console.error(`pushcart: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  throw error;
}
