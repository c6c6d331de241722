// The entry of an encryption thread (encryption-pool.ts). Worker threads start without the
// TypeScript loader of the thread that spawned them — whether that was pushcart.mjs's tsx
// `register()`, `tsx` on the command line or vitest — so this file, plain JavaScript, loads the
// thread's TypeScript through tsx itself. `tsImport` scopes tsx to that one import tree.
import { tsImport } from 'tsx/esm/api';

await tsImport('./encryption-worker.ts', import.meta.url);
