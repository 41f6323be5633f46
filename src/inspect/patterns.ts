/**
 * Wildcard patterns over API members, as operators type them: `auth.*`, `*.user_*`,
 * `auth.user_registered`, or just `auth` (the whole API). `*` matches any run of characters,
 * dots included, `?` any one character.
 */

/** A parsed `API.MEMBER` pattern. */
export interface MemberPattern {
  /** As typed, for messages. */
  text: string;
  api: RegExp;
  member: RegExp;
  /** The API name when the API part has no wildcard, so its stream can be named without a scan. */
  exactApi: string | undefined;
  /** The member name when the member part has no wildcard. */
  exactMember: string | undefined;
  /** Whether the member part is `*`: every member of the matching APIs. */
  anyMember: boolean;
}

/**
 * Splits at the last dot: `my_company.auth.*` is every member of the API `my_company.auth`.
 * A pattern without a dot names an API (`auth` = `auth.*`).
 *
 * @throws TypeError for an empty pattern.
 */
export function parseMemberPattern(text: string): MemberPattern {
  if (text.trim() === '') throw new TypeError('an empty pattern matches nothing: give API.MEMBER, e.g. auth.* or *.user_*');
  const dot = text.lastIndexOf('.');
  const apiPart = dot < 0 ? text : text.slice(0, dot);
  const memberPart = dot < 0 ? '*' : text.slice(dot + 1) || '*';
  return {
    text,
    api: globToRegExp(apiPart),
    member: globToRegExp(memberPart),
    exactApi: hasWildcard(apiPart) ? undefined : apiPart,
    exactMember: hasWildcard(memberPart) ? undefined : memberPart,
    anyMember: /^\*+$/.test(memberPart),
  };
}

/** `*` any run of characters, `?` one character, everything else literal; anchored. */
export function globToRegExp(glob: string): RegExp {
  const source = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`);
}

export function hasWildcard(text: string): boolean {
  return text.includes('*') || text.includes('?');
}

/** Whether `api.member` matches one of the patterns; no patterns match everything. */
export function matchesMember(patterns: readonly MemberPattern[], api: string, member: string): boolean {
  return patterns.length === 0 || patterns.some((p) => p.api.test(api) && p.member.test(member));
}

/** Whether an API matches the API part of one of the patterns; no patterns match every API. */
export function matchesApi(patterns: readonly MemberPattern[], api: string): boolean {
  return patterns.length === 0 || patterns.some((p) => p.api.test(api));
}

/** The pattern syntax, for `--help`. */
export const PATTERNS_HELP = `PATTERN is API.MEMBER with wildcards: * matches any run of characters (dots too), ? one character. auth.* is every member of the API auth, *.user_* every member starting with user_ of every API, auth.user_registered one event; a pattern without a dot names a whole API (auth = auth.*). Several patterns match what any of them matches; none matches everything.`;
