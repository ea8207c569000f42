"""Reply templates as CSV, for spreadsheets: ``code,title,language,text,tags``, one row
per template and language (a template's title and tags on its first row; later rows
may leave them empty or repeat them). Tags are separated by spaces or commas.

Import reads a whole file before anything is stored and refuses it with every bad row
numbered as a spreadsheet shows it (the header is row 1). UTF-8, with or without the
byte-order mark Excel writes; at most :data:`MAX_ROWS` rows and :data:`MAX_BYTES`.

Export writes the byte-order mark (so Excel reads Chinese text as UTF-8) and guards
against CSV injection (OWASP): a cell starting with ``= + - @``, a tab or a carriage
return — or with the guard ``'`` itself — gets a leading ``'``, which the spreadsheet
shows as text and import takes off again, so a file exported and imported unchanged
gives the templates back as they were.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError
from switchboard_sdk import InvalidInput

from .templates import CODE_PATTERN, LANGUAGE_PATTERN, RESERVED_CODES, TemplateDraft, check_text

COLUMNS = ("code", "title", "language", "text", "tags")
REQUIRED = ("code", "language", "text")
MAX_ROWS = 2_000
MAX_BYTES = 1_000_000
MAX_ERRORS_SHOWN = 100
BOM = "\ufeff"
GUARD = "'"
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", GUARD)


def export_csv(templates: Iterable[TemplateDraft]) -> str:
    """Every template, by code, one row per language; safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for template in sorted(templates, key=lambda t: t.code):
        for number, (language, text) in enumerate(template.texts.items()):
            title, tags = (template.title, " ".join(template.tags)) if number == 0 else ("", "")
            writer.writerow([_guarded(cell) for cell in (template.code, title, language, text, tags)])
    return BOM + out.getvalue()


def _guarded(cell: str) -> str:
    return GUARD + cell if cell.startswith(_TRIGGERS) else cell


def _unguarded(cell: str) -> str:
    return cell[1:] if cell.startswith(GUARD) and cell[1:].startswith(_TRIGGERS) else cell


@dataclass
class _Group:
    """The rows of one code."""

    first_row: int
    title: str
    tags: list[str]
    texts: dict[str, str] = field(default_factory=dict)
    bad: bool = False  # one of its rows is refused already: no more errors about the whole


def import_csv(text: str) -> list[TemplateDraft]:
    """The templates in a CSV file, in the file's order; :class:`InvalidInput` listing
    every bad row (``fields``: ``{"field": "row 7", "message": ...}``) otherwise."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_BYTES:,} bytes: split it",
                           [{"field": "(file)", "message": "too large"}])
    rows, errors = _rows(text.removeprefix(BOM))
    groups: dict[str, _Group] = {}
    for number, row in rows:
        problem = _add_row(groups, number, row)
        if problem:
            errors.append((number, problem))
    drafts: list[TemplateDraft] = []
    for code, group in groups.items():
        if group.bad:
            continue
        try:
            drafts.append(TemplateDraft(code=code, title=group.title, texts=group.texts, tags=group.tags))
        except ValidationError as err:
            detail = err.errors(include_input=False, include_url=False, include_context=False)
            errors += [(group.first_row, f"{'.'.join(map(str, d['loc']))}: {d['msg']}") for d in detail]
    if errors:
        raise _refused(errors)
    return drafts


def _rows(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """The data rows (numbered, header = row 1) as column → cell, and the errors so far."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        _check_header(header)
        rows: list[tuple[int, dict[str, str]]] = []
        errors: list[tuple[int, str]] = []
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines between blocks are fine
            if len(rows) == MAX_ROWS:
                raise InvalidInput(f"at most {MAX_ROWS:,} rows per file: split it",
                                   [{"field": f"row {number}", "message": "too many rows"}])
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
                errors.append((number, f"more cells than the header's {len(header)} columns"))
            rows.append((number, {name: _unguarded(cell) for name, cell in zip(header, cells, strict=False)}))
    except csv.Error as err:
        raise InvalidInput(f"not a readable CSV file near line {reader.line_num}: {err}",
                           [{"field": f"line {reader.line_num}", "message": str(err)}]) from None
    return rows, errors


def _check_header(header: list[str]) -> None:
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise InvalidInput(f"the first row must name the columns {','.join(COLUMNS)} (title and tags optional)",
                           [{"field": "row 1", "message": f"unknown: {', '.join(unknown) or '-'}; "
                                                          f"missing: {', '.join(missing) or '-'}"}])


def _add_row(groups: dict[str, _Group], number: int, row: dict[str, str]) -> str | None:
    """Add one row to its code's group; what is wrong with it, if anything."""
    code, language = row.get("code", "").strip(), row.get("language", "").strip()
    title, tags = row.get("title", "").strip(), [t for t in re.split(r"[,\s]+", row.get("tags", "")) if t]
    if not re.fullmatch(CODE_PATTERN, code):
        return "code: 1-40 lower-case letters, digits or _.- starting with a letter or digit"
    if code in RESERVED_CODES:
        return f"code: {code} names a route; choose another code"
    if len(language) > 35 or not re.fullmatch(LANGUAGE_PATTERN, language):
        return "language: a language tag such as en or zh-CN"
    group = groups.setdefault(code, _Group(number, title, tags))
    problem = _row_problem(group, code, language, title, tags, row.get("text", ""))
    if problem:
        group.bad = True
        return problem
    group.texts[language] = row["text"]
    return None


def _row_problem(group: _Group, code: str, language: str, title: str, tags: list[str], text: str) -> str | None:
    if title and title != group.title:
        return f"title differs from row {group.first_row}'s (leave it empty after a code's first row)"
    if tags and tags != group.tags:
        return f"tags differ from row {group.first_row}'s (leave them empty after a code's first row)"
    if language.lower() in {lang.lower() for lang in group.texts}:
        return f"{code} has a {language} text already"
    try:
        check_text(text)
    except ValueError as err:
        return f"text: {err}"
    return None


def _refused(errors: list[tuple[int, str]]) -> InvalidInput:
    errors.sort(key=lambda e: e[0])
    rows = sorted({number for number, _ in errors})
    shown = ", ".join(map(str, rows[:10])) + (" …" if len(rows) > 10 else "")
    fields = [{"field": f"row {number}", "message": message} for number, message in errors[:MAX_ERRORS_SHOWN]]
    if len(errors) > MAX_ERRORS_SHOWN:
        fields.append({"field": "(file)", "message": f"and {len(errors) - MAX_ERRORS_SHOWN} more errors"})
    return InvalidInput(f"nothing was imported: {len(rows)} row(s) need fixing (rows {shown})", fields)
