import { deleteApiKeys } from '../helpers/redis-keys.js';
import { busSuite } from './bus-suite.js';

busSuite('redis', async () => ({
  busOptions: (config = {}) => ({ config: { ...config } }),
  cleanup: deleteApiKeys,
}));
