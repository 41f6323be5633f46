/**
 * The dashboard's page in headless Chromium (Debian's package, driven by playwright-core)
 * over a real `lightbus run examples/bus.ts` on a private redis-server: it loads, shows the
 * example's process, API and group, a call from the form returns true, a dead letter is
 * replayed, and bus data that looks like markup stays text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { waitFor } from '../helpers/wait.js';
import { chromiumMissing, EXAMPLE_GROUP, launchChromium, seedDeadLetter, startExampleBus, type ExampleBus } from './harness.js';

const missing = chromiumMissing();
if (missing) console.log(`# skipping the dashboard page tests: ${missing}`);

describe('lightbus dashboard: the page in Chromium', { skip: missing }, () => {
  let bus: ExampleBus;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    bus = await startExampleBus();
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // Refusals the tests provoke (422, 404) are logged as failed loads; anything else is a fault of the page.
    page.on('console', (message) => message.type() === 'error' && !/^Failed to load resource/.test(message.text()) && pageErrors.push(message.text()));
    await page.goto(bus.pageUrl);
  });
  after(async () => {
    await browser?.close();
    await bus?.stop();
  });

  const tab = (name: string) => page.click(`#tabs button[data-tab="${name}"]`);

  it('loads, takes the token out of the address bar, and shows the process, its API and its group', async () => {
    await page.locator('#status', { hasText: 'live ·' }).waitFor();
    assert.ok(!page.url().includes('token'), `the token is no longer in the address bar: ${page.url()}`);
    const row = page.locator('#process-rows tr', { hasText: 'send_welcome_email' });
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[0], 'live');
    assert.equal(cells[1], 'example');
    assert.equal(cells[4], 'auth');

    await tab('apis');
    const card = page.locator('article.api[data-api="auth"]');
    await card.waitFor();
    assert.match(await card.locator('.servers').textContent() ?? '', /example \/ \S+ \(live\)/);
    assert.deepEqual(await card.locator('form.rpc .name').allTextContents(), ['check_password', 'register_user']);

    await tab('streams');
    const group = page.locator(`article.group[data-group="${EXAMPLE_GROUP}"]`);
    await group.waitFor();
    assert.match(await group.textContent() ?? '', /auth\.\*:stream/);
    assert.equal(await group.locator('svg.chart').count(), 1);
  });

  it('calls an RPC from its form and shows the result, and shows what the schema refuses next to the field', async () => {
    await tab('apis');
    const form = page.locator('form[data-rpc="auth.check_password"]');
    await form.locator('input[name="username"]').fill('admin');
    await form.locator('button[type="submit"]').click();
    await form.locator('output.failed').waitFor();
    assert.match(await form.locator('.field.invalid .issue').textContent() ?? '', /expected present \(required\)/);
    await form.locator('input[name="password"]').fill('secret');
    await form.locator('button[type="submit"]').click();
    await form.locator('output.ok').waitFor();
    assert.equal(await form.locator('output').textContent(), 'true');
    assert.equal(await form.locator('.field.invalid').count(), 0);
  });

  it('replays a dead letter, which the group then handles', async () => {
    await seedDeadLetter(bus.redis, { username: 'page_replayed', email: 'page@example.com' });
    await tab('dead-letters');
    const row = page.locator('tr.dead-letter', { hasText: 'auth.user_registered' });
    await row.waitFor();
    await row.locator('button.replay').click();
    await page.locator('#dead-letter-result.ok', { hasText: `Replayed` }).waitFor();
    assert.match(await page.locator('#dead-letter-result').textContent() ?? '', new RegExp(`group ${EXAMPLE_GROUP}`));
    await waitFor(() => bus.bus.output().includes('sending a welcome email to page_replayed'), 'the listener to handle the replayed event', 15_000, 50);
    await page.locator('#dead-letters-empty:not([hidden])').waitFor();
  });

  it('asks before deleting a dead letter, and deletes only once confirmed', async () => {
    await seedDeadLetter(bus.redis, { username: 'page_deleted', email: 'del@example.com' });
    const row = page.locator('tr.dead-letter', { hasText: 'auth.user_registered' });
    await row.waitFor();
    await row.locator('button.delete').click();
    await page.locator('dialog#confirm[open]').waitFor();
    await page.locator('dialog#confirm button[value="cancel"]').click();
    assert.equal(await bus.redis.xlen('lightbus:dead_letter:stream'), 1, 'cancelled: still there');
    await row.locator('button.delete').click();
    await page.locator('dialog#confirm button[value="ok"]').click();
    await page.locator('#dead-letter-result.ok', { hasText: 'Deleted' }).waitFor();
    assert.equal(await bus.redis.xlen('lightbus:dead_letter:stream'), 0);
  });

  it('tails events live, filtered, and shows fields that look like markup as text', async () => {
    await tab('events');
    const hostile = '<img src=x onerror="document.title=\'owned\'">';
    await page.locator('#event-filter input[name="event"]').fill('user_registered');
    const response = await fetch(`${bus.url}api/call`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${bus.token}` },
      body: JSON.stringify({ api: 'auth', procedure: 'register_user', params: { username: hostile, email: 'x@example.com' } }),
    });
    assert.equal(response.status, 200);
    const item = page.locator('#event-list li', { hasText: 'auth.user_registered' }).first();
    await item.waitFor();
    await item.locator('summary').click();
    assert.match(await item.locator('pre').textContent() ?? '', /onerror/);
    assert.equal(await page.locator('#event-list img').count(), 0, 'no element was made from the event');
    assert.notEqual(await page.title(), 'owned');
    await page.locator('#event-filter input[name="event"]').fill('no_such_event');
    await page.locator('#events-empty:not([hidden])').waitFor();
    assert.deepEqual(pageErrors, []);
  });
});
