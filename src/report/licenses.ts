/**
 * License strings as packages declare them, sorted into what SBOM formats can carry: a known SPDX
 * license identifier, a valid SPDX license expression, or free text.
 *
 * Grammar: SPDX 2.3 Annex D (https://spdx.github.io/spdx-spec/v2.3/SPDX-license-expressions/):
 *   simple   = license-id ["+"] / ["DocumentRef-" idstring ":"] "LicenseRef-" idstring
 *   compound = simple / simple "WITH" exception-id / compound "AND" compound / compound "OR" compound
 *              / "(" compound ")"            precedence: WITH > AND > OR
 * Identifiers match case-insensitively and are written back in their canonical case; the operators
 * are accepted in upper or lower case and written in upper case.
 *
 * The identifiers come from the SPDX License List as packaged by `spdx-license-ids` and
 * `spdx-exceptions` (current and deprecated). The deprecated `GPL-2.0+` style ids, which that package
 * leaves out, are still written by packages and accepted by CycloneDX 1.6's license enumeration.
 */
import { createRequire } from "node:module";

// JSON packages: loaded with require, which Node 20's ESM import of JSON would need an attribute for.
const require = createRequire(import.meta.url);
const licenseList: string[] = require("spdx-license-ids");
const deprecatedLicenses: string[] = require("spdx-license-ids/deprecated.json");
const exceptionList: string[] = require("spdx-exceptions");
const deprecatedExceptions: string[] = require("spdx-exceptions/deprecated.json");

const PLUS_SUFFIXED_IDS = [
  "GPL-1.0+",
  "GPL-2.0+",
  "GPL-3.0+",
  "LGPL-2.0+",
  "LGPL-2.1+",
  "LGPL-3.0+",
  "AGPL-1.0+",
];
const KNOWN_LICENSE_IDS: string[] = [...licenseList, ...deprecatedLicenses, ...PLUS_SUFFIXED_IDS];
const KNOWN_EXCEPTION_IDS: string[] = [...exceptionList, ...deprecatedExceptions];

const licenseIds = new Map(KNOWN_LICENSE_IDS.map((id) => [id.toLowerCase(), id]));
const exceptionIds = new Map(KNOWN_EXCEPTION_IDS.map((id) => [id.toLowerCase(), id]));

/** The canonical spelling of a known SPDX license identifier (case-insensitive lookup), or undefined. */
export function knownLicenseId(id: string): string | undefined {
  return licenseIds.get(id.toLowerCase());
}

/** A parsed license expression. `unknown` is a well-formed identifier that is not on the (subset) list. */
export type LicenseNode =
  | { kind: "license"; id: string; plus: boolean }
  | { kind: "ref"; ref: string }
  | { kind: "unknown"; text: string }
  | { kind: "with"; license: LicenseNode; exception: string }
  | { kind: "and" | "or"; left: LicenseNode; right: LicenseNode };

type Token =
  | { t: "id"; v: string }
  | { t: "op"; v: "AND" | "OR" | "WITH" }
  | { t: "(" }
  | { t: ")" }
  | { t: "+" };

const ID_CHARS = /[A-Za-z0-9.\-:]/;

function tokenize(text: string): Token[] | undefined {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
    } else if (c === "(" || c === ")" || c === "+") {
      out.push({ t: c });
      i++;
    } else if (ID_CHARS.test(c)) {
      let j = i;
      while (j < text.length && ID_CHARS.test(text[j] as string)) j++;
      const word = text.slice(i, j);
      const upper = word.toUpperCase();
      // Operators in one case only: "And" is far more likely part of a name than an operator.
      if (
        (upper === "AND" || upper === "OR" || upper === "WITH") &&
        (word === upper || word === word.toLowerCase())
      ) {
        out.push({ t: "op", v: upper });
      } else {
        out.push({ t: "id", v: word });
      }
      i = j;
    } else {
      return undefined;
    }
  }
  return out;
}

