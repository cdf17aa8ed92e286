/**
 * HTTPS for the console (spec 1.1: self-hosted Consoles serve HTTPS on 8083): the certificate and
 * key given with --tls-cert/--tls-key, or a self-signed one generated at first start and kept in
 * `<data-dir>/tls/` (key 0600), valid for localhost, 127.0.0.1, ::1 and this host's name.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generate } from "selfsigned";

export interface TlsMaterial {
  cert: string;
  key: string;
  /** Where it came from, for the start-up log. */
  origin: string;
}

export async function loadTls(options: {
  dataDir: string;
  certFile?: string;
  keyFile?: string;
}): Promise<TlsMaterial> {
  if (options.certFile || options.keyFile) {
    if (!options.certFile || !options.keyFile) throw new Error("--tls-cert and --tls-key go together");
    return {
      cert: fs.readFileSync(options.certFile, "utf8"),
      key: fs.readFileSync(options.keyFile, "utf8"),
      origin: options.certFile,
    };
  }
  const dir = path.join(options.dataDir, "tls");
  const certFile = path.join(dir, "console.crt");
  const keyFile = path.join(dir, "console.key");
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    return {
      cert: fs.readFileSync(certFile, "utf8"),
      key: fs.readFileSync(keyFile, "utf8"),
      origin: certFile,
    };
  }
  const hostname = os.hostname();
  const now = new Date();
  const pems = await generate([{ name: "commonName", value: hostname }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 825 * 86_400_000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 2, value: hostname },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(keyFile, pems.private, { mode: 0o600 });
  fs.writeFileSync(certFile, pems.cert, { mode: 0o644 });
  return { cert: pems.cert, key: pems.private, origin: `${certFile} (generated, self-signed)` };
}
