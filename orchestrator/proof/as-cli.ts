/**
 * What bin/asg-deploy.js does before it loads the CLI, for a process that measures the CLI's
 * footprint (./engine-memory.ts imports this first, so it runs before the SDK and the tool load):
 * V8's on-disk compile cache (Node >= 22.1), in the same default directory as the CLI's, so that a
 * probe starts as a user's second and later `asg-deploy` runs do (the code of the SDK's bundles and
 * the tool deserialized from the cache instead of compiled again). The first run with an empty
 * cache writes it (the bench takes the median of several runs).
 */
import { enableCompileCache } from 'node:module';

enableCompileCache?.();