const LICENSE_REF = /^(DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/;
const IDSTRING = /^[A-Za-z0-9.-]+$/;

/** Parses an SPDX license expression; undefined when the text is not one (free text, bad syntax). */
export function parseLicenseExpression(text: string): LicenseNode | undefined {
  const tokens = tokenize(text);
  if (!tokens || tokens.length === 0) return undefined;
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];

  const simple = (): LicenseNode | undefined => {
    const tok = peek();
    if (tok?.t !== "id") return undefined;
    pos++;
    if (LICENSE_REF.test(tok.v)) return { kind: "ref", ref: tok.v };
    if (!IDSTRING.test(tok.v)) return undefined;
    let plus = false;
    if (peek()?.t === "+") {
      plus = true;
      pos++;
    }
    const id = knownLicenseId(tok.v);
    // "GPL-2.0+" is both a deprecated id and "GPL-2.0" with the or-later operator; keep it one id.
    const exact = plus ? knownLicenseId(`${tok.v}+`) : undefined;
    if (exact) return { kind: "license", id: exact, plus: false };
    return id ? { kind: "license", id, plus } : { kind: "unknown", text: plus ? `${tok.v}+` : tok.v };
  };

  const withExpr = (): LicenseNode | undefined => {
    const tok = peek();
    let node: LicenseNode | undefined;
    if (tok?.t === "(") {
      pos++;
      node = orExpr();
      if (!node || peek()?.t !== ")") return undefined;
      pos++;
      return node;
    }
    node = simple();
    if (!node) return undefined;
    const op = peek();
    if (op?.t === "op" && op.v === "WITH") {
      pos++;
      const exc = peek();
      if (exc?.t !== "id" || !IDSTRING.test(exc.v)) return undefined;
      pos++;
      const exception = exceptionIds.get(exc.v.toLowerCase());
      if (!exception || node.kind === "unknown") {
        const base = node.kind === "license" ? node.id + (node.plus ? "+" : "") : render(node);
        return { kind: "unknown", text: `${base} WITH ${exc.v}` };
      }
      return { kind: "with", license: node, exception };
    }
    return node;
  };

  const binary = (op: "AND" | "OR", next: () => LicenseNode | undefined) => (): LicenseNode | undefined => {
    let left = next();
    if (!left) return undefined;
    for (;;) {
      const tok = peek();
      if (tok?.t !== "op" || tok.v !== op) return left;
      pos++;
      const right = next();
      if (!right) return undefined;
      left = { kind: op === "AND" ? "and" : "or", left, right };
    }
  };
  const andExpr = binary("AND", withExpr);
  const orExpr = binary("OR", andExpr);

  const node = orExpr();
  return node && pos === tokens.length ? node : undefined;
}

/**
 * Writes an expression back with canonical identifiers and the fewest parentheses; `unknownAs`
 * decides what an unrecognised identifier becomes (SPDX: a LicenseRef).
 */
export function render(node: LicenseNode, unknownAs: (text: string) => string = (t) => t): string {
  const go = (n: LicenseNode, parent: "and" | "or" | "with" | undefined): string => {
    switch (n.kind) {
      case "license":
        return n.plus ? `${n.id}+` : n.id;
      case "ref":
        return n.ref;
      case "unknown":
        return unknownAs(n.text);
      case "with":
        return `${go(n.license, "with")} WITH ${n.exception}`;
      case "and":
      case "or": {
        const s = `${go(n.left, n.kind)} ${n.kind.toUpperCase()} ${go(n.right, n.kind)}`;
        const wrap = parent === "with" || (parent === "and" && n.kind === "or");
        return wrap ? `(${s})` : s;
      }
    }
  };
  return go(node, undefined);
}

function hasUnknown(node: LicenseNode): boolean {
  switch (node.kind) {
    case "unknown":
      return true;
    case "with":
      return hasUnknown(node.license);
    case "and":
    case "or":
      return hasUnknown(node.left) || hasUnknown(node.right);
    default:
      return false;
  }
}

/** What one declared license string is. */
export type ClassifiedLicense =
  /** A single known SPDX license identifier, canonical case. */
  | { kind: "id"; id: string; text: string }
  /** A valid SPDX expression (compound, `+`, WITH, or a LicenseRef) made only of known identifiers. */
  | { kind: "expression"; expression: string; node: LicenseNode; text: string }
  /** Anything else: free text, or an expression naming identifiers not on the list. */
  | { kind: "name"; name: string; node?: LicenseNode | undefined; text: string };

export function classifyLicense(raw: string): ClassifiedLicense {
  const text = raw.trim();
  const node = parseLicenseExpression(text);
  if (!node) return { kind: "name", name: text, text };
  if (hasUnknown(node)) return { kind: "name", name: text, node, text };
  if (node.kind === "license" && !node.plus) return { kind: "id", id: node.id, text };
  return { kind: "expression", expression: render(node), node, text };
}

/** The package's license strings, trimmed, without empties and duplicates, in their order. */
export function cleanLicenses(licenses: readonly string[] | undefined): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const l of licenses ?? []) {
    const t = l.trim();
    if (t !== "" && !seen.has(t)) {
      seen.add(t);
      out.push(t);
    }
  }
  return out;
}
