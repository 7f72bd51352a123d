"""Capacity (`x-capacity`, apispec/ext/capacity.py): places a record's quantity holds for records of
another collection, counted once for every API: never oversold, never lowered below what is held,
and the availability computed when the record is shown. Call the checks under `store.lock`."""

from __future__ import annotations

import functools

from apispec import ext

from .errors import ApiError


class Capacity:
    def __init__(self, store, contract):
        self.store = store
        self.rules = ext.capacity.of(contract) if contract is not None else {}
        self.contract = contract

    @functools.cached_property
    def _holding(self) -> dict[str, list]:
        return {name: ext.capacity.holding(self.contract, rule) for name, rule in self.rules.items()}

    def held(self, name: str, key, ignore=None) -> int:
        rule = self.rules[name]
        holding = self._holding[name]
        return sum(1 for r in self.store.all(rule["counts"])
                   if r.get(rule["by"]) == key and r.get("status") in holding and r.get("id") != ignore)

    def derived(self, name: str) -> tuple[str, ...]:
        return ext.capacity.derived(self.rules[name]) if name in self.rules else ()

    def view(self, name: str, record: dict) -> dict:
        """The record with its availability (`sold`, `available`: null when unlimited)."""
        rule = self.rules.get(name)
        if rule is None:
            return record
        taken, quantity = self.held(name, record["id"]), record.get(rule["field"]) or 0
        shown = {**record}
        if rule.get("sold"):
            shown[rule["sold"]] = taken
        if rule.get("available"):
            shown[rule["available"]] = max(quantity - taken, 0) if quantity else None
        return shown

    def check(self, name: str, record: dict, before: dict | None = None) -> None:
        """409 when the new or changed `record` of `name` takes a place beyond a quantity, or, for a
        record holding a quantity, when it drops below the places held."""
        if name in self.rules:
            rule, taken = self.rules[name], self.held(name, record["id"]) if before else 0
            quantity = record.get(rule["field"]) or 0
            if quantity and quantity < taken:
                raise ApiError(409, f"{rule['field']}: {self._what(name, record)} already has {taken} places held; "
                                    f"its {rule['field']} cannot go below {taken}", field=rule["field"])
        for owner, rule in self.rules.items():
            if rule["counts"] != name or record.get(rule["by"]) is None or \
                    record.get("status") not in self._holding[owner]:
                continue
            if before is not None and before.get(rule["by"]) == record[rule["by"]] and \
                    before.get("status") in self._holding[owner]:
                continue  # it held this place already
            target = self.store.get(owner, record[rule["by"]])
            quantity = (target or {}).get(rule["field"]) or 0
            if quantity and self.held(owner, target["id"], ignore=record.get("id")) >= quantity:
                raise ApiError(409, f"{rule['by']}: {self._what(owner, target)} is sold out, all {quantity} "
                                    f"places are taken", field=rule["by"])

    @staticmethod
    def _what(name: str, record: dict) -> str:
        from .resources import singular
        return f"{singular(name)} {record['id']} ({record.get('name')})"
