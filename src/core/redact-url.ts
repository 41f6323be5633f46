/**
 * Hiding the passwords of URLs in text meant for people: logs, error messages, `inspect`
 * output. Every layer that names the Redis it talks to uses it, so it lives below them all.
 */
/** Where a URL starts in a text: its scheme, at the start or after a space, quote or bracket. */
const URL_START = /(^|[\s"'(<[,=])([a-z][a-z0-9+.-]*:\/\/)/gi;

/**
 * `text` with the password of every URL in it replaced by `***`:
 * `redis://user:secret@host` becomes `redis://user:***@host`. A password may hold quotes,
 * spaces and `@` (`redis://u:it's s3cret@host` connects), so a URL's credentials run to the
 * LAST `@` before the next URL or the end of the text, and are read by the WHATWG parser, as
 * ioredis reads them: the user name is kept, the password masked. When they do not parse,
 * everything between `//` and that `@` is masked. Works on any text (error messages, log
 * lines), not only on a lone URL; when in doubt it masks too much, never too little.
 */
export function redactUrl(text: string): string {
  const starts = [...text.matchAll(URL_START)].map((match) => ({ at: match.index + match[1]!.length, scheme: match[2]! }));
  if (starts.length === 0) return text;
  let redacted = text.slice(0, starts[0]!.at);
  starts.forEach((start, i) => {
    const part = text.slice(start.at, starts[i + 1]?.at ?? text.length);
    const at = part.lastIndexOf('@');
    if (at === -1) {
      redacted += part;
      return;
    }
    const after = part.slice(at + 1);
    redacted += `${start.scheme}${maskedUserinfo(start.scheme, part.slice(start.scheme.length, at), after)}@${after}`;
  });
  return redacted;
}

/** `user:***` (or `user` when there is no password) as the URL parser reads them; `***` when it cannot. */
function maskedUserinfo(scheme: string, userinfo: string, afterAt: string): string {
  // With one of these before the `@`, the parser would not take the `@` as the end of the credentials.
  if (/[/?#\\]/.test(userinfo)) return '***';
  const host = /^[^\s"'/?#\\]*/.exec(afterAt)![0];
  let parsed: URL;
  try {
    parsed = new URL(`${scheme}${userinfo}@${host}`);
  } catch {
    return '***';
  }
  return userinfo.includes(':') ? `${parsed.username}:***` : parsed.username;
}
