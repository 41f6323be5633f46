// One trace across this process and the worker threads of a `lightbus run` (trace-suite.ts).
import { traceSuite } from './trace-suite.js';

traceSuite('lightbus run --workers 2', { workers: 2, args: [] });
