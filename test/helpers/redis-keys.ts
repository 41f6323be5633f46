/** Removing what a test's APIs left on the shared Redis: their queues, streams and schemas, nothing else. */
import { Redis } from 'ioredis';

export async function deleteApiKeys(apis: string[], url = 'redis://127.0.0.1:6379/0'): Promise<void> {
  const redis = new Redis(url);
  try {
    for (const api of apis) {
      // Python's names start with the API, the hash-tagged ones with lightbus:{api (key-layout.ts).
      const keys = [...(await redis.keys(`${api}*`)), ...(await redis.keys(`lightbus:{${api}*`))];
      if (keys.length) await redis.del(...keys);
      await redis.del(`schema:${api}`);
      await redis.srem('schemas', api);
    }
  } finally {
    redis.disconnect();
  }
}
