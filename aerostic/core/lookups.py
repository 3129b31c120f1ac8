"""`field__any_of=[...]`: `column = ANY(%s)` with the list as one array parameter.

Django's `__in` sends one parameter per value, each prepared by the field: for a list of hundreds
or thousands of ids (an inbox search's matches) that preparation and the statement's length cost
more than the query. Postgres reads `= ANY(array)` as it reads `IN (...)`, with the same index use.
Registered on the integer fields (primary keys included) in CoreConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.db.models import Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"

    def get_prep_lookup(self) -> Any:
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, self.rhs]
