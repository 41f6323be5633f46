/**
 * Configuration of the example bus in this repository (`lightbus run` from the repo root
 * finds it). Every key is optional; see docs/configuration.md.
 */
import { defineConfig } from './src/config/schema.js';

export default defineConfig({
  serviceName: 'example',
  redis: { url: 'redis://127.0.0.1:6379/0' },
  apis: {
    // Applies to every API without its own entry (and fills the gaps of those with one).
    default: {
      rpcTimeoutMs: 5000,
      validate: { outgoing: true, incoming: true },
    },
  },
});
