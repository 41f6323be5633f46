// Loaded with `--import` into the worker threads of `lightbus run` and `lightbus dumpschema`
// when the runtime itself runs from src/ (bin/dev.js, tests), so the worker entry, a `.ts` file,
// loads without a build step; the built runtime's threads load the user's modules with jiti
// (src/util/module-loader.ts) and need none of this. tsx is a development dependency.
// `node --import tsx` on the parent does not reach worker threads on Node 20; this does.
// Both hooks: in a package without "type": "module", tsx compiles `.ts` to CommonJS, and with
// the ESM hook alone Node 20's require(esm) then fails with "Cannot require() ES Module ... in
// a cycle".
import { register as registerCommonJs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

registerCommonJs();
register();
