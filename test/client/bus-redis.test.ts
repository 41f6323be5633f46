import { Redis } from 'ioredis';
import { busSuite } from './bus-suite.js';

busSuite('redis', async () => ({
  busOptions: (config = {}) => ({ config: { ...config } }),
  async cleanup(apis) {
    const redis = new Redis('redis://127.0.0.1:6379/0');
    for (const api of apis) {
      const keys = await redis.keys(`${api}*`);
      if (keys.length) await redis.del(...keys);
      await redis.del(`schema:${api}`);
      await redis.srem('schemas', api);
    }
    redis.disconnect();
  },
}));
