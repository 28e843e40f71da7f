#!/usr/bin/env python3
"""Replaces the blanket `default` error response of every operation in openapi.yaml by the
error statuses the operation really answers, as references to shared components.

The contract is strict: the test harness (tests/src/contract.rs) and schemathesis's
status_code_conformance fail on any status an operation does not document, so an operation
must list each status it can answer. The rules below say which ones, from what the server
does for every route (api/src/problem.rs, api/src/body.rs, api/src/middleware.rs):

- 400 when the operation reads a path, query or body parameter (malformed input);
- 401 and 403 when it needs credentials (no or bad token; a role, organisation kind or
  second factor that does not allow it);
- 404 when its path names something (unknown ids and other organisations' data answer 404);
- 413 and 415 when it takes a body (size limit, content type);
- 429 where a per-address or per-account limit applies (listed in LIMITED below);
- 500 everywhere (an unexpected failure answers a Problem, never a stack trace).

Statuses an operation documents explicitly (with its own description) are kept as they are.
The script is idempotent: it replaces a `default` response, adds to every operation the
statuses of the rules it does not list yet (a merge can bring a request body without its
413/415), drops a status listed twice in one operation (keeping the first), and adds the
shared components once. Run it after adding a route written with `default`:

    python3 tools/openapi_statuses.py openapi.yaml
"""
import re
import sys

COMPONENTS = {
    "400": ("BadRequest", "The request is malformed: a parameter or the body does not match the contract."),
    "401": ("Unauthorized", "No credentials, or credentials that are expired, revoked or wrong."),
    "403": ("Forbidden", "The caller's role, organisation or second factor does not allow this."),
    "404": ("NotFound", "Nothing with this identifier is visible to the caller."),
    "413": ("PayloadTooLarge", "The body is larger than the limit."),
    "415": ("UnsupportedMediaType", "The body's content type is not the one the operation takes."),
    "429": ("TooManyRequests", "Too many requests from this client or account; retry after the delay given."),
    "500": ("InternalError", "An unexpected failure; nothing about it is disclosed."),
}

# Operations limited per client address or per account (429 with Retry-After).
LIMITED = {
    "login",
}


def component_block():
    out = ["  responses:\n"]
    for status, (name, text) in COMPONENTS.items():
        out.append(f"    {name}:\n")
        out.append(f'      description: "{text}"\n')
        if status == "429":
            out.append("      headers:\n")
            out.append("        Retry-After:\n")
            out.append("          description: Seconds to wait before trying again.\n")
            out.append("          schema:\n")
            out.append("            type: integer\n")
            out.append("            minimum: 1\n")
        out.append("      content:\n")
        out.append("        application/problem+json:\n")
        out.append("          schema:\n")
        out.append("            $ref: '#/components/schemas/Problem'\n")
    return out


def rewrite(lines):
    out = []
    i = 0
    path = None
    op = None  # dict for the current operation
    pending = []  # (index in out where the default block was, op)
    while i < len(lines):
        line = lines[i]
        if op is not None and op["in_responses"] and line.strip() and not line.startswith("        "):
            # The end of an operation's responses: the rule's statuses it lacks go here.
            op["in_responses"] = False
            if not op["placed"]:
                op["placed"] = True
                pending.append((len(out), op))
                out.append(None)
        m = re.match(r"^  (/\S*):\s*$", line)
        if m:
            path = m.group(1)
        m = re.match(r"^    (get|put|post|patch|delete):\s*$", line)
        if m and path is not None:
            op = {"path": path, "id": None, "secured": True, "params": False, "body": False, "statuses": set(), "in_responses": False, "placed": False}
        if op is not None:
            if m := re.match(r"^      operationId:\s*(\S+)", line):
                op["id"] = m.group(1)
            if re.match(r"^      security:\s*\[\]\s*$", line):
                op["secured"] = False
            if re.match(r"^      parameters:", line):
                op["params"] = True
            if re.match(r"^      requestBody:", line):
                op["body"] = True
            if re.match(r"^      responses:\s*$", line):
                op["in_responses"] = True
            if m := re.match(r"^        '(\d{3})':", line):
                if m.group(1) in op["statuses"]:
                    # A status listed twice (a merge can do that): the first one stays.
                    i += 1
                    while i < len(lines) and lines[i].startswith("         "):
                        i += 1
                    continue
                op["statuses"].add(m.group(1))
            if re.match(r"^        default:\s*$", line):
                # Skip the default block (its lines are indented deeper than 8 spaces).
                i += 1
                while i < len(lines) and (lines[i].startswith("         ") or not lines[i].strip()):
                    i += 1
                op["placed"] = True
                pending.append((len(out), op))
                out.append(None)
                continue
        if line.startswith("components:"):
            path = None
            op = None
        out.append(line)
        i += 1

    for index, op in pending:
        wanted = []
        if op["params"] or op["body"] or "{" in op["path"]:
            wanted.append("400")
        if op["secured"]:
            wanted += ["401", "403"]
        if "{" in op["path"]:
            wanted.append("404")
        if op["body"]:
            wanted += ["413", "415"]
        if op["id"] in LIMITED:
            wanted.append("429")
        wanted.append("500")
        block = []
        for status in wanted:
            if status in op["statuses"]:
                continue
            block.append(f"        '{status}':\n")
            block.append(f"          $ref: '#/components/responses/{COMPONENTS[status][0]}'\n")
        out[index] = "".join(block)

    text = "".join(out)
    if "\n  responses:\n    BadRequest:" not in text:
        text = text.replace("\n  schemas:\n", "\n" + "".join(component_block()) + "  schemas:\n", 1)
    return text


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "openapi.yaml"
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    text = rewrite(lines)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
