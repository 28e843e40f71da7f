// The texts people read, checked in the sources (src/**/*.ts, src/**/*.tsx) by `node build.mjs
// --check`, or alone with `node check-strings.mjs [file…]`. A pair is French first, English
// second: the two texts of `L(fr, en)`, and a two-text array given as an object's property (the
// labels table, the forms of `count()`). It fails, naming file and line, when:
//   - a pair's French and English are the same text of 4 letters or more (left untranslated),
//     unless the text is in SAME_IN_BOTH below;
//   - a pair's text writes a plural or a feminine in brackets, "demande(s)", "créneau(x)",
//     "inscrit(e)": `count()` picks the form, and the staff's words are written "écoutant·e";
//   - a JSX text has letters outside L() ("<p>Bonjour</p>"), unless it is in SAME_IN_BOTH;
//   - an aria-label, title, placeholder, alt or label attribute is a plain text with letters.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));

/** Texts that are rightly the same in French and English. Keep it short: each entry says why. */
export const SAME_IN_BOTH = new Set([
  // Proper nouns: the product, a messaging service.
  "Relais",
  "Telegram",
  // Autonyms: a language is offered under its own name, whatever the interface's language.
  "Français",
  "English",
  // French administrative units, kept in French in the English texts (no English equivalent).
  "Commune",
  "Département",
  "Départements",
  // Words spelt the same in both languages, with the same meaning here.
  "Active",
  "Addiction",
  "Alias",
  "Centre",
  "Centres",
  "Conversation",
  "Information",
  "Latitude",
  "Longitude",
  "Menu",
  "Notes",
  "Placement",
  "Placements",
  "Source",
  "Total",
]);

const BRACKETED = /\p{L}\((?:s|x|e|es|le|les|ne|nes|se|ses|rice|rices|trice|trices|euse|euses)\)/iu;
const LETTERS = /\p{L}/gu;
const TEXT_ATTRIBUTES = new Set(["aria-label", "title", "placeholder", "alt", "label"]);

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts")) yield path;
  }
}

/** A literal's text, each `${…}` kept as written; undefined for anything but a literal. */
function literal(node, file) {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) {
    return node.head.text + node.templateSpans.map((s) => `\${${s.expression.getText(file)}}` + s.literal.text).join("");
  }
  return undefined;
}

/** The letters of a text, its `${…}` parts left out. */
const letterCount = (text) => (text.replace(/\$\{[^}]*\}/g, "").match(LETTERS) ?? []).length;

export function checkFile(path, source = readFileSync(path, "utf8")) {
  const file = ts.createSourceFile(path, source, ts.ScriptTarget.Latest, true, path.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const problems = [];
  const report = (node, message) => {
    const { line } = file.getLineAndCharacterOfPosition(node.getStart(file));
    problems.push({ path, line: line + 1, message });
  };
  const pair = (node, fr, en) => {
    const french = literal(fr, file);
    const english = literal(en, file);
    if (french !== undefined && english !== undefined && french.trim() === english.trim() && letterCount(french) >= 4 && !SAME_IN_BOTH.has(french.trim())) {
      report(node, `French and English are the same, is it translated? "${french}"`);
    }
    for (const [text, language] of [
      [french, "French"],
      [english, "English"],
    ]) {
      const found = text === undefined ? null : BRACKETED.exec(text);
      if (found) report(node, `${language} text with "${found[0].slice(1)}": use count() for a plural, "·" for the staff's words: "${text}"`);
    }
  };
  const visit = (node) => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "L" && node.arguments.length === 2) {
      pair(node, node.arguments[0], node.arguments[1]);
    } else if (ts.isArrayLiteralExpression(node) && node.elements.length === 2 && ts.isPropertyAssignment(node.parent)) {
      const [fr, en] = node.elements;
      if (literal(fr, file) !== undefined && literal(en, file) !== undefined) pair(node, fr, en);
    } else if (ts.isJsxText(node)) {
      const text = node.text.trim();
      if (letterCount(text) > 0 && !SAME_IN_BOTH.has(text)) report(node, `text outside L(): "${text.replace(/\s+/g, " ")}"`);
    } else if (ts.isJsxAttribute(node) && TEXT_ATTRIBUTES.has(node.name.getText(file)) && node.initializer && ts.isStringLiteral(node.initializer)) {
      if (letterCount(node.initializer.text) > 0 && !SAME_IN_BOTH.has(node.initializer.text)) report(node, `${node.name.getText(file)} outside L(): "${node.initializer.text}"`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return problems;
}

/** Every problem in the app's sources (or in the files given). */
export function checkStrings(files = [...sources(join(here, "src"))]) {
  return files.flatMap((path) => checkFile(path));
}

export function printProblems(problems) {
  for (const p of problems) console.error(`${relative(here, p.path)}:${p.line}: ${p.message}`);
  if (problems.length) console.error(`texts: ${problems.length === 1 ? "1 problem" : `${problems.length} problems`}, see the rules in check-strings.mjs`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const given = process.argv.slice(2);
  const problems = checkStrings(given.length ? given : undefined);
  printProblems(problems);
  if (problems.length) process.exit(1);
  console.log("texts: every pair translated, no bracketed plural, no text outside L()");
}
