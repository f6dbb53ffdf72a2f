"""Activity references: the one set of rules that turns a reference into an activity.

An activity reference is ``name``, ``database::name`` or ``database::name::location``
(contract section 2). Specs (stage activities, component ``virgin``/``recycled`` and
end-of-life activities), materials tables, catalogues, Monte Carlo and ``cfp data show``
all resolve them here, through :meth:`ReferenceIndex.resolve` (one reference, an error
naming the candidates) or :meth:`ReferenceIndex.lookup` (the same rules, cached per
distinct reference, for the vectorised catalogue scoring). The rules:

- the parts are compared without regard to case, surrounding whitespace, or runs of
  inner whitespace: ``GLO`` is ``glo``, ``Transport,  lorry`` is ``transport, lorry``;
- a plain ``name`` looks in the built-in data; a name the built-in data does not have is
  looked up in the user databases (so a name of one's own inventory works alone while it
  is unique, and an imported database never shadows a built-in activity);
- ``database::name`` is every location of ``name`` in ``database``;
- an activity may have aliases, other names it answers to like its own (a supplier
  footprint's product ids and footprint id: ``SUPPLIER::urn:gtin:...``);
- exactly one activity must match: none is ``no activity matches 'X' (closest: ...)``,
  several is ``'X' matches N activities: ...``, both :class:`~cfp_engine.errors.DataError`.

No Brightway and no pint here: the index holds (database, name, location) triples only,
so it pickles into batch workers with the scoring model.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import numpy as np

from cfp_engine.errors import DataError

REFERENCE_SEPARATOR = "::"
_FORMS = "'name', 'database::name' or 'database::name::location'"
_LISTED = 8  # candidates written out in an ambiguity message
_CLOSEST = 5  # candidates suggested for a reference that matches nothing


def normalise_part(text: str) -> str:
    """A reference part as compared: case-folded, inner whitespace runs as one space."""
    return " ".join(str(text).split()).casefold()


class ReferenceIndex:
    """The activities of a project by normalised name, for resolving references.

    Parameters
    ----------
    identities
        ``(database, name, location)`` of every activity, in column order: the position
        of an activity here is its column in the score arrays.
    builtin_database
        The database a plain name looks in first (default: the built-in data).
    aliases
        ``(position, alias)`` pairs: other names the activity at ``position`` answers to.
    """

    def __init__(
        self,
        identities: Iterable[tuple[str, str, str]],
        *,
        builtin_database: str | None = None,
        aliases: Iterable[tuple[int, str]] = (),
    ):
        if builtin_database is None:
            from cfp_engine.store.inventories import BUILTIN_DATABASE as builtin_database
        self.identities = [(str(d), str(n), str(loc or "")) for d, n, loc in identities]
        self.builtin = normalise_part(builtin_database)
        self._by_name: dict[str, list[int]] = {}
        self._databases: dict[str, str] = {}
        self._folded: list[tuple[str, str]] = []  # normalised (database, location)
        for position, (database, name, location) in enumerate(self.identities):
            self._by_name.setdefault(normalise_part(name), []).append(position)
            self._databases.setdefault(normalise_part(database), database)
            self._folded.append((normalise_part(database), normalise_part(location)))
        for position, alias in aliases:
            named = self._by_name.setdefault(normalise_part(alias), [])
            if position not in named:
                named.append(position)
        self._lookups: dict[str, int] = {}
        self._messages: dict[str, str] = {}

    @classmethod
    def from_activities(cls, activities: Iterable) -> ReferenceIndex:
        """The index of objects with ``database``, ``name`` and ``location`` attributes
        (and optionally ``aliases``)."""
        activities = list(activities)
        aliases = [
            (i, alias) for i, a in enumerate(activities) for alias in getattr(a, "aliases", ())
        ]
        return cls(((a.database, a.name, a.location) for a in activities), aliases=aliases)

    @property
    def databases(self) -> list[str]:
        """The database names, as spelled in the data, in order of first activity."""
        return list(self._databases.values())

    def has_name(self, name: str) -> bool:
        """Whether any activity, in any database, is called ``name``."""
        return normalise_part(name) in self._by_name

    def reference(self, position: int) -> str:
        """The full ``database::name::location`` reference of the activity at ``position``."""
        return REFERENCE_SEPARATOR.join(self.identities[position])

    # -- resolving -----------------------------------------------------------------------
    def resolve(self, reference: str, *, where: str = "") -> int:
        """The position of the one activity ``reference`` names.

        Parameters
        ----------
        reference
            ``name``, ``database::name`` or ``database::name::location``.
        where
            Where the reference was written (file, field or row), put before the message.

        Raises
        ------
        DataError
            The reference is malformed, or matches no activity or several; the message
            lists the candidates.
        """
        position = self.lookup(reference)
        if position >= 0:
            return position
        prefix = f"{where}: " if where else ""
        raise DataError(f"{prefix}{self.problem(reference)}")

    def lookup(self, reference: str) -> int:
        """The position of the one activity ``reference`` names, or -1 (cached)."""
        found = self._lookups.get(reference)
        if found is None:
            matches, _ = self._matches(reference)
            found = matches[0] if len(matches) == 1 else -1
            self._lookups[reference] = found
        return found

    def lookup_many(self, references: Sequence[str]) -> np.ndarray:
        """:meth:`lookup` of each reference, as an int64 array (-1: no single match)."""
        return np.fromiter(
            (self.lookup(r) for r in references), dtype=np.int64, count=len(references)
        )

    def problem(self, reference: str) -> str:
        """Why ``reference`` does not name exactly one activity (cached); '' if it does."""
        message = self._messages.get(reference)
        if message is None:
            message = self._describe(reference)
            self._messages[reference] = message
        return message

    # -- the rules -----------------------------------------------------------------------
    def _parse(self, reference: str) -> tuple[str | None, str, str | None] | None:
        parts = [normalise_part(p) for p in str(reference).split(REFERENCE_SEPARATOR)]
        if len(parts) > 3 or not all(parts):
            return None
        if len(parts) == 1:
            return None, parts[0], None
        if len(parts) == 2:
            return parts[0], parts[1], None
        return parts[0], parts[1], parts[2]

    def _matches(self, reference: str) -> tuple[list[int], list[int]]:
        """(activities the reference names, activities of the same name it ruled out)."""
        parsed = self._parse(reference)
        if parsed is None:
            return [], []
        database, name, location = parsed
        named = self._by_name.get(name, [])
        if database is not None:
            found = [p for p in named if self._in(p, database)]
        else:
            builtin = [p for p in named if self._in(p, self.builtin)]
            found = builtin or named
        if location is not None:
            found = [p for p in found if self._folded[p][1] == location]
        kept = set(found)
        return found, [p for p in named if p not in kept]

    def _describe(self, reference: str) -> str:
        parsed = self._parse(reference)
        if parsed is None:
            return f"{reference!r} is not {_FORMS}"
        found, others = self._matches(reference)
        if len(found) == 1:
            return ""
        if found:
            found = sorted(found, key=self.reference)  # a stable order, whatever the build
            listed = "; ".join(self.reference(p) for p in found[:_LISTED])
            if len(found) > _LISTED:
                listed += f"; ... ({len(found) - _LISTED} more)"
            databases = {self.identities[p][0] for p in found}
            what = "the location" if len(databases) == 1 else "the database and location"
            return (
                f"{reference!r} matches {len(found)} activities: {listed} "
                f"(add {what}: 'database::name::location')"
            )
        database, name, _ = parsed
        message = f"no activity matches {reference!r}"
        if database is not None and database not in self._databases:
            return (
                f"{message}: unknown database {reference.split(REFERENCE_SEPARATOR)[0].strip()!r} "
                f"(databases: {', '.join(self.databases)})"
            )
        if database is not None:  # the same name in the database asked for comes first
            others = [p for p in others if self._in(p, database)] or others
        closest = sorted(others, key=self.reference) or self._close_names(name, database)
        if closest:
            shown = "; ".join(self._shortest(p) for p in closest[:_CLOSEST])
            message += f" (closest: {shown})"
        return message

    def _close_names(self, name: str, database: str | None) -> list[int]:
        if database is None:
            names = list(self._by_name)
        else:
            names = [
                n
                for n, positions in self._by_name.items()
                if any(self._in(p, database) for p in positions)
            ]
        close = difflib.get_close_matches(name, names, n=_CLOSEST, cutoff=0.5)
        positions = [p for n in close for p in sorted(self._by_name[n], key=self.reference)]
        if database is not None:
            positions = [p for p in positions if self._in(p, database)]
        return positions

    def _in(self, position: int, database: str) -> bool:
        return self._folded[position][0] == database

    def _shortest(self, position: int) -> str:
        """The shortest reference form that names the activity at ``position`` alone."""
        database, name, location = self.identities[position]
        for form in (name, REFERENCE_SEPARATOR.join((database, name))):
            if self.lookup(form) == position:
                return form
        return self.reference(position)
