"""Where a model object came from: a document and a field path in it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from meshctl.diagnostics import FieldPath, Location, PathPart, ResourceRef

if TYPE_CHECKING:
    from meshctl.load.document import SourceDoc


class Origin:
    """A field of a source document. Positions are computed only when asked for."""

    __slots__ = ("doc", "path")

    def __init__(self, doc: SourceDoc, path: FieldPath = ()) -> None:
        self.doc = doc
        self.path = path

    def at(self, *parts: PathPart) -> Origin:
        return Origin(self.doc, self.path + parts)

    def location(self, *, key: bool = False) -> Location:
        return self.doc.locate(self.path, key=key)

    @property
    def ref(self) -> ResourceRef:
        return self.doc.ref

    def _key(self) -> tuple[str, int, int, FieldPath]:
        return (self.doc.file, self.doc.index, -1 if self.doc.item is None else self.doc.item, self.path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Origin) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Origin({self.doc.file}#{self.doc.index}, {self.path!r})"
