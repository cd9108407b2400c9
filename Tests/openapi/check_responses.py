"""Every JSON answer the HTTP tests received, checked against its schema in openapi.json (issue #18, item 7).

The Swift tests write one JSON line per API answer (method, path, status, body) when PLS_RESPONSES_LOG is set
(`ResponseRecorder` in Tests/PLSAppTests/TestApp.swift); scripts/test then runs this. Each answer is matched to its
operation by path template and method, and its body validated with `jsonschema` (OpenAPI 3.1 schemas are JSON Schema
2020-12) against the response declared for its status (or `default`). An answer whose path, method or status the
document does not declare fails too. Usage: check_responses.py <responses.jsonl> <openapi.json>
"""
import json
import re
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE = "urn:pls:openapi"


def main(log_path, doc_path):
    with open(doc_path, encoding="utf-8") as f:
        doc = json.load(f)
    registry = Registry().with_resource(BASE, Resource.from_contents(doc, default_specification=DRAFT202012))
    # Templates with fewer parameters first: "/requests/lookup" before "/requests/{id}".
    templates = sorted(doc["paths"], key=lambda t: (t.count("{"), -len(t)))
    patterns = [(t, re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t)) + "$")) for t in templates]
    validators = {}
    problems = {}
    checked = 0
    with open(log_path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            method, path, status = r["method"].lower(), r["path"], str(r["status"])
            template = next((t for t, p in patterns if p.match(path) and method in doc["paths"][t]), None)
            if template is None:
                # An address the document does not have: only the error body, with a 4xx (or a test's own 500).
                if status[0] not in "45":
                    problems.setdefault(f"{method.upper()} {path} {status}: no operation in openapi.json", path)
                    continue
                template, pointer = path, "#/components/responses/Error/content/application~1json/schema"
            else:
                responses = doc["paths"][template][method].get("responses", {})
                key = status if status in responses else (status[0] + "XX" if status[0] + "XX" in responses else "default")
                if key not in responses:
                    problems.setdefault(f"{method.upper()} {template} {status}: status not declared", path)
                    continue
                response = responses[key]
                base = ["#", "paths", template.replace("~", "~0").replace("/", "~1"), method, "responses", key]
                if "$ref" in response:  # a shared response (components/responses/Error)
                    base = response["$ref"].split("/")
                    response = doc
                    for part in base[1:]:
                        response = response[part]
                content = response.get("content", {}).get("application/json")
                if content is None or "schema" not in content:
                    problems.setdefault(f"{method.upper()} {template} {status}: no JSON schema declared", path)
                    continue
                pointer = "/".join(base + ["content", "application~1json", "schema"])
            validator = validators.get(pointer)
            if validator is None:
                validator = validators[pointer] = Draft202012Validator({"$ref": BASE + pointer}, registry=registry)
            body = json.loads(r["body"]) if r["body"] else None
            checked += 1
            for error in validator.iter_errors(body):
                where = "/".join(str(p) for p in error.absolute_path)
                problems.setdefault(f"{method.upper()} {template} {status} at '{where}': {error.message[:200]}", path)
    for problem, path in sorted(problems.items()):
        print(f"  {problem}   (e.g. {path})")
    print(f"{checked} JSON answers checked against openapi.json, {len(problems)} kinds of mismatch")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
