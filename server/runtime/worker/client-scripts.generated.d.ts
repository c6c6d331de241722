// The type of client-scripts.generated.js, which the Workers build step writes (build-client-scripts.ts)
// and git ignores: checked in so the project type-checks before any build.
import type { ClientScripts } from '../../client-bundle.ts';

export declare const clientScripts: ClientScripts;
