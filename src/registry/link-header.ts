/**
 * The `rel="next"` target of an RFC 8288 Link header, resolved against the request URL
 * (ACR and Quay send relative links; distribution sends absolute paths).
 */
export function nextLink(header: string | string[] | undefined, requestUrl: URL): URL | undefined {
  if (header === undefined) return undefined;
  const values = Array.isArray(header) ? header : [header];
  for (const value of values) {
    // <uri-reference> *( ";" link-param ), links separated by commas outside <...>
    const linkPattern = /<([^>]*)>((?:\s*;\s*[^;,]+)*)/g;
    for (const m of value.matchAll(linkPattern)) {
      const params = m[2] ?? "";
      const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;\s,]+))/i.exec(params);
      const rels = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
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
