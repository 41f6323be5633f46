/**
 * `npm run screenshots`: the README's pictures of `lightbus dashboard`, taken from the real
 * thing: the example bus under `lightbus run` on a private redis-server, some calls and
 * events over half a minute (so the charts have a line), two dead letters, and headless
 * Chromium on each view. Writes docs/images/dashboard-*.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromiumMissing, launchChromium, seedDeadLetter, startExampleBus } from '../test/dashboard/harness.js';
import { ROOT } from '../test/inspect/cli-runner.js';

const OUT = join(ROOT, 'docs', 'images');
const ACTIVITY_MS = 30_000;

const missing = chromiumMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}
mkdirSync(OUT, { recursive: true });
const bus = await startExampleBus();
const browser = await launchChromium();
try {
  const page = await browser.context.newPage();
  await page.goto(bus.pageUrl);
  const call = (procedure: string, params: Record<string, unknown>) =>
    fetch(`${bus.url}api/call`, { method: 'POST', headers: { Authorization: `Bearer ${bus.token}` }, body: JSON.stringify({ api: 'auth', procedure, params }) });
  await seedDeadLetter(bus.redis, { username: 'grace', email: 'grace@example' }, 'Error: invalid address "grace@example"');
  await seedDeadLetter(bus.redis, { username: 'linus', email: 'linus@example.com' }, 'Error: connect ECONNREFUSED 127.0.0.1:25');
  // Uneven activity, still going while the pictures are taken, so the charts show a shape.
  let active = true;
  const activity = (async () => {
    for (let i = 0; active; i++) {
      const burst = 1 + ((i * 7) % 5);
      for (let j = 0; j < burst; j++) await call('register_user', { username: `user${i}_${j}`, email: `user${i}_${j}@example.com` });
      await sleep(400);
    }
  })().catch(() => undefined); // ends when the bus is stopped under it
  await sleep(ACTIVITY_MS);

  const shoot = async (tab: string, name: string, prepare?: () => Promise<void>) => {
    await page.click(`#tabs button[data-tab="${tab}"]`);
    if (prepare) await prepare();
    await page.screenshot({ path: join(OUT, `dashboard-${name}.png`) });
    console.log(`docs/images/dashboard-${name}.png`);
  };
  await shoot('processes', 'processes');
  await shoot('apis', 'apis', async () => {
    const form = page.locator('form[data-rpc="auth.check_password"]');
    await form.locator('input[name="username"]').fill('admin');
    await form.locator('input[name="password"]').fill('secret');
    await form.locator('button[type="submit"]').click();
    await form.locator('output.ok').waitFor();
  });
  await shoot('streams', 'streams');
  await shoot('events', 'events', async () => {
    await page.locator('#event-list li details').first().click();
  });
  await shoot('dead-letters', 'dead-letters', async () => {
    await page.locator('tr.dead-letter button', { hasText: 'Inspect' }).first().click();
  });
  active = false;
  await activity;
} finally {
  await browser.close();
  await bus.stop();
}
