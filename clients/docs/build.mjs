// Copies the API reference page and Redoc's standalone bundle (from the pinned npm package)
// into dist/, which relais embeds and serves at /docs: no CDN, the page works offline and
// under a strict Content-Security-Policy. `node build.mjs --check` fails when the committed
// dist/ differs from what the sources and the installed package give (CI runs it after `npm ci`).
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const check = process.argv.includes("--check");
const out = check ? mkdtempSync(join(tmpdir(), "relais-docs-")) : join(here, "dist");
const redoc = join(here, "node_modules", "redoc");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "index.html"), readFileSync(join(here, "src", "index.html")));
writeFileSync(join(out, "redoc.standalone.js"), readFileSync(join(redoc, "bundles", "redoc.standalone.js")));
const version = JSON.parse(readFileSync(join(redoc, "package.json"), "utf8")).version;
writeFileSync(
  join(out, "LICENSE.redoc.txt"),
  `Redoc ${version} (https://github.com/Redocly/redoc), bundles/redoc.standalone.js:\n\n` +
    readFileSync(join(redoc, "LICENSE"), "utf8") +
    "\n\nThird-party notices bundled in it (bundles/redoc.standalone.js.LICENSE.txt):\n\n" +
    readFileSync(join(redoc, "bundles", "redoc.standalone.js.LICENSE.txt"), "utf8"),
);

if (check) {
  const committed = join(here, "dist");
  const names = (dir) => readdirSync(dir).sort().join(",");
  let differs = names(out) !== names(committed) ? [`files: ${names(committed)} != ${names(out)}`] : [];
  for (const name of readdirSync(out)) {
    let old = null;
    try {
      old = readFileSync(join(committed, name));
    } catch {}
    if (!old || !old.equals(readFileSync(join(out, name)))) differs.push(name);
  }
  rmSync(out, { recursive: true, force: true });
  if (differs.length) {
    console.error(`clients/docs/dist differs from the sources: ${differs.join(", ")}; run npm run build`);
    process.exit(1);
  }
}
