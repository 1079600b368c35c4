#!/usr/bin/env python3
"""Generates every table that follows from include/memphis.h.

The header is the one description of the C API; this script writes what
would otherwise be copied from it by hand:

  capi/shims.c                          the public entry points: fork guard,
                                        argument conversion, call into Go
  capi/libmemphis.map                   linker version script exporting
                                        exactly the header's functions
  capi/options_gen.go                   the Go exports of plain option
                                        setters/getters (memphis_*_opts_set_X
                                        / _get_X), bound to the sdk/ struct
                                        field named X
  bindings/python/memphis/_capi.py      ctypes declarations, enum values,
                                        option tables
  bindings/ruby/lib/memphis/capi.rb     ffi attach_function table (blocking
                                        calls release the GVL), structs,
                                        enum values, option tables

Functions declared MEMPHIS_BLOCKING in the header may wait (network, flush,
poll); the Ruby table attaches them with `blocking: true`.

usage:  python3 capi/gen_shims.py --write   rewrite every generated file
        python3 capi/gen_shims.py --check   exit 1 naming stale files
        python3 capi/gen_shims.py           print shims.c (older usage)
        python3 capi/gen_shims.py --map     print libmemphis.map
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))
HEADER = os.path.join(REPO, "include", "memphis.h")

OUT_SHIMS = "capi/shims.c"
OUT_MAP = "capi/libmemphis.map"
OUT_GO = "capi/options_gen.go"
OUT_PY = "bindings/python/memphis/_capi.py"
OUT_RB = "bindings/ruby/lib/memphis/capi.rb"

SCALARS = {"int", "int64_t", "uint64_t", "size_t", "bool"}
PURE_C = {"memphis_error_status"}  # implemented in status.c, never enters Go

# Options objects: C kind -> (sdk struct, handle kind in capi/table.go).
OPTS_KINDS = {
    "conn": ("ConnectOptions", "kindConnOpts"),
    "station": ("StationOptions", "kindStationOpts"),
    "producer": ("ProducerOptions", "kindProducerOpts"),
    "consumer": ("ConsumerOptions", "kindConsumerOpts"),
}


# --------------------------------------------------------------------------
# Parsing the header
# --------------------------------------------------------------------------


def norm(t):
    """A C type without spaces: 'const memphis_conn_t *' -> 'constmemphis_conn_t*'."""
    return t.replace(" ", "")


def split_params(params):
    params = " ".join(params.split())
    if params in ("", "void"):
        return []
    out = []
    for p in params.split(","):
        p = p.strip()
        m = re.match(r"^(.*?)(\w+)$", p)
        out.append((m.group(1).replace(" *", "*").replace("* ", "*").strip(), m.group(2)))
    return out


class Header:
    def __init__(self, text):
        self.raw = text
        code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        self.functions = []  # (name, ret, params [(type, name)], blocking, raw params)
        for m in re.finditer(
            r"MEMPHIS_API\s+(MEMPHIS_BLOCKING\s+)?((?:const\s+)?\w+(?:\s*\*)*)\s*(memphis_\w+)\s*\(([^)]*)\)\s*;", code
        ):
            blocking, ret, name, params = m.groups()
            self.functions.append((name, " ".join(ret.split()), split_params(params), bool(blocking), params))
        self.enums = []  # (typedef name, [(enumerator, value)])
        for m in re.finditer(r"typedef\s+enum\s+\w+\s*\{(.*?)\}\s*(\w+)\s*;", code, flags=re.S):
            values = [(n, int(v)) for n, v in re.findall(r"(\w+)\s*=\s*(-?\d+)", m.group(1))]
            self.enums.append((m.group(2), values))
        self.structs = []  # (typedef name, [(type, field)])
        for m in re.finditer(r"typedef\s+struct\s+\w+\s*\{(.*?)\}\s*(\w+)\s*;", code, flags=re.S):
            fields = []
            for decl in m.group(1).split(";"):
                decl = " ".join(decl.split())
                if decl:
                    fm = re.match(r"^(.*?)(\w+)$", decl)
                    fields.append((fm.group(1).replace(" *", "*").replace("* ", "*").strip(), fm.group(2)))
            self.structs.append((m.group(2), fields))
        self.callbacks = []  # (typedef name, ret, params)
        for m in re.finditer(r"typedef\s+(\w+)\s*\(\s*\*\s*(\w+)\s*\)\s*\(([^)]*)\)\s*;", code):
            self.callbacks.append((m.group(2), m.group(1), split_params(m.group(3))))
        self.handles = set(re.findall(r"typedef\s+struct\s+\w+\s+(memphis_\w+_t)\s*;", code))
        self.enum_types = {name for name, _ in self.enums}
        self.struct_types = {name for name, _ in self.structs}
        self.callback_types = {name for name, _, _ in self.callbacks}


def handle_kind(t):
    m = re.match(r"^(?:const)?memphis_(\w+)_t(\*+)(const\*)?$", norm(t))
    if m:
        return m.group(1), m.group(2), bool(m.group(3))
    return None, None, None


# --------------------------------------------------------------------------
# capi/shims.c and capi/libmemphis.map
# --------------------------------------------------------------------------


def shim_arg(h, t, name, pre, post):
    """Returns the argument expression passed to the Go export."""
    tn = norm(t)
    if tn == "memphis_error_t**":
        return "err ? &msg__ : NULL"
    kind, stars, const_arr = handle_kind(t)
    if kind and f"memphis_{kind}_t" in h.handles:
        if const_arr or (kind == "msg" and name == "msgs" and stars == "**"):
            return f"(uint64_t *)(uintptr_t){name}"
        if stars == "*":
            return f"(uint64_t)(uintptr_t){name}"
        if stars == "**":
            pre.append(f"uint64_t {name}__ = 0;")
            post.append(f"if ({name}) *{name} = st__ == MEMPHIS_OK ? (memphis_{kind}_t *)(uintptr_t){name}__ : NULL;")
            return f"{name} ? &{name}__ : NULL"
        if stars == "***":
            pre.append(f"uint64_t *{name}__ = NULL;")
            post.append(f"if ({name}) *{name} = (memphis_{kind}_t **)(void *){name}__;")
            return f"{name} ? &{name}__ : NULL"
    table = {
        "constchar*": f"(char *){name}",
        "char**": name,
        "constchar**": f"(char **){name}",
        "constvoid*": f"(void *){name}",
        "constvoid**": f"(void **){name}",
        "constvoid*const*": f"(void **)(uintptr_t){name}",
        "constsize_t*": f"(size_t *){name}",
        "void*": f"(uintptr_t){name}",
        "void*const*": f"(uintptr_t *)(uintptr_t){name}",
        "constmemphis_produce_opts_t*": f"(memphis_produce_opts_t *){name}",
        "memphis_event_t*": name,
    }
    if tn in table:
        return table[tn]
    if tn in h.callback_types:
        return f"(uintptr_t){name}"
    if tn in SCALARS or (tn.rstrip("*") in SCALARS and tn.endswith("*")):
        return name
    if tn in h.enum_types:
        return f"(int){name}"
    if tn.rstrip("*") in h.enum_types:
        return f"(int *){name}"
    raise SystemExit(f"gen_shims: no shim conversion for '{t} {name}'")


def gen_shims(h):
    out = [
        "/* shims.c - GENERATED by capi/gen_shims.py from include/memphis.h; do not edit.",
        " * Public entry points: fork guard, argument conversion, call into Go. */",
        '#include "_cgo_export.h"',
        '#include "internal.h"',
        "",
    ]
    for fname, ret, ps, _blocking, raw in h.functions:
        if ret != "memphis_status_t" or fname in PURE_C:
            continue
        pre, post = [], []
        args = [shim_arg(h, t, n, pre, post) for t, n in ps]
        goname = "memphis_go_" + fname[len("memphis_") :]
        sig = ", ".join(" ".join(raw.split()).split(", "))
        out.append(f"memphis_status_t {fname}({sig})")
        out.append("{")
        out.append("    if (memphis_capi_forked)")
        out.append("        return memphis_capi_finish(MEMPHIS_ERR_FORKED, NULL, err);")
        out.append("    char *msg__ = NULL;")
        out += ["    " + line for line in pre]
        out.append(f"    int st__ = {goname}({', '.join(args)});")
        out += ["    " + line for line in post]
        out.append("    return memphis_capi_finish(st__, msg__, err);")
        out.append("}")
        out.append("")
    return "\n".join(out)


def gen_map(h):
    names = sorted(name for name, *_ in h.functions)
    lines = ["/* GENERATED by capi/gen_shims.py --map from include/memphis.h. */", "LIBMEMPHIS_1 {", "  global:"]
    lines += [f"    {n};" for n in names]
    lines += ["  local:", "    *;", "};", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Option setters and getters
# --------------------------------------------------------------------------


def option_functions(h):
    """Plain option accessors: (kind, 'set'|'get', option, C value type, param name, function).

    A plain accessor takes the options object, one value (or one out
    pointer) and err. Accessors with more values (set_retention) or extra
    arguments (get_station) are hand-written and not listed."""
    out = []
    for fname, ret, ps, _b, _raw in h.functions:
        m = re.match(r"^memphis_(\w+?)_opts_(set|get)_(\w+)$", fname)
        if not m or m.group(1) not in OPTS_KINDS or ret != "memphis_status_t" or len(ps) != 3:
            continue
        kind, verb, opt = m.groups()
        vtype, vname = ps[1]
        if verb == "get":
            if not norm(vtype).endswith("*"):
                continue
            vtype = vtype[:-1].strip() if vtype.endswith("*") else vtype
            if norm(vtype) == "char*":
                vtype = "const char *"
        if value_tag(h, vtype, strict=False) is None:
            continue  # e.g. get_station_count: not an option
        out.append((kind, verb, opt, vtype, vname, fname))
    return out


def value_tag(h, t, strict=True):
    tn = norm(t)
    if tn == "constchar*":
        return "str"
    if tn in h.enum_types:
        return "enum"
    if tn in ("int", "int64_t", "uint64_t", "bool"):
        return {"int64_t": "int64", "uint64_t": "uint64"}.get(tn, tn)
    if not strict:
        return None
    raise SystemExit(f"gen_shims: option value type '{t}' has no tag")


def sdk_structs():
    """Field name -> Go type of the sdk option structs."""
    src = ""
    sdk = os.path.join(REPO, "sdk")
    for f in sorted(os.listdir(sdk)):
        if f.endswith(".go") and not f.endswith("_test.go"):
            with open(os.path.join(sdk, f)) as fh:
                src += fh.read() + "\n"
    structs = {}
    for name, _ in OPTS_KINDS.values():
        m = re.search(r"^type\s+" + name + r"\s+struct\s*\{\n(.*?)^\}", src, flags=re.S | re.M)
        if not m:
            raise SystemExit(f"gen_shims: sdk.{name} not found in sdk/")
        fields = {}
        for line in m.group(1).splitlines():
            line = line.split("//")[0].strip()
            fm = re.match(r"^([A-Z]\w*(?:\s*,\s*[A-Z]\w*)*)\s+([\w.\[\]*]+)", line)
            if fm:
                for field in fm.group(1).split(","):
                    fields[field.strip()] = fm.group(2)
        structs[name] = fields
    return structs


def hand_written_exports():
    names = set()
    for f in os.listdir(HERE):
        if f.endswith(".go") and f != os.path.basename(OUT_GO) and not f.endswith("_test.go"):
            with open(os.path.join(HERE, f)) as fh:
                names |= set(re.findall(r"^//export (memphis_go_\w+)", fh.read(), flags=re.M))
    return names


def go_field(fields, struct, opt):
    """The sdk field an option names: case and underscores ignored, a _ms
    suffix dropped for time.Duration fields."""
    want = opt.replace("_", "").lower()
    for field, gotype in fields.items():
        if field.lower() == want:
            return field, gotype
        if gotype == "time.Duration" and opt.endswith("_ms") and field.lower() == want[: -len("ms")]:
            return field, gotype
    raise SystemExit(
        f"gen_shims: option '{opt}' names no field of sdk.{struct}; add the field, rename the "
        "option, or write its export by hand in capi/"
    )


GO_C = {"int": "C.int", "int64": "C.int64_t", "uint64": "C.uint64_t", "bool": "C.bool", "str": "*C.char"}


def gen_go(h):
    structs = sdk_structs()
    hand = hand_written_exports()
    out = [
        "// Code generated by capi/gen_shims.py from include/memphis.h and sdk/; DO NOT EDIT.",
        "",
        "package main",
        "",
        "/*",
        "#include <stdbool.h>",
        '#include "internal.h"',
        "*/",
        'import "C"',
        "",
        'import "github.com/libmemphis/libmemphis/sdk"',
        "",
        "// Plain option setters and getters: each one copies one value between",
        "// C and the sdk options struct field of the same name.",
    ]
    for kind, verb, opt, vtype, vname, fname in option_functions(h):
        goname = "memphis_go_" + fname[len("memphis_") :]
        if goname in hand:
            continue
        struct, hkind = OPTS_KINDS[kind]
        tag = value_tag(h, vtype)
        if tag == "enum":
            raise SystemExit(f"gen_shims: {fname} takes an enum; write its export by hand in capi/")
        field, gotype = go_field(structs[struct], struct, opt)
        ctype = GO_C[tag]
        out.append("")
        out.append(f"//export {goname}")
        if verb == "set":
            out.append(f"func {goname}(h C.uint64_t, v {ctype}, em **C.char) (st C.int) {{")
            out.append("\tdefer guard(&st, em)")
            if tag == "str":
                setter = "setPath" if vname == "path" else "setString"
                body = [f'return {setter}(em, v, "{opt}", &o.{field})']
            elif gotype == "time.Duration":
                body = [f'return setMillis(em, v, "{opt}", &o.{field})']
            else:
                body = [f"o.{field} = {gotype}(v)", "return statusOK"]
            out.append(f"\treturn optsSet(h, {hkind}, em, func(o *sdk.{struct}) C.int {{")
            out += ["\t\t" + line for line in body]
            out.append("\t})")
        else:
            out.append(f"func {goname}(h C.uint64_t, out *{ctype}, em **C.char) (st C.int) {{")
            out.append("\tdefer guard(&st, em)")
            if tag == "str":
                body = f"outString(out, o.{field})"
            elif gotype == "time.Duration":
                body = f"*out = millis(o.{field})"
            else:
                body = f"*out = {ctype}(o.{field})"
            out.append(f"\treturn optsGet(h, {hkind}, em, out != nil, func(o *sdk.{struct}) {{")
            out.append(f"\t\t{body}")
            out.append("\t})")
        out.append("}")
    out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------
# Python (ctypes)
# --------------------------------------------------------------------------

PY_SCALAR = {"int": "c_int", "int64_t": "c_int64", "uint64_t": "c_uint64", "size_t": "c_size_t", "bool": "c_bool"}


def camel(cname):
    base = re.sub(r"^memphis_", "", cname)
    base = re.sub(r"_(t|cb)$", lambda m: "_" + m.group(1) if m.group(1) == "cb" else "", base)
    return "".join(p.capitalize() for p in base.split("_"))


def py_type(h, t, ret=False, field=False):
    tn = norm(t)
    if tn == "void":
        return "None"
    if tn in PY_SCALAR:
        return PY_SCALAR[tn]
    if tn in h.enum_types:
        return "c_int"
    if tn in h.callback_types:
        return camel(tn)
    if tn == "constchar*":
        return "c_char_p"
    if tn == "char*":  # owned text the caller frees: keep the address
        return "c_void_p"
    if tn == "constvoid*":
        # An input buffer: bytes pass without a copy.
        return "c_void_p" if field else "c_char_p"
    if tn == "constvoid*const*":
        return "POINTER(c_char_p)"
    if tn in ("void*", "constvoid**", "char**"):
        return "c_void_p" if tn == "void*" else "POINTER(c_void_p)"
    if tn == "constchar**":
        return "POINTER(c_char_p)"
    if tn == "void*const*":
        return "POINTER(c_void_p)"
    base = tn.replace("const", "")
    stars = len(base) - len(base.rstrip("*"))
    base = base.rstrip("*")
    if base in h.struct_types:
        inner = camel(base)
    elif base in h.handles:
        inner, stars = "c_void_p", stars - 1
    elif base in h.enum_types:
        inner = "c_int"
    elif base in PY_SCALAR:
        inner = PY_SCALAR[base]
    else:
        raise SystemExit(f"gen_shims: no ctypes type for '{t}'")
    for _ in range(stars):
        inner = f"POINTER({inner})"
    return inner


def gen_py(h):
    out = [
        '"""GENERATED by capi/gen_shims.py from include/memphis.h; do not edit.',
        "",
        "ctypes declarations of the whole C API: enum values, structs, callback",
        "types, every function's result and argument types, and the option",
        'accessors by kind."""',
        "",
        "# ruff: noqa: E501",
        "from __future__ import annotations",
        "",
        "from ctypes import CFUNCTYPE, POINTER, Structure, c_bool, c_char_p, c_int, c_int64, c_size_t, c_uint64, c_void_p",
        "from typing import Any, Dict, List, Tuple",
        "",
    ]
    for ename, values in h.enums:
        out.append(f"# {ename}")
        for n, v in values:
            out.append(f"{n[len('MEMPHIS_'):]} = {v}")
        out.append("")
    for sname, fields in h.structs:
        out.append("")
        out.append(f"class {camel(sname)}(Structure):")
        out.append(f'    """{sname}"""')
        out.append("")
        out.append("    _fields_ = [")
        for t, n in fields:
            out.append(f'        ("{n}", {py_type(h, t, field=True)}),')
        out.append("    ]")
        out.append("")
    out.append("")
    for cname, ret, ps in h.callbacks:
        args = ", ".join([py_type(h, ret, ret=True)] + [py_type(h, t) for t, _ in ps])
        out.append(f"{camel(cname)} = CFUNCTYPE({args})")
    out.append("")
    out.append("# name -> (result type, argument types)")
    out.append("FUNCTIONS: Dict[str, Tuple[Any, List[Any]]] = {")
    for fname, ret, ps, _b, _raw in h.functions:
        args = ", ".join(py_type(h, t) for t, _ in ps)
        out.append(f'    "{fname}": ({py_type(h, ret, ret=True)}, [{args}]),')
    out.append("}")
    out.append("")
    out.append("# Option accessors: kind -> option -> (function, value type)")
    for verb in ("set", "get"):
        out.append(f"{'SETTERS' if verb == 'set' else 'GETTERS'}: Dict[str, Dict[str, Tuple[str, str]]] = {{")
        for kind in OPTS_KINDS:
            items = [
                (opt, fname, value_tag(h, vtype))
                for k, v, opt, vtype, _n, fname in option_functions(h)
                if k == kind and v == verb
            ]
            out.append(f'    "{kind}": {{')
            for opt, fname, tag in items:
                out.append(f'        "{opt}": ("{fname}", "{tag}"),')
            out.append("    },")
        out.append("}")
    out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------
