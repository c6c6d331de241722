import { afterAll, beforeAll } from 'vitest';
import type { CreatedSite } from '../sites/create-site.ts';
import { testApp, testSite } from './fixtures.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

export interface RouteTestWorld {
  database: TestDatabase;
  site: CreatedSite;
  app: ReturnType<typeof testApp>['app'];
}

/**
 * For one route test file: a migrated database (a copy of the run's template on the embedded Postgres, or a fresh database when
 * DATABASE_URL is set), a site, and the app over them; set up before the file's tests, torn down
 * after. Fields are filled once `beforeAll` has run.
 */
export function routeTestWorld(overrides: Parameters<typeof testApp>[1] = {}): RouteTestWorld {
  const world = {} as RouteTestWorld;
  beforeAll(async () => {
    world.database = await createTestDatabase();
    world.site = await testSite(world.database.db);
    world.app = testApp(world.database.db, overrides).app;
  });
  afterAll(async () => world.database?.destroy());
  return world;
}
