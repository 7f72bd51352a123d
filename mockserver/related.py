"""Related records (`x-embed`, `x-count`, `x-delete`, apispec/ext/related.py): a record shown with the
records of other collections that name it, or their number, and a delete refused while some of them
are in a state, or leaving them changed. One implementation for every API's generic read and delete;
call the delete rules under `store.lock`."""

from __future__ import annotations

from apispec import ext
from apispec.ext.sorting import sort_key

from .errors import ApiError


class Related:
    def __init__(self, store, contract, capacity):
        self.store, self.contract, self.capacity = store, contract, capacity

    def view(self, operation, record: dict) -> dict:
        """`record` with the fields its answer embeds or counts (none: the record as it is)."""
        embeds, counts = ext.related.shown(operation)
        if not (embeds or counts):
            return record
        from .resources import public
        shown = {**record}
        for name, rule in embeds.items():
            found = ext.related.select(rule, record, self.store.all)
            by, descending = ext.related.sort_order(rule)
            if by:
                found = sorted(found, key=lambda r: sort_key(r.get(by)), reverse=descending)  # noqa: B023
            found = [public(self.capacity.view(rule["collection"], r)) for r in found]
            shown[name] = (found[0] if found else None) if rule.get("one") else found
        shown.update(self._counted(counts, record))
        return shown

    def _counted(self, counts: dict, record: dict) -> dict:
        return {name: self._counted(rule, record) if "collection" not in rule
                else len(ext.related.select(rule, record, self.store.all)) for name, rule in counts.items()}

    def check_delete(self, operation, name: str, record: dict, field: str = "id") -> None:
        """409 (or the rule's status) while records the delete's `refuse_while` selects are in its state."""
        rule = ext.related.delete_rule(operation).get("refuse_while")
        if not rule:
            return
        words = ext.states.words(self.contract, rule["collection"], rule["state"])
        held = sum(1 for r in ext.related.select(rule, record, self.store.all) if r.get("status") in words)
        if held:
            from .resources import singular
            raise ApiError(int(rule.get("status", 409)),
                           f"{singular(name).capitalize()} {record['id']} has {held} {rule['state']} "
                           f"{singular(rule['collection'])}(s) and cannot be deleted", field=field)

    def after_delete(self, operation, record: dict) -> None:
        """The records the delete's `on_delete` selects, left with its `set` values."""
        rule = ext.related.delete_rule(operation).get("on_delete")
        if rule:
            for found in ext.related.select(rule, record, self.store.all):
                self.store.update(rule["collection"], found["id"], dict(rule["set"]))
