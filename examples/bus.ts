/**
 * The example service: serves `auth` (defined in ./api.ts) and listens to its own event.
 * Run it with `npx lightbus run examples/bus.ts`.
 */
import { createBus } from 'lightbus';
import { auth } from './api.js';

const bus = createBus();

bus.serve(auth, {
  check_password: ({ username, password }) => username === 'admin' && password === 'secret',
  async register_user({ username, email }) {
    await bus.fire(auth.events.user_registered, { username, email });
    return null;
  },
});

bus.listen(auth.events.user_registered, { name: 'send_welcome_email' }, (event) => {
  bus.logger.info({ to: event.params.email }, `sending a welcome email to ${event.params.username}`);
});