# Ruby (ffi)
# --------------------------------------------------------------------------

RB_SCALAR = {"int": ":int", "int64_t": ":int64", "uint64_t": ":uint64", "size_t": ":size_t", "bool": ":bool"}


def rb_type(h, t, ret=False, field=False):
    tn = norm(t)
    if tn == "void":
        return ":void"
    if tn in RB_SCALAR:
        return RB_SCALAR[tn]
    if tn in h.enum_types:
        return ":int"
    if tn == "constchar*" and not ret and not field:
        return ":string"
    if tn == "constvoid*" and not field:
        return ":buffer_in"
    return ":pointer"


def gen_rb(h):
    out = [
        "# frozen_string_literal: true",
        "",
        "# GENERATED by capi/gen_shims.py from include/memphis.h; do not edit.",
        "",
        'require "ffi"',
        "",
        "module Memphis",
        "  # The C API as the header declares it: enum values, structs, every",
        "  # function's argument and result types (blocking ones release the GVL),",
        "  # and the option accessors by kind.",
        "  module CAPI",
    ]
    for ename, values in h.enums:
        out.append(f"    # {ename}")
        for n, v in values:
            out.append(f"    {n[len('MEMPHIS_'):]} = {v}")
    for sname, fields in h.structs:
        out.append("")
        out.append(f"    # {sname}")
        out.append(f"    class {camel(sname)} < FFI::Struct")
        layout = ", ".join(f":{n}, {rb_type(h, t, field=True)}" for t, n in fields)
        out.append(f"      layout {layout}")
        out.append("    end")
    out.append("")
    out.append("    # name (without memphis_) => [argument types, result type, blocking]")
    out.append("    FUNCTIONS = {")
    for fname, ret, ps, blocking, _raw in h.functions:
        args = ", ".join(rb_type(h, t) for t, _ in ps)
        out.append(f"      {fname[len('memphis_'):]}: [[{args}], {rb_type(h, ret, ret=True)}, {'true' if blocking else 'false'}],")
    out.append("    }.freeze")
    out.append("")
    out.append("    # Functions ending in `memphis_error_t **err`: Call wraps them.")
    fallible = [f[len("memphis_") :] for f, ret, ps, _b, _r in h.functions if ps and norm(ps[-1][0]) == "memphis_error_t**"]
    out.append("    FALLIBLE = %i[")
    line = "     "
    for name in fallible:
        if len(line) + len(name) + 1 > 110:
            out.append(line)
            line = "     "
        line += " " + name
    out.append(line)
    out.append("    ].freeze")
    for verb in ("set", "get"):
        out.append("")
        out.append("    # kind => option => [function (without memphis_), value type]")
        out.append(f"    {'SETTERS' if verb == 'set' else 'GETTERS'} = {{")
        for kind in OPTS_KINDS:
            out.append(f"      {kind}: {{")
            for k, v, opt, vtype, _n, fname in option_functions(h):
                if k == kind and v == verb:
                    out.append(f"        {opt}: [:{fname[len('memphis_'):]}, :{value_tag(h, vtype)}],")
            out.append("      }.freeze,")
        out.append("    }.freeze")
    out.append("  end")
    out.append("end")
    out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------


def outputs(h):
    return {
        OUT_SHIMS: gen_shims(h),
        OUT_MAP: gen_map(h),
        OUT_GO: gen_go(h),
        OUT_PY: gen_py(h),
        OUT_RB: gen_rb(h),
    }


def main():
    with open(HEADER) as fh:
        h = Header(fh.read())
    if "--map" in sys.argv:
        sys.stdout.write(gen_map(h))
        return 0
    if "--write" in sys.argv or "--check" in sys.argv:
        stale = []
        for rel, text in outputs(h).items():
            path = os.path.join(REPO, rel)
            try:
                with open(path) as fh:
                    current = fh.read()
            except FileNotFoundError:
                current = None
            if current == text:
                continue
            if "--check" in sys.argv:
                stale.append(rel)
            else:
                with open(path, "w") as fh:
                    fh.write(text)
                print(f"gen_shims: wrote {rel}")
        if stale:
            print("gen_shims: stale generated files (run python3 capi/gen_shims.py --write):", file=sys.stderr)
            for rel in stale:
                print("  " + rel, file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(gen_shims(h))
    return 0


if __name__ == "__main__":
    sys.exit(main())
