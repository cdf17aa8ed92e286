/**
 * The `rel="next"` target of an RFC 8288 Link header, resolved against the request URL
 * (ACR and Quay send relative links; distribution sends absolute paths).
 */
// link-param = token BWS [ "=" BWS ( token / quoted-string ) ]; quoted strings may hold "," and ";".
const PARAM_SOURCE = String.raw`\s*;\s*([^;,"=\s]+)(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"?|([^;,"\s]*)))?`;

export function nextLink(header: string | string[] | undefined, requestUrl: URL): URL | undefined {
  if (header === undefined) return undefined;
  const values = Array.isArray(header) ? header : [header];
  for (const value of values) {
    // <uri-reference> *( ";" link-param ), links separated by commas outside <...> and quotes
    const linkPattern = new RegExp(`<([^>]*)>((?:${PARAM_SOURCE})*)`, "g");
    for (const m of value.matchAll(linkPattern)) {
      let rels: string[] = [];
      for (const p of (m[2] ?? "").matchAll(new RegExp(PARAM_SOURCE, "g"))) {
        if (p[1]?.toLowerCase() !== "rel") continue;
        const raw = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] ?? "");
        rels = raw.toLowerCase().split(/\s+/);
        break; // RFC 8288 §3.3: only the first rel parameter counts
      }
      if (rels.includes("next") && m[1] !== undefined) {
        try {
          return new URL(m[1], requestUrl);
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}
