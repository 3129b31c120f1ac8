"""Reading an uploaded CSV: guess its encoding and separator, refuse what is not a CSV, parse rows.

Spreadsheet programs write CSV in many dialects: UTF-8 with or without a byte-order mark, UTF-16
(Excel's "Unicode text"), Windows-1252 from older Excel on Windows; commas, or semicolons where the
comma is the decimal sign, or tabs. The file is kept as uploaded (bytes); `decode` and
`detect_dialect` give the same answer at upload and at run time, so rows are read identically.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from contacts.importing.errors import ImportRefused

DELIMITERS = (",", ";", "\t")
MAX_COLUMNS = 200
MAX_HEADER_LENGTH = 255
MAX_SINGLE_COLUMN_NAME = 64  # a one-column file (just numbers) is fine; a line of prose is not
_SAMPLE_CHARS = 64 * 1024
_SAMPLE_ROWS = 50

# Magic numbers of the files people most often upload instead of a CSV.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook or ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel (.xls) or Word file"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"{\\rtf", "an RTF document"),
)
_SAVE_AS_CSV = "Open it in your spreadsheet and save it as CSV (File → Save as → CSV UTF-8), then upload that."


@dataclass(frozen=True)
class Dialect:
    encoding: str  # a Python codec name: "utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"
    delimiter: str


def detect_encoding(data: bytes) -> str:
    """The codec that reads these bytes; refuses files that are binary (NUL bytes, known formats)."""
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise ImportRefused(f"This file is {what}, not a CSV. {_SAVE_AS_CSV}", code="not_csv")
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        if b"\x00" in data:
            raise ImportRefused(
                f"This file holds binary data, not text: it is not a CSV. {_SAVE_AS_CSV}", code="not_csv"
            )
        try:
            data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            # Not UTF-8: most likely Windows' Western European code page (Excel's "CSV" on Windows);
            # latin-1 reads anything, so it is the last resort for bytes cp1252 leaves undefined.
            try:
                data.decode("cp1252")
                encoding = "cp1252"
            except UnicodeDecodeError:
                encoding = "latin-1"
    return encoding


def decode(data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise ImportRefused(
            f"The file is not valid {encoding} text. Save it as CSV UTF-8 and upload it again.", code="not_csv"
        ) from None
    if "\x00" in text:
        raise ImportRefused(f"This file holds binary data, not text: it is not a CSV. {_SAVE_AS_CSV}", code="not_csv")
    sample = text[:_SAMPLE_CHARS]
    control = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    if control > max(8, len(sample) // 100):
        raise ImportRefused(f"This file holds binary data, not text: it is not a CSV. {_SAVE_AS_CSV}", code="not_csv")
    return text


def detect_delimiter(text: str) -> str:
    """Comma, semicolon or tab: the one that splits the header into the most columns while the
    first rows keep that count (a semicolon file's decimal commas do not fool it)."""
    sample = text[:_SAMPLE_CHARS]
    truncated = len(text) > _SAMPLE_CHARS
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [row for row in _rows(sample, delimiter, limit=_SAMPLE_ROWS + 1) if row]
        except csv.Error:
            continue
        if truncated and len(rows) > 1:
            rows = rows[:-1]  # the sample may have cut the last row in two
        if not rows:
            continue
        width = len(rows[0])
        body = rows[1:] or rows
        consistent = sum(1 for row in body if len(row) == width) / len(body)
        score = (consistent if width > 1 else 0.0, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _rows(text: str, delimiter: str, *, limit: int | None = None) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for count, row in enumerate(reader):
        if limit is not None and count >= limit:
            return
        yield row


def read_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every record after the header; the header is row 1, as a spreadsheet
    numbers it. Blank records are skipped (their numbers still count)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            if number == 1:
                continue
            if not any(cell.strip() for cell in row):
                continue
            yield number, row
    except csv.Error as error:
        raise ImportRefused(f"Row {number + 1} cannot be read as CSV ({error}).", code="not_csv") from None


def parse_header(text: str, delimiter: str) -> list[str]:
    try:
        first = next(_rows(text, delimiter, limit=1), None)
    except csv.Error as error:
        raise ImportRefused(f"The first row cannot be read as CSV ({error}).", code="not_csv") from None
    if not first or not any(cell.strip() for cell in first):
        raise ImportRefused(
            "The first row must name the columns (e.g. phone, name, tags); this file's first row is empty.",
            code="no_header",
        )
    if len(first) == 1 and len(first[0].strip()) > MAX_SINGLE_COLUMN_NAME:
        # One long "column name": prose or a report, not a header row separated by , ; or tabs.
        raise ImportRefused(
            "The first row must name the columns, separated by commas, semicolons or tabs "
            "(e.g. phone,name,tags); this file does not look like a CSV.",
            code="no_header",
        )
    if len(first) > MAX_COLUMNS:
        raise ImportRefused(f"The file has {len(first)} columns; at most {MAX_COLUMNS} can be imported.")
    header: list[str] = []
    for position, cell in enumerate(first, start=1):
        name = " ".join(cell.split())
        if len(name) > MAX_HEADER_LENGTH:
            raise ImportRefused(
                f"Column {position}'s name is {len(name)} characters long: the first row must be a header "
                "naming the columns (e.g. phone, name, tags).",
                code="no_header",
            )
        name = name or f"column {position}"
        if name in header:
            raise ImportRefused(f"Two columns are named {name!r}: give every column its own name.", code="no_header")
        header.append(name)
    return header


def sniff(data: bytes) -> tuple[Dialect, str, list[str]]:
    """(dialect, decoded text, header) of an uploaded file, or ImportRefused."""
    encoding = detect_encoding(data)
    text = decode(data, encoding)
    if not text.strip():
        raise ImportRefused("The file is empty.", code="empty")
    delimiter = detect_delimiter(text)
    header = parse_header(text, delimiter)
    if len(header) > 1:
        try:
            sample = list(_rows(text[:_SAMPLE_CHARS], delimiter, limit=_SAMPLE_ROWS))[1:]
        except csv.Error:
            sample = []  # read_rows reports it with the row number
        body = [row for row in sample if any(cell.strip() for cell in row)]
        if body and all(len(row) == 1 for row in body):
            # The first line happens to hold a separator, no other line does: text, not a table.
            raise ImportRefused(
                "The rows below the first one have no separators (commas, semicolons or tabs): "
                "this file does not look like a CSV.",
                code="not_csv",
            )
    return Dialect(encoding=encoding, delimiter=delimiter), text, header
