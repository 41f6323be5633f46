import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBus, defineApi, event, MemoryStore, Type } from '../../src/index.js';

const shop = defineApi('listen_checks_shop', {
  events: {
    order_placed: event({ customer_id: Type.String(), total: Type.Number() }),
    order_shipped: event({ customer_id: Type.String() }),
  },
});

test('orderBy naming a parameter an event lacks is refused at listen(), naming the event and its parameters', async () => {
  const bus = createBus({ config: { transport: 'memory' }, memoryStore: new MemoryStore() });
  try {
    const events = [shop.events.order_placed, shop.events.order_shipped] as const;
    // A cast, as untyped code would do: the compiler would refuse 'total' here.
    assert.throws(
      () => bus.listen(events, { name: 'by_total', orderBy: 'total' as 'customer_id' }, () => undefined),
      /orderBy "total" is not a parameter of listen_checks_shop\.order_shipped \(its parameters: customer_id\)/,
    );
    const handle = bus.listen(events, { name: 'by_customer', orderBy: 'customer_id' }, () => undefined);
    await handle.ready;
  } finally {
    await bus.close();
  }
});
