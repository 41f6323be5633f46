// The runtime suite with handlers in worker threads (the default of `lightbus run`).
import { runtimeSuite } from './helpers/runtime-suite.js';

runtimeSuite({ name: 'worker threads', args: ['--workers', '2'], workers: 2, mainThread: false });
