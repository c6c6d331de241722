import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresError, startEmbeddedPostgres } from './embedded-postgres.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pushcart-embedded-'));
  dirs.push(dir);
  return dir;
}

async function serverPid(connectionString: string): Promise<number> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    return rows[0]!.pid;
  } finally {
    await client.end();
  }
}

describe('the embedded Postgres', { timeout: 60_000 }, () => {
  it('started by two callers at once on a fresh directory: one cluster, one postmaster, both connected to it', async () => {
    const dataDir = tempDir();
    const [first, second] = await Promise.all([startEmbeddedPostgres(dataDir), startEmbeddedPostgres(dataDir)]);
    try {
      expect(first.port).toBe(second.port);
      expect([first.startedHere, second.startedHere].filter(Boolean)).toHaveLength(1);
      expect(await serverPid(first.connectionString)).toBeGreaterThan(0);
      expect(await serverPid(second.connectionString)).toBeGreaterThan(0);
    } finally {
      await first.release();
      await second.release();
    }
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('refuses a wrong password: the generated one is needed', async () => {
    const dataDir = tempDir();
    const running = await startEmbeddedPostgres(dataDir);
    try {
      const url = new URL(running.connectionString);
      url.password = 'not-the-password';
      const client = new pg.Client({ connectionString: url.toString() });
      await expect(client.connect()).rejects.toThrow(/password authentication failed/);
    } finally {
      await running.release();
    }
  });

  it.skipIf(userInfo().uid !== 0)('as root, names a parent directory the postgres user cannot enter, in one line', async () => {
    const parent = tempDir();
    chmodSync(parent, 0o700);
    const dataDir = join(parent, 'app', '.pushcart');
    mkdirSync(dataDir, { recursive: true });
    const opening = startEmbeddedPostgres(dataDir);
    await expect(opening).rejects.toBeInstanceOf(EmbeddedPostgresError);
    await expect(opening).rejects.toThrow(new RegExp(`cannot enter ${parent} \\(mode 700\\); let it through \\(chmod o\\+x ${parent}\\)`));
  });
});
