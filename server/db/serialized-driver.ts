import type { DatabaseConnection, Dialect, Driver, TransactionSettings } from 'kysely';

/**
 * PGlite is one Postgres backend with one session. kysely-pglite hands every caller that same
 * session without waiting, so two concurrent requests would run inside each other's BEGIN…COMMIT.
 * This wrapper lets one caller hold the connection at a time (as Kysely's own SQLite driver does).
 */
export function serializeConnections(dialect: Dialect): Dialect {
  return { ...dialect, createDriver: () => new SerializedDriver(dialect.createDriver()) };
}

class SerializedDriver implements Driver {
  #tail: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;

  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.#release = release;
    return this.inner.acquireConnection();
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await this.inner.releaseConnection(connection);
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
