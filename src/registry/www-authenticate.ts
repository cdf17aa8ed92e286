/**
 * WWW-Authenticate parsing per RFC 7235 §4.1 (challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]),
 * with quoted-string values (RFC 7230 §3.2.6) that may contain commas and backslash escapes.
 * Several challenges may share one header value, and a response may carry several headers.
 */
export interface Challenge {
  /** Lower-cased scheme: "bearer", "basic", … */
  scheme: string;
  /** Lower-cased parameter names. */
  params: Record<string, string>;
  /** The token68 form (`Negotiate YIIB...==`), when the challenge carries one instead of parameters. */
  token68?: string | undefined;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const SPACE = /[ \t]*/y;
/** token68 (RFC 7235 §2.1), only when it is the whole of the challenge's payload. */
const TOKEN68 = /[ \t]+([A-Za-z0-9._~+/-]+=*)(?=[ \t]*(?:,|$))/y;

export function parseWwwAuthenticate(headers: string | string[] | undefined): Challenge[] {
  if (headers === undefined) return [];
  const values = Array.isArray(headers) ? headers : [headers];
  return values.flatMap(parseOne);
}

function parseOne(input: string): Challenge[] {
  const challenges: Challenge[] = [];
  let pos = 0;
  const skipSpace = () => {
    SPACE.lastIndex = pos;
    // A failed sticky match resets lastIndex to 0: never let that rewind the parser.
    if (SPACE.exec(input)) pos = SPACE.lastIndex;
  };
  const token = (): string | undefined => {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(input);
    if (!m) return undefined;
    pos = TOKEN.lastIndex;
    return m[0];
  };
  const quoted = (): string => {
    // input[pos] === '"'
    let out = "";
    pos++;
    while (pos < input.length && input[pos] !== '"') {
      if (input[pos] === "\\" && pos + 1 < input.length) pos++;
      out += input[pos];
      pos++;
    }
    if (pos < input.length) pos++; // closing quote; an unterminated string ends at the end of input
    return out;
  };

  while (pos < input.length) {
    skipSpace();
    while (input[pos] === ",") {
      pos++;
      skipSpace();
    }
    const scheme = token();
    if (!scheme) break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    TOKEN68.lastIndex = pos;
    const t68 = TOKEN68.exec(input);
    if (t68) {
      challenge.token68 = t68[1];
      pos = TOKEN68.lastIndex;
      continue;
    }
    // Parameters until the next "token SP" that is not followed by "=" (the next challenge's scheme).
    for (;;) {
      skipSpace();
      const start = pos;
      const name = token();
      if (!name) {
        if (input[pos] === ",") {
          pos++;
          continue;
        }
        break;
      }
      skipSpace();
      if (input[pos] !== "=") {
        // A new scheme begins here (or a token68 we do not use): rewind and let the outer loop take it.
        pos = start;
        break;
      }
      pos++;
      skipSpace();
      let value: string;
      if (input[pos] === '"') value = quoted();
      else {
        value = token() ?? "";
        // token68 may end in "=" padding
        while (input[pos] === "=") {
          value += "=";
          pos++;
        }
      }
      challenge.params[name.toLowerCase()] = value;
      skipSpace();
      if (input[pos] === ",") pos++;
    }
  }
  return challenges;
}
