/**
 * Ajv and its formats, as the rest of src/ imports them; `npm run build` bundles this file
 * (scripts/bundle-vendor.js), as it does typebox.ts, so a worker thread loads one file, not
 * the 70 CommonJS modules of the two packages.
 */
import addFormatsModule from 'ajv-formats';

export { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

// ajv-formats is CommonJS: under NodeNext its default import is `module.exports`, whose
// `default` is the plugin (the module object is the plugin too, at run time).
export const addFormats = addFormatsModule.default;
