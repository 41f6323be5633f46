/**
 * TypeBox, as the rest of src/ imports it. `npm run build` replaces the compiled file with one
 * bundle of what it exports (scripts/bundle-vendor.js): TypeBox ships as some 200 ES modules,
 * which every worker thread would load again at its start. TypeBox marks its schemas with
 * `Symbol.for` keys, so a user's own copy of the package builds schemas this one accepts.
 */
export { Type, type Static, type TObject, type TProperties, type TSchema, type TUnsafe } from '@sinclair/typebox';
