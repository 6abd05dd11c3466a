"""Reads an initsweep OUTDIR's files with their types.

    import initsweep_results as ir
    res = ir.load("results/quickstart")          # numpy structured arrays
    res.runs["outcome"], res.boundary["lr_boundary"], res.axes["runs"]
    frames = ir.load("results/quickstart", pandas=True)   # pandas DataFrames
    frames.fit[frames.fit["model"] == "flat_power"]

Types come from schema.json beside this file (what `initsweep --schema`
prints, from the tables that write the files): ints are int64; reals are
float64, an empty field (not defined: no edge, never converged) NaN and
"inf" +inf; an `epoch` (epoch_converged, eos_epoch) is float64 with NaN for
"never" (pandas: nullable Int64); the outcome is a string (pandas: a
categorical in the schema's order).  Axis columns (`task` and one per sweep
axis, before the statistics) are int64 when every value is an integer,
float64 when every value is a number, strings otherwise (model.hidden's
"[16, 16]").  Only numpy is needed; pandas only for pandas=True.  Bad
input raises ResultsError naming the file, the line and what was found.

It also holds the small readers analysis/plot.py shares: the resolved
spec.yaml as {dotted key: value}, and the schema.
"""
import csv
import json
import math
import os
import re

import numpy as np

TABLES = ("runs", "cells", "boundary", "fit", "geometry")
_INT = re.compile(r"^-?[0-9]+$")


class ResultsError(Exception):
    """Bad input: 'PATH: MESSAGE'."""

    def __init__(self, path, message):
        super().__init__("%s: %s" % (path, message))
        self.path = path


# ---- the files' contract ------------------------------------------------------------------

def load_schema():
    """schema.json beside this file: {"outcomes": [...], "files": {...}}."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


SCHEMA = load_schema()
OUTCOMES = tuple(SCHEMA["outcomes"])


def column_types(table):
    """{column: type} of a file's statistics columns, in file order: int,
    real, epoch, outcome or name."""
    f = SCHEMA["files"][table + ".csv"]
    if table == "runs":
        return {c["name"]: c["type"] for c in f["columns"]}
    return {c: f["types"][c] for c in f["columns"]}


# ---- small readers shared with plot.py ----------------------------------------------------

def num(text):
    """A CSV field as a float: '' (not defined) is NaN, 'inf' is +inf."""
    if text is None or text == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def is_number(text):
    try:
        return math.isfinite(float(text))
    except (TypeError, ValueError):
        return False


def parse_scalar(text):
    """A YAML flow scalar or flow sequence as a string or list of strings
    (quotes removed).  Enough for the resolved spec.yaml initsweep writes."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [parse_scalar(t) for t in inner.split(",")] if inner else []
    return text


def strip_comment(line):
    """The line without a trailing ' # comment' outside quotes."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def read_spec(path):
    """The resolved spec.yaml as {dotted key: value} (values are strings or
    lists of strings).  A deliberately small reader instead of PyYAML:
    initsweep writes this file itself (isw_spec_write) as two-level
    'section:' / '  key: value' blocks.  {} when the file is absent."""
    spec = {}
    if not os.path.isfile(path):
        return spec
    section = None
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ResultsError(path, "cannot read: %s" % e)
    for line in lines:
        line = strip_comment(line).rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        key, sep, value = line.strip().partition(":")
        if not sep:
            continue
        if indent == 0:
            section = key if value.strip() == "" else None
            if value.strip():
                spec[key] = parse_scalar(value)
        elif section is not None and indent <= 2:
            spec[section + "." + key] = parse_scalar(value)
    return spec


# ---- typed tables -------------------------------------------------------------------------

def read_csv_rows(path):
    """(header, rows of strings); ResultsError when missing, unreadable,
    empty or ragged."""
    if not os.path.isfile(path):
        raise ResultsError(path, "no such file (has the sweep run? 'initsweep summarize "
                                 "OUTDIR' rewrites the summaries from runs.csv)")
    try:
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            body = [r for r in reader if r]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ResultsError(path, "cannot read: %s" % e)
    if not header:
        raise ResultsError(path, "empty file (no header)")
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise ResultsError(path, "line %d has %d fields, the header %d"
                               % (i + 2, len(r), len(header)))
    return header, body


def _axis_type(values):
    present = [v for v in values if v != ""]
    if present and all(_INT.match(v) for v in present):
        return "int"
    if present and all(_parses(v) for v in present):
        return "real"
    return "name"


def _parses(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _column(path, name, kind, values):
    """One column as a numpy array of its type; ResultsError naming the
    first bad value."""
    if kind in ("name", "outcome"):
        if kind == "outcome":
            for i, v in enumerate(values):
                if v not in OUTCOMES:
                    raise ResultsError(path, "line %d: %s is %r, expected one of %s"
                                       % (i + 2, name, v, ", ".join(OUTCOMES)))
        width = max([len(v) for v in values] + [1])
        return np.array(values, dtype="U%d" % width)
    out = np.empty(len(values), dtype=np.int64 if kind == "int" else np.float64)
    for i, v in enumerate(values):
        try:
            if kind == "int":
                out[i] = int(v)
            else:
                out[i] = math.nan if v == "" else float(v)
        except ValueError:
            raise ResultsError(path, "line %d: %s is %r, expected %s" % (
                i + 2, name, v, "an integer" if kind == "int" else
                "a number or empty" if kind == "real" else "an epoch or empty (never)"))
    return out


class Results:
    """The typed tables of one OUTDIR (None when not asked for), the axis
    columns of each, and the resolved spec."""

    def __init__(self, outdir, spec):
        self.outdir, self.spec = outdir, spec
        self.runs = self.cells = self.boundary = self.fit = None
        self.axes = {}

    def __getitem__(self, table):
        return getattr(self, table)


def checked_types(path, header, table):
    """The table's column types, once the header is known to hold them all."""
    types = column_types(table)
    missing = [c for c in types if c not in header]
    if missing:
        raise ResultsError(path, "missing column%s %s (is this an initsweep %s.csv of this "
                                 "version?)" % ("s" if len(missing) > 1 else "",
                                                ", ".join(missing), table))
    return types


