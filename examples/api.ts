/**
 * The definitions of the example's API, in a module of their own: anyone may import them (to
 * call `auth`, to listen to its events) without serving it. A module that both defined and
 * served `auth` would make every process that imports it for the definitions serve `auth` too.
 *
 * The names are snake_case on purpose: they go on the wire verbatim, so the Python Lightbus
 * quickstart client works against this service unchanged:
 *
 *     bus.auth.check_password(username="admin", password="secret")   # True
 *     bus.auth.register_user(username="ada", email="ada@example.com")
 */
import { defineApi, event, rpc, Type } from 'lightbus';

export const auth = defineApi('auth', {
  rpcs: {
    check_password: rpc({ username: Type.String(), password: Type.String() }, Type.Boolean()),
    register_user: rpc({ username: Type.String(), email: Type.String() }, Type.Null()),
  },
  events: {
    user_registered: event({ username: Type.String(), email: Type.String() }),
  },
});
