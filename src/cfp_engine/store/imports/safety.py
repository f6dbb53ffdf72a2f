"""Reading user database files safely: archive limits, zip-slip, XML entities, bad lines.

Imported databases come from outside (a licence download, a colleague's export), so
before bw2io sees them:

* a zip archive is unpacked by this module, never by a library: at most
  :data:`MAX_ARCHIVE_MEMBERS` members and :data:`MAX_UNPACKED_BYTES` in all (counted on
  the bytes actually written, not the sizes the archive declares), no member whose path
  leaves the target folder (absolute paths, ``..``, drive letters: "zip-slip"), no
  symbolic links;
* every XML file is refused if it has a document type declaration (``<!DOCTYPE``,
  where ``<!ENTITY`` lives), found by walking the prolog and confirmed by libxml2 with
  DTD loading and entity resolution off (:func:`check_xml_prolog`). bw2io parses
  ecospold2 with ``lxml.objectify`` and lxml's default parser; lxml >= 5 no longer
  loads external entities by default, but a DTD is never part of an ecospold2 dataset,
  so refusing it outright also stops entity expansion ("billion laughs") and does not
  depend on the lxml version;
* when a parser fails, the file and line are found by re-reading the files with a safe
  parser (only on that failure path, so a good import pays nothing for it).

Nothing from a user file is unpickled: bw2io's ecospold2 cache (``cache=True``) is off.
"""

from __future__ import annotations

import re
import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from cfp_engine.errors import SpecError

#: An ecoinvent 3.x release has ~25,000 datasets; four times that is still plausible.
MAX_ARCHIVE_MEMBERS = 100_000
#: ecoinvent 3.10 cut-off unpacks to ~4 GB of ecospold2.
MAX_UNPACKED_BYTES = 16 * 1024**3
#: XML files are checked for declarations in this many leading bytes (the prolog).
PROLOG_BYTES = 64 * 1024


def safe_extract_zip(
    archive: Path,
    target: Path,
    *,
    max_members: int = MAX_ARCHIVE_MEMBERS,
    max_bytes: int = MAX_UNPACKED_BYTES,
) -> Path:
    """Unpack ``archive`` into ``target`` with limits; return ``target``.

    Parameters
    ----------
    archive
        The zip file.
    target
        An empty folder to unpack into.
    max_members, max_bytes
        Limits on the member count and on the unpacked size in bytes.

    Raises
    ------
    SpecError
        The archive is not a zip file, is over a limit, or has a member that would land
        outside ``target`` or is a symbolic link.
    """
    target = target.resolve()
    try:
        handle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SpecError(f"{archive}: not a readable zip archive ({exc})") from None
    with handle:
        members = handle.infolist()
        if len(members) > max_members:
            raise SpecError(
                f"{archive}: {len(members)} members in the archive, more than the limit "
                f"of {max_members}; unpack it yourself and import the folder"
            )
        declared = sum(m.file_size for m in members)
        if declared > max_bytes:
            raise SpecError(
                f"{archive}: unpacks to {declared} bytes, more than the limit of {max_bytes} bytes"
            )
        for member in members:
            _check_member(archive, member, target)
        written = 0
        for member in members:
            destination = target / member.filename
            if member.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with handle.open(member) as source, destination.open("wb") as sink:
                while chunk := source.read(1024 * 1024):
                    written += len(chunk)
                    # The declared sizes can lie; count what really comes out.
                    if written > max_bytes:
                        raise SpecError(
                            f"{archive}: unpacks to more than the limit of {max_bytes} bytes"
                        )
                    sink.write(chunk)
    return target


def _check_member(archive: Path, member: zipfile.ZipInfo, target: Path) -> None:
    name = member.filename
    pure = PurePosixPath(name.replace("\\", "/"))
    mode = member.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise SpecError(f"{archive}: member {name!r} is a symbolic link; refused")
    if pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", name):
        raise SpecError(f"{archive}: member {name!r} would be written outside the target folder")
    resolved = (target / name).resolve()
    if resolved != target and target not in resolved.parents:
        raise SpecError(f"{archive}: member {name!r} would be written outside the target folder")


def check_xml_files(paths: Iterable[Path]) -> None:
    """Refuse XML files that declare a DTD or entities (see :func:`check_xml_prolog`)."""
    for path in paths:
        check_xml_prolog(path)


def check_xml_prolog(path: Path) -> None:
    """Raise :class:`SpecError` if ``path`` declares a DTD (``<!DOCTYPE``) before its root.

    Two checks, both needed. First the prolog is walked construct by
    construct (XML declaration, processing instructions, comments, white space) up to the
    root element, so a ``<a>`` inside a comment or a processing instruction is not taken
    for the root; this gives the line of the declaration. Then libxml2 itself, with DTD
    loading, entity resolution and network access off, reads up to the root element and
    reports whether the document has a document type declaration: this decides for any
    encoding libxml2 accepts (UTF-16 without a BOM, a declared legacy encoding), exactly
    as the parser bw2io uses would read it. Entities are only declared inside a DTD, so no
    DTD means no entity expansion.
    """
    with path.open("rb") as handle:
        head = handle.read(PROLOG_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="replace")
    else:
        text = head.decode("utf-8", errors="replace")
    position = _prolog_declaration(text)
    if position is not None:
        line = text.count("\n", 0, position) + 1
        _refuse_doctype(path, f":{line}")
    _check_doctype_with_libxml2(path)


def _refuse_doctype(path: Path, where: str = "") -> None:
    raise SpecError(
        f"{path}{where}: XML with a DOCTYPE declaration is refused "
        "(entities are never resolved from imported files; ecospold2 has no DTD)"
    )


def _prolog_declaration(text: str) -> int | None:
    """Offset of a ``<!`` declaration (DOCTYPE, ENTITY, ...) before the root, or ``None``."""
    position = 1 if text.startswith("\ufeff") else 0
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if text.startswith("<?", position):
            end = text.find("?>", position + 2)
        elif text.startswith("<!--", position):
            end = text.find("-->", position + 4)
        elif text.startswith("<!", position):
            return position
        else:
            # The root element, text that libxml2 will refuse, or a prolog longer than
            # PROLOG_BYTES: libxml2 decides (below).
            return None
        if end < 0:
            return None
        position = end + 2 if text[end] == "?" else end + 3


def _check_doctype_with_libxml2(path: Path) -> None:
    from lxml import etree

    events = etree.iterparse(
        str(path),
        events=("start",),
        load_dtd=False,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
    )
    try:
        for _event, element in events:
            info = element.getroottree().docinfo
            if info.doctype or info.internalDTD is not None or info.system_url:
                _refuse_doctype(path)
            return
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else 0)
        raise SpecError(f"{path}:{line}: malformed XML ({exc.msg})") from None


def locate_xml_error(paths: Iterable[Path]) -> str | None:
    """``file:line: message`` of the first malformed XML file, or ``None``."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for path in paths:
        try:
            etree.parse(str(path), parser)
        except etree.XMLSyntaxError as exc:
            line = exc.lineno or (exc.position[0] if exc.position else 0)
            return f"{path}:{line}: malformed XML ({exc.msg})"
    return None


def locate_json_error(paths: Iterable[Path]) -> str | None:
    """``file:line: message`` of the first malformed JSON file, or ``None``."""
    import json

    for path in paths:
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            return f"{path}:{exc.lineno}: malformed JSON ({exc.msg})"
        except UnicodeDecodeError as exc:
            return f"{path}: not UTF-8 text ({exc.reason})"
    return None
