/**
 * cron-parser (and Luxon, which it uses), as src/runtime/cron.ts imports it; `npm run build`
 * bundles this file (scripts/bundle-vendor.js), as it does typebox.ts.
 */
export { CronExpressionParser } from 'cron-parser';
