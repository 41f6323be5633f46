import { MemoryStore } from '../../src/index.js';
import { busSuite } from './bus-suite.js';

busSuite('memory', async () => {
  const store = new MemoryStore();
  return {
    busOptions: (config = {}) => ({ config: { ...config, transport: 'memory' }, memoryStore: store }),
    async cleanup() {},
  };
});
