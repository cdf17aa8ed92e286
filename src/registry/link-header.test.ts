import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nextLink } from "./link-header.js";

const catalog = new URL("https://registry.example.com/v2/_catalog?n=100");
const tags = new URL("https://contoso.azurecr.io/v2/team/app/tags/list?n=2");
const prefixed = new URL("https://art.example.com/artifactory/api/docker/key/v2/_catalog?n=100");

interface Case {
  name: string;
  header: string | string[] | undefined;
  base?: URL;
  want: string | undefined;
}

const cases: Case[] = [
  // absolute and relative targets
  {
    name: "distribution: absolute path, quoted rel",
    header: '</v2/_catalog?last=b%2Fc&n=100>; rel="next"',
    want: "https://registry.example.com/v2/_catalog?last=b%2Fc&n=100",
  },
  {
    name: "absolute URL with scheme and host",
    header: '<https://registry.example.com/v2/_catalog?last=x&n=100>; rel="next"',
    want: "https://registry.example.com/v2/_catalog?last=x&n=100",
  },
  {
    name: "absolute URL on another host is returned as is (the caller decides about SSRF)",
    header: '<https://cdn.example.net/page2>; rel="next"',
    want: "https://cdn.example.net/page2",
  },
  {
    name: "ACR: relative link with orderby= and an empty value",
    header: '</v2/team/app/tags/list?last=v2&n=2&orderby=>; rel="next"',
    base: tags,
    want: "https://contoso.azurecr.io/v2/team/app/tags/list?last=v2&n=2&orderby=",
  },
  {
    name: "Quay: relative link with an opaque next_page token",
    header: '</v2/_catalog?n=50&next_page=gAAAAABl3x-Yq_9Vz1w%3D%3D>; rel="next"',
    base: new URL("https://quay.io/v2/_catalog?n=50"),
    want: "https://quay.io/v2/_catalog?n=50&next_page=gAAAAABl3x-Yq_9Vz1w%3D%3D",
  },
  {
    name: "path-relative link (no leading slash) resolves against the request path",
    header: '<_catalog?last=z&n=100>; rel="next"',
    want: "https://registry.example.com/v2/_catalog?last=z&n=100",
  },
  {
    name: "query-only link keeps the request path",
    header: '<?last=z&n=100>; rel="next"',
    want: "https://registry.example.com/v2/_catalog?last=z&n=100",
  },
  {
    name: "Artifactory: absolute path including the API prefix is taken verbatim",
    header: '</artifactory/api/docker/key/v2/_catalog?last=a&n=100>; rel="next"',
    base: prefixed,
    want: "https://art.example.com/artifactory/api/docker/key/v2/_catalog?last=a&n=100",
  },
  {
    name: "request port is kept for a relative link",
    header: '</v2/_catalog?last=a>; rel="next"',
    base: new URL("http://127.0.0.1:5000/v2/_catalog"),
    want: "http://127.0.0.1:5000/v2/_catalog?last=a",
  },
  // rel variants
  {
    name: "unquoted rel",
    header: "</v2/_catalog?last=a>; rel=next",
    want: "https://registry.example.com/v2/_catalog?last=a",
  },
  {
    name: "no whitespace around ;",
    header: '</v2/_catalog?last=a>;rel="next"',
    want: "https://registry.example.com/v2/_catalog?last=a",
  },
  {
    name: "whitespace around =",
    header: '</v2/_catalog?last=a> ; rel = "next"',
    want: "https://registry.example.com/v2/_catalog?last=a",
  },
  {
    name: "upper-case REL and Next",
    header: '</v2/_catalog?last=a>; REL="Next"',
    want: "https://registry.example.com/v2/_catalog?last=a",
  },
  {
    name: "rel with several values, next second",
    header: '</v2/_catalog?last=a>; rel="prev next"',
    want: "https://registry.example.com/v2/_catalog?last=a",
  },
  {
    name: "rel with several values, extra spaces",
    header: '</v2/_catalog?last=a>; rel="  next   last "',
    want: "https://registry.example.com/v2/_catalog?last=a",
  },
  {
    name: "rel after other parameters",
    header: '</v2/_catalog?last=a>; type="application/json"; rel="next"',
    want: "https://registry.example.com/v2/_catalog?last=a",
  },
  {
    name: "a quoted parameter with a comma before rel",
    header: '</v2/_catalog?last=a>; title="page 2, of 3"; rel="next"',
    want: "https://registry.example.com/v2/_catalog?last=a",
  },
  {
    name: "a quoted parameter with a semicolon before rel",
    header: '</v2/_catalog?last=a>; title="a;b"; rel="next"',
    want: "https://registry.example.com/v2/_catalog?last=a",
  },
  {
    name: "a quoted parameter with an escaped quote before rel",
    header: '</v2/_catalog?last=a>; title="say \\"hi\\", ok"; rel="next"',
    want: "https://registry.example.com/v2/_catalog?last=a",
  },
  {
    name: "a parameter without a value before rel",
    header: "</v2/_catalog?last=a>; crossorigin; rel=next",
    want: "https://registry.example.com/v2/_catalog?last=a",
  },
  // several links
  {
    name: "several links in one header: prev first, next second",
    header: '</v2/_catalog?last=0>; rel="prev", </v2/_catalog?last=b>; rel="next"',
    want: "https://registry.example.com/v2/_catalog?last=b",
  },
  {
    name: "several links, unquoted rels",
    header: "</first>; rel=first, </v2/_catalog?last=c>; rel=next, </last>; rel=last",
    want: "https://registry.example.com/v2/_catalog?last=c",
  },
  {
    name: "several Link headers (array): next in the second",
    header: ['</v2/_catalog?last=0>; rel="prev"', '</v2/_catalog?last=d>; rel="next"'],
    want: "https://registry.example.com/v2/_catalog?last=d",
  },
  {
    name: "a comma inside the URI does not split links",
    header: '</v2/_catalog?last=a,b&n=1>; rel="next"',
    want: "https://registry.example.com/v2/_catalog?last=a,b&n=1",
  },
  // no next
  { name: "header absent", header: undefined, want: undefined },
  { name: "empty header", header: "", want: undefined },
  { name: "empty array", header: [], want: undefined },
  { name: "only prev", header: '</v2/_catalog?last=0>; rel="prev"', want: undefined },
  { name: "only first and last", header: '</a>; rel="first", </b>; rel="last"', want: undefined },
  { name: "rel that merely contains next", header: '</a>; rel="nextpage"', want: undefined },
  { name: "rel=prefetch-next", header: "</a>; rel=prefetch-next", want: undefined },
  { name: "a link without rel", header: "</v2/_catalog?last=a>", want: undefined },
  { name: "next as another parameter's value", header: '</a>; title="next"', want: undefined },
  { name: "next mentioned in a quoted title", header: '</a>; title="rel=next"; rel="prev"', want: undefined },
  {
    name: "a quoted ;rel=next inside another parameter",
    header: '</a>; title="x;rel=next"; rel="prev"',
    want: undefined,
  },
  {
    name: "only the first rel parameter counts (RFC 8288 §3.3)",
    header: '</a>; rel="prev"; rel="next"',
    want: undefined,
  },
  // garbage
  { name: "plain text", header: "next page please", want: undefined },
  { name: "rel=next without a URI", header: 'rel="next"', want: undefined },
  { name: "unclosed angle bracket", header: '</v2/_catalog?last=a; rel="next"', want: undefined },
  { name: "unparseable URI", header: '<http://[::1>; rel="next"', want: undefined },
];

describe("nextLink", () => {
  for (const c of cases) {
    test(c.name, () => {
      const got = nextLink(c.header, c.base ?? catalog);
      assert.equal(got?.href, c.want);
    });
  }

  test("pathological headers are handled in linear time", () => {
    const started = performance.now();
    const hostile = [
      `<a>${"; x".repeat(20_000)}`,
      `<a>${";".repeat(50_000)}`,
      `<a>; t="${"\\".repeat(20_000)}`,
      `${"<a>, ".repeat(20_000)}<b>; rel=next`,
    ];
    for (const h of hostile) nextLink(h, catalog);
    assert.ok(performance.now() - started < 2000, "took too long");
  });
});
