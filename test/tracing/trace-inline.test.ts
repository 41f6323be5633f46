// The same trace when `lightbus run --inline` runs the handlers in its main thread, whose SDK
// the runner flushes when it stops (trace-suite.ts).
import { traceSuite } from './trace-suite.js';

traceSuite('lightbus run --inline', { workers: 0, args: ['--inline'] });
