"""output: { schema } — JSON answers checked against a JSON Schema.

500 files go to dropd-fake-llm with a schema, each with a marker that
tells the fake how to answer (see fake_llm/completion.hpp): valid JSON (no
marker: asked by response_format json_schema), JSON in a ```json fence,
after a <think> block, with prose around it, invalid only until corrected,
and always invalid. All but the always-invalid pass with `llm.json` the
fake's object; each invalid-once file cost exactly one extra request (the
fake's request log marks a follow-up by its assistant message); each
always-invalid file failed with kind invalid_output, its message naming the
schema errors, after one follow-up (max_repairs: 1). Then the same with
`stream: true`, and with `structured_output: prompt` (markers only).
"""

import collections
import json
import os
import tempfile

import dropd_e2e as e2e

SCHEMA = {
    "type": "object",
    "required": ["summary", "bytes"],
    "additionalProperties": False,
    "properties": {"summary": {"type": "string"}, "bytes": {"type": "integer", "minimum": 0}},
}

# marker -> how many files carry it (500 in all)
MIX = {"": 380, "json:fenced": 25, "json:think": 25, "json:prose": 20,
       "json:invalid-once": 30, "json:invalid": 20}


def structured_config(path, root, url, schema_path, endpoint_extra=()):
    dirs = e2e.write_config(path, root, url, max_in_flight=16)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    outbox = e2e.yq(dirs["outbox"])
    text = text.replace(f"output: {{ dir: {outbox} }}",
                        f"output: {{ dir: {outbox}, schema: {e2e.yq(schema_path)}, max_repairs: 1 }}")
    text = text.replace("    model: e2e-model\n",
                        "    model: e2e-model\n" + "".join(f"    {line}\n" for line in endpoint_extra))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return dirs


def make_files(mix):
    files = {}
    for marker, count in mix.items():
        for i in range(count):
            name = (marker.replace("json:", "") or "valid") + f"/f{i:03}.txt"
            files[name] = f"report {i} {marker or 'plain'} with some words\n".encode()
    return files


def expected_json(rel, data):
    user = e2e.user_message(rel, data)
    return {"summary": e2e.fake_content(user), "bytes": len(user)}


def run_case(work, fake, schema_path, tag, mix, endpoint_extra=()):
    config = os.path.join(work, f"{tag}.yaml")
    dirs = structured_config(config, os.path.join(work, tag), fake.url, schema_path, endpoint_extra)
    files = make_files(mix)
    e2e.write_files(dirs["inbox"], files)
    before = len(fake.requests())
    res = e2e.run_dropd(["--config", config, "--once"], timeout=120)
    want_exit = 3 if mix.get("json:invalid") else 0
    e2e.check(res.returncode == want_exit, f"[{tag}] exit {res.returncode}, want {want_exit}: "
              f"{res.stderr.decode()[-2000:]}")
    ok, bad = e2e.check_outcomes(dirs, set(files))
    invalid = {rel for rel in files if rel.startswith("invalid/")}
    e2e.check(bad == invalid, f"[{tag}] failed {sorted(bad - invalid)[:5]} "
              f"passed {sorted(invalid - bad)[:5]}")
    for rel in ok:
        doc = e2e.load_json(os.path.join(dirs["outbox"], rel + ".json"))
        llm = doc["llm"]
        e2e.check(llm.get("json") == expected_json(rel, files[rel]),
                  f"[{tag}] {rel}: llm.json {llm.get('json')!r}")
        repairs = 1 if rel.startswith("invalid-once/") else 0
        e2e.check(llm["repairs"] == repairs and llm["attempts"] == 1 + repairs,
                  f"[{tag}] {rel}: repairs {llm['repairs']} attempts {llm['attempts']}")
    for rel in bad:
        err = e2e.load_json(os.path.join(dirs["failed"], rel + ".error.json"))["error"]
        e2e.check(err["kind"] == "invalid_output", f"[{tag}] {rel}: kind {err['kind']}")
        e2e.check("at /summary: " in err["message"] and "at /bytes: " in err["message"],
                  f"[{tag}] {rel}: message {err['message']!r}")
        e2e.check(len(err["message"]) <= 1100, f"[{tag}] {rel}: message of {len(err['message'])}")
        e2e.check(err["repairs"] == 1 and err["attempts"] == 2, f"[{tag}] {rel}: {err}")

    log = fake.requests()[before:]
    per_doc = collections.Counter(entry["document_words"].split()[0] for entry in log)
    repairs = collections.Counter(entry["document_words"].split()[0] for entry in log
                                  if entry.get("repair"))
    for rel in files:
        want = 2 if rel.startswith(("invalid-once/", "invalid/")) else 1
        e2e.check(per_doc[rel] == want, f"[{tag}] {rel}: {per_doc[rel]} requests, want {want}")
        e2e.check(repairs[rel] == want - 1, f"[{tag}] {rel}: {repairs[rel]} follow-ups")
    total = sum(mix.values()) + mix.get("json:invalid-once", 0) + mix.get("json:invalid", 0)
    e2e.check(len(log) == total, f"[{tag}] {len(log)} requests, want {total}")
    return len(ok), len(bad), len(log)


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-structured-") as work:
        schema_path = os.path.join(work, "summary.schema.json")
        with open(schema_path, "w", encoding="utf-8") as f:
            json.dump(SCHEMA, f, indent=2)
        fake = e2e.Fake(work)
        try:
            ok, bad, sent = run_case(work, fake, schema_path, "plain", MIX)
            e2e.note(f"500 files: {ok} passed, {bad} invalid_output, {sent} requests "
                     f"({MIX['json:invalid-once'] + MIX['json:invalid']} follow-ups)")
            small = {marker: 4 for marker in MIX}
            run_case(work, fake, schema_path, "stream", small, ["stream: true"])
            e2e.note("the same with stream: true")
            prompt_mix = {"json:valid": 4, "json:fenced": 2, "json:invalid-once": 2,
                          "json:invalid": 2}
            run_case(work, fake, schema_path, "prompt", prompt_mix,
                     ["structured_output: prompt"])
            e2e.note("structured_output: prompt")
        finally:
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("structured_output", main)
