// Builds the app into dist/, which relais embeds and serves at /app. The build is
// deterministic (fixed names, no source maps, one minified bundle), so CI rebuilds it and
// `node build.mjs --check` fails when the committed dist/ differs from what the sources give,
// or when a text people read is left untranslated or sloppy (check-strings.mjs says which).
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const check = process.argv.includes("--check");
const out = check ? mkdtempSync(join(tmpdir(), "relais-app-")) : join(here, "dist");

// The typed client lives beside the app; its one dependency resolves from the app's own
// node_modules, wherever the client's folder was installed or not.
const resolveFromApp = {
  name: "resolve-from-app",
  setup(build) {
    build.onResolve({ filter: /^@relais\/api-client$/ }, () => ({
      path: join(here, "../typescript/src/index.ts"),
    }));
    build.onResolve({ filter: /^openapi-fetch$/ }, () => ({ path: require.resolve("openapi-fetch") }));
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [join(here, "src/main.tsx")],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020", "chrome100", "safari15", "firefox100"],
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "none",
  charset: "utf8",
  outfile: join(out, "app.js"),
  plugins: [resolveFromApp],
  logLevel: "warning",
});
await esbuild.build({
  entryPoints: [join(here, "src/app.css")],
  bundle: true,
  minify: true,
  charset: "utf8",
  outfile: join(out, "app.css"),
  logLevel: "warning",
});
for (const name of readdirSync(join(here, "public"))) {
  writeFileSync(join(out, name), readFileSync(join(here, "public", name)));
}
// The service worker's cache is named after the shell's content: a new build replaces it.
const shell = ["index.html", "app.js", "app.css", "manifest.webmanifest", "icon.svg"];
const hash = createHash("sha256");
for (const name of shell) hash.update(readFileSync(join(out, name)));
const version = hash.digest("hex").slice(0, 16);
const worker = readFileSync(join(here, "src/sw.js"), "utf8").replace("__VERSION__", version);
writeFileSync(join(out, "sw.js"), worker);

if (check) {
  const committed = join(here, "dist");
  const names = (dir) => readdirSync(dir).sort();
  const built = names(out);
  let differ = JSON.stringify(built) !== JSON.stringify(names(committed));
  for (const name of built) {
    let theirs = null;
    try {
      theirs = readFileSync(join(committed, name));
    } catch {}
    if (!theirs || !theirs.equals(readFileSync(join(out, name)))) {
      console.error(`dist/${name} does not match the sources: run npm run build and commit dist/`);
      differ = true;
    }
  }
  rmSync(out, { recursive: true, force: true });
  // TypeScript (a dev dependency) parses the sources: loaded only for the check.
  const { checkStrings, printProblems } = await import("./check-strings.mjs");
  const problems = checkStrings();
  printProblems(problems);
  if (differ || problems.length) process.exit(1);
  console.log(`dist/ matches the sources (${built.length} files, shell ${version}); texts checked`);
} else {
  console.log(`built dist/ (shell ${version})`);
}
