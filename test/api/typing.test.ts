/**
 * The public API is typed end to end. The `@ts-expect-error` lines are checked by `tsc`
 * (`npm run typecheck`, part of `npm test`): if a wrong call compiled, the directive itself
 * would be an error. The runtime assertions check the schemas the same definitions produce.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiSchema, defineApi, event, rpc, Type, type Bus } from '../../src/index.js';

const shop = defineApi('shop.orders', {
  rpcs: {
    place_order: rpc({ sku: Type.String(), quantity: Type.Integer({ minimum: 1 }), note: Type.Optional(Type.String()) }, Type.Object({ orderId: Type.String() })),
  },
  events: {
    order_placed: event({ orderId: Type.String(), total: Type.Number() }),
    order_shipped: event({ orderId: Type.String(), carrier: Type.String() }),
  },
});

// Compiled, never run: the compiler checks parameters and results.
export async function compileTimeChecks(bus: Bus): Promise<void> {
  const result = await bus.call(shop.rpcs.place_order, { sku: 'a', quantity: 1 });
  const id: string = result.orderId;
  void id;
  // @ts-expect-error quantity must be a number
  await bus.call(shop.rpcs.place_order, { sku: 'a', quantity: '1' });
  // @ts-expect-error sku is required
  await bus.call(shop.rpcs.place_order, { quantity: 1 });
  // @ts-expect-error the result has no field "total"
  void (await bus.call(shop.rpcs.place_order, { sku: 'a', quantity: 1 })).total;
  // @ts-expect-error total must be a number
  await bus.fire(shop.events.order_placed, { orderId: 'x', total: 'ten' });
  bus.listen([shop.events.order_placed], { name: 'typed' }, (e) => {
    const total: number = e.params.total;
    // @ts-expect-error no such parameter
    void e.params.missing;
    void total;
  });
  bus.listen(shop.events.order_placed, { name: 'by-total', orderBy: 'total' }, () => undefined);
  // orderBy names a parameter every event of the listener has.
  bus.listen([shop.events.order_placed, shop.events.order_shipped], { name: 'by-order', orderBy: 'orderId' }, () => undefined);
  // @ts-expect-error carrier is a parameter of order_shipped only
  bus.listen([shop.events.order_placed, shop.events.order_shipped], { name: 'by-carrier', orderBy: 'carrier' }, () => undefined);
  // @ts-expect-error no such parameter
  bus.listen(shop.events.order_placed, { name: 'by-nothing', orderBy: 'missing' }, () => undefined);
  // Untyped event names: any parameter name.
  bus.listen('shop.orders.order_placed', { name: 'untyped', orderBy: 'anything' }, () => undefined);
  await bus.serve(shop, {
    // @ts-expect-error the implementation must return { orderId: string }
    place_order: () => ({ orderId: 1 }),
  });
}

test('definitions produce draft-07 parameter and response schemas as the wire contract names them', () => {
  const schema = apiSchema(shop);
  const params = schema.rpcs['place_order']!.parameters;
  assert.equal(params['type'], 'object');
  assert.equal(params['additionalProperties'], false);
  assert.deepEqual(params['required'], ['sku', 'quantity']);
  assert.equal(params['title'], 'RPC shop.orders.place_order() parameters');
  assert.equal(params['$schema'], 'http://json-schema.org/draft-07/schema#');
  assert.equal(schema.rpcs['place_order']!.response['title'], 'RPC shop.orders.place_order() response');
  assert.equal(schema.events['order_placed']!.parameters['title'], 'Event shop.orders.order_placed parameters');
});

test('invalid API and member names are refused with the reason', () => {
  assert.throws(() => defineApi('bad name', {}), /API name "bad name" is invalid/);
  assert.throws(() => defineApi('ok', { rpcs: { 'no-dash': rpc({}, Type.Null()) } }), /not a valid name/);
  assert.throws(() => defineApi('ok', { rpcs: { x: rpc({}, Type.Null()) }, events: { x: event({}) } }), /both as an RPC and as an event/);
});
