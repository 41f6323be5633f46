// The runtime suite with `lightbus run --inline`: handlers in the invoker's thread, no workers.
import { runtimeSuite } from './helpers/runtime-suite.js';

runtimeSuite({ name: '--inline', args: ['--inline'], workers: 0, mainThread: true });
