// Loaded with `--import` into every worker thread of `lightbus run`, so the user's TypeScript
// modules (and the worker entry itself, when running from src/) load without a build step.
// `node --import tsx` on the parent does not reach worker threads on Node 20; this does.
import { register } from 'tsx/esm/api';

register();