def read_table(outdir, table):
    """(array, axes): one file of OUTDIR as a numpy structured array with
    the columns' types (module doc), and its axis columns in file order."""
    path = os.path.join(outdir, table + ".csv")
    header, body = read_csv_rows(path)
    types = checked_types(path, header, table)
    axes = [c for c in header if c not in types]
    cols = list(zip(*body)) if body else [()] * len(header)
    arrays = []
    for name, values in zip(header, cols):
        values = list(values)
        kind = types.get(name) or ("int" if name == "task" else _axis_type(values))
        arrays.append(_column(path, name, kind, values))
    dtype = [(name, a.dtype) for name, a in zip(header, arrays)]
    out = np.empty(len(body), dtype=dtype)
    for name, a in zip(header, arrays):
        out[name] = a
    return out, [a for a in axes if a != "task"]


def read_frame(outdir, table):
    """(DataFrame, axes): one file of OUTDIR through pandas.read_csv (the
    fast path for millions of rows): the statistics columns with the
    schema's types, epochs as nullable Int64, the outcome as a categorical
    in the schema's order; axis columns as pandas infers them."""
    import pandas as pd
    path = os.path.join(outdir, table + ".csv")
    if not os.path.isfile(path):
        read_csv_rows(path)    # its message for a missing file
    header = _header(path)
    types = checked_types(path, header, table)
    want = {"int": "int64", "real": "float64", "epoch": "float64", "name": "object",
            "outcome": "object"}
    try:
        # round_trip: the %.17g the files hold read back to the same double
        # (pandas' default parser can be an ulp off)
        frame = pd.read_csv(path, dtype={c: want[k] for c, k in types.items()},
                            float_precision="round_trip",
                            keep_default_na=False, na_values={c: [""] for c, k in types.items()
                                                             if k in ("real", "epoch")})
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise ResultsError(path, "cannot read: %s" % e)
    for name, kind in types.items():
        if kind == "epoch":
            frame[name] = frame[name].astype("Int64")
        elif kind == "outcome":
            bad = ~frame[name].isin(OUTCOMES)
            if bad.any():
                i = int(bad.to_numpy().nonzero()[0][0])
                raise ResultsError(path, "line %d: %s is %r, expected one of %s"
                                   % (i + 2, name, frame[name].iloc[i], ", ".join(OUTCOMES)))
            frame[name] = pd.Categorical(frame[name], categories=list(OUTCOMES))
    return frame, [c for c in header if c not in types and c != "task"]


def _header(path):
    try:
        with open(path, newline="") as f:
            header = next(csv.reader(f), None)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ResultsError(path, "cannot read: %s" % e)
    if not header:
        raise ResultsError(path, "empty file (no header)")
    return header


def load(outdir, tables=TABLES, pandas=False):
    """The tables of OUTDIR (runs, cells, boundary, fit: any subset), typed,
    as numpy structured arrays, or pandas DataFrames with pandas=True."""
    if not os.path.isdir(outdir):
        raise ResultsError(outdir, "no such results directory")
    res = Results(outdir, read_spec(os.path.join(outdir, "spec.yaml")))
    for t in tables:
        if t not in TABLES:
            raise ResultsError(outdir, "no table %r (tables: %s)" % (t, ", ".join(TABLES)))
        data, axes = read_frame(outdir, t) if pandas else read_table(outdir, t)
        setattr(res, t, data)
        res.axes[t] = axes
    return res
