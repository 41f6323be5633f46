/**
 * The example bus. Run it with `npx lightbus run examples/bus.ts`.
 *
 * The names are snake_case on purpose: they go on the wire verbatim, so the Python Lightbus
 * quickstart client works against this service unchanged:
 *
 *     bus.auth.check_password(username="admin", password="secret")   # True
 *     bus.auth.register_user(username="ada", email="ada@example.com")
 */
import { createBus, defineApi, event, rpc, Type } from 'lightbus';

export const auth = defineApi('auth', {
  rpcs: {
    check_password: rpc({ username: Type.String(), password: Type.String() }, Type.Boolean()),
    register_user: rpc({ username: Type.String(), email: Type.String() }, Type.Null()),
  },
  events: {
    user_registered: event({ username: Type.String(), email: Type.String() }),
  },
});

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
