"""Renders every case of the corpus with real Jinja2, as kolla-build would, and prints the results as JSON.

Usage: python3 test/jinja/render.py CORPUS_DIR
Output: {"<case>": {"text": "..."} | {"error": "...", "type": "...", "lineno": n}}

Cases:
  cases/<name>.j2 (+ optional cases/<name>.json: the context)
  errors/<name>.j2 (+ optional context json): expected to fail
  overrides/<name>.case.json: {"template": ..., "overrides": [...], "context": {...}}
  strict/<name>.j2 (+ optional context json): rendered with StrictUndefined (kolla-gen's --strict-undefined);
      a case with a <name>.expect.json is expected to fail
"""
import json
import os
import sys
import traceback

try:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment
except ImportError:  # the vitest side turns this into a failing test with the fix
    print(json.dumps({"__error__": "jinja2 is not importable: apt-get install python3-jinja2"}))
    sys.exit(0)


@jinja2.pass_context
def customizable(context, val_list, call_type):
    """kolla's filter, re-stated: <image>_<name>_override replaces, _append extends, _remove drops items."""
    if isinstance(val_list, jinja2.Undefined):
        return val_list
    prefix = context["image_name"].replace("-", "_") + "_" + call_type + "_"
    if prefix + "override" in context:
        return context[prefix + "override"]
    if prefix + "append" in context:
        val_list.extend(context[prefix + "append"])
    if prefix + "remove" in context:
        for item in context[prefix + "remove"]:
            if item in val_list:
                val_list.remove(item)
    return val_list


def merge_overrides(root, files):
    """kolla-build's rule: the first file whole, each later one after a newline without its first line."""
    merged = None
    for path in files:
        with open(os.path.join(root, path)) as f:
            text = f.read()
        if merged is None:
            merged = text
        else:
            newline = text.find("\n")
            merged += "\n" + ("" if newline < 0 else text[newline:])
    return merged


def error_result(exc):
    lineno = getattr(exc, "lineno", None)
    if lineno is None:
        # runtime errors: the innermost template frame of the traceback
        for frame, line in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename.endswith(".j2") or frame.f_code.co_filename == "<template>":
                lineno = frame.f_globals.get("__jinja_template__").get_corresponding_lineno(line) if frame.f_globals.get("__jinja_template__") else line
    return {"error": str(exc), "type": type(exc).__name__, "lineno": lineno}


def main():
    root = sys.argv[1]
    env = SandboxedEnvironment(loader=jinja2.FileSystemLoader(root), autoescape=False)
    env.filters["customizable"] = customizable
    results = {}

    def load_context(path):
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)
        return {}

    for group in ("cases", "errors"):
        folder = os.path.join(root, group)
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".j2"):
                continue
            case = group + "/" + name
            context = load_context(os.path.join(folder, name[:-3] + ".json"))
            try:
                results[case] = {"text": env.get_template(case).render(**context)}
            except Exception as exc:  # noqa: BLE001 - every failure is a result
                results[case] = error_result(exc)

    strict_env = SandboxedEnvironment(loader=jinja2.FileSystemLoader(root), autoescape=False, undefined=jinja2.StrictUndefined)
    folder = os.path.join(root, "strict")
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".j2"):
            continue
        case = "strict/" + name
        context = load_context(os.path.join(folder, name[:-3] + ".json"))
        try:
            results[case] = {"text": strict_env.get_template(case).render(**context)}
        except Exception as exc:  # noqa: BLE001
            results[case] = error_result(exc)

    folder = os.path.join(root, "overrides")
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".case.json"):
            continue
        case = "overrides/" + name
        with open(os.path.join(folder, name)) as f:
            spec = json.load(f)
        context = dict(spec.get("context", {}))
        try:
            template = env.from_string(merge_overrides(root, spec["overrides"]))
            context["parent_template"] = env.get_template(spec["template"])
            results[case] = {"text": template.render(**context)}
        except Exception as exc:  # noqa: BLE001
            results[case] = error_result(exc)

    json.dump(results, sys.stdout, indent=1, sort_keys=True)


main()
