// Loaded with `--import` into every worker thread of `lightbus run`, so the user's TypeScript
// modules (and the worker entry itself, when running from src/) load without a build step.
// `node --import tsx` on the parent does not reach worker threads on Node 20; this does.
// Both hooks: in a package without "type": "module", tsx compiles `.ts` to CommonJS, and with
// the ESM hook alone Node 20's require(esm) then fails with "Cannot require() ES Module ... in
// a cycle".
import { register as registerCommonJs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

registerCommonJs();
register();
