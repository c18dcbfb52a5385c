"""The input contract of the landing zone, one `InputSpec` per input.

Each spec says which columns a file must and may have, how each is typed into a landing column, and the
rules that send a row to quarantine, checked in order (the first that holds is the reason).

A column is typed by its `kind` (see `typing.py`): text as written in CSV (or a Parquet string column) is
parsed, a Parquet column that already has a proper type is converted without going through text (one of a
type that cannot hold the kind refuses the file), and `wrap` post-processes the typed value (`{v}`), e.g. a
default. Rules see the typed columns by name and the
value as given (NULL when absent or blank) as `{name}`, e.g. "given but unparseable".
Parameters bound at load time: $now (the moment of ingestion), $currency (policy currency),
$currencies (convertible currency codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "timestamp", "money", "date", "boolean"]
SQL_TYPES: dict[str, str] = {
    "text": "varchar",
    "timestamp": "timestamp",
    "money": "decimal(18, 2)",
    "date": "date",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class TypedColumn:
    name: str
    kind: Kind = "text"
    wrap: str = "{v}"
    # The value when the file lacks the column, if it must differ from a blank one (otherwise the wrapped NULL):
    # a profile file without household_id leaves households as they were, a blank one leaves the household.
    absent: str | None = None

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class Rule:
    reason: str
    condition: str


@dataclass(frozen=True)
class Versions:
    """The forward-only order of an entity's versions: a later file may move a loaded row forward, never back.

    `ranks` orders the values of `status`; values of the same rank are separate branches, so neither replaces
    the other. Within one status, `growing` only grows (blank counts as 0). A row behind the current version
    is stale: files that arrive out of order, or an old export sent again, cannot undo a later change."""

    status: str
    ranks: tuple[tuple[str, int], ...]
    growing: str

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.status, self.growing)

    def rank_sql(self, prefix: str = "") -> str:
        whens = " ".join(f"when '{status}' then {rank}" for status, rank in self.ranks)
        return f"case {prefix}{self.status} {whens} end"

    def version_sql(self, prefix: str = "") -> str:
        """The version as a struct that compares in the forward order within one branch."""
        return f"{{'rank': {self.rank_sql(prefix)}, 'growing': coalesce({prefix}{self.growing}, 0)}}"


@dataclass(frozen=True)
class InputSpec:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: str
    columns: tuple[TypedColumn, ...]
    rules: tuple[Rule, ...]
    # How a repeated key is treated when it arrives in a later file: "reject" quarantines it (orders and
    # events are immutable facts), "update" accepts it as a newer version, applied in arrival order (profiles
    # change over time and have no order of their own: only repeats within one file are judged).
    later_duplicates: str = "reject"
    # How a later file may move an already loaded key forward (a late refund or cancellation): a row ahead of
    # the current version updates the landing row in place, one behind it is a stale update. Only with
    # later_duplicates="reject".
    versions: Versions | None = None
    is_optional_input: bool = False

    @property
    def known_columns(self) -> tuple[str, ...]:
        return self.required + self.optional

    @property
    def updatable(self) -> tuple[str, ...]:
        """The columns a later version may change; every other column must stay as first loaded."""
        return self.versions.columns if self.versions else ()

    @property
    def entity(self) -> str:
        return self.name.removesuffix("s")


ORDERS = InputSpec(
    name="orders",
    required=("order_id", "customer_id", "order_ts", "amount"),
    optional=("currency", "status", "refunded_amount", "category", "channel", "store_id"),
    key="order_id",
    columns=(
        TypedColumn("order_id"),
        TypedColumn("customer_id"),
        TypedColumn("order_ts", "timestamp"),
        TypedColumn("amount", "money"),
        TypedColumn("currency", wrap="upper(coalesce({v}, $currency))"),
        TypedColumn("status", wrap="lower(coalesce({v}, 'completed'))"),
        TypedColumn("refunded_amount", "money"),
        TypedColumn("category"),
        TypedColumn("channel"),
        TypedColumn("store_id"),
    ),
    rules=(
        Rule("missing_customer_id", "customer_id is null"),
        Rule("missing_order_id", "order_id is null"),
        Rule("unparseable_timestamp", "order_ts is null"),
        Rule("future_timestamp", "order_ts > $now"),
        Rule("unparseable_amount", "amount is null"),
        Rule("negative_amount", "amount < 0"),
        Rule("bad_status", "status not in ('completed', 'cancelled', 'refunded')"),
        Rule("bad_refund", "{refunded_amount} is not null and refunded_amount is null"),
        Rule("bad_refund", "refunded_amount < 0 or refunded_amount > amount"),
        Rule("unknown_currency", "not list_contains($currencies, currency)"),
    ),
    # completed (refunds growing) -> refunded or cancelled, which are separate branches
    versions=Versions(
        status="status", ranks=(("completed", 0), ("refunded", 1), ("cancelled", 1)), growing="refunded_amount"
    ),
)

PROFILES = InputSpec(
    name="profiles",
    required=("customer_id", "signup_date"),
    optional=(
        "birth_date",
        "gender",
        "region",
        "city",
        "occupation",
        "interests",
        "email",
        "phone",
        "marketing_opt_in",
        "household_id",
        "household_since",
    ),
    key="customer_id",
    columns=(
        TypedColumn("customer_id"),
        TypedColumn("signup_date", "date"),
        TypedColumn("birth_date", "date"),
        TypedColumn("gender"),
        TypedColumn("region"),
        TypedColumn("city"),
        TypedColumn("occupation"),
        TypedColumn("interests"),
        TypedColumn("email"),
        TypedColumn("phone"),
        TypedColumn("marketing_opt_in", "boolean"),
        # '' when given blank (the member is on their own), NULL when the file has no such column.
        TypedColumn("household_id", wrap="coalesce({v}, '')", absent="cast(null as varchar)"),
        TypedColumn("household_since", "date"),
    ),
    rules=(
        Rule("missing_customer_id", "customer_id is null"),
        Rule("unparseable_date", "signup_date is null"),
        Rule("unparseable_date", "{birth_date} is not null and birth_date is null"),
        # One day of slack: signup dates are local dates and $now is in UTC.
        Rule("future_date", "signup_date > cast($now as date) + 1"),
        Rule("unparseable_boolean", "{marketing_opt_in} is not null and marketing_opt_in is null"),
        Rule("invalid_household_id", "length(household_id) > 64 or regexp_matches(household_id, '[\\x00-\\x1f\\x7f]')"),
        Rule("unparseable_date", "{household_since} is not null and household_since is null"),
    ),
    later_duplicates="update",
)

EVENTS = InputSpec(
    name="events",
    required=("event_id", "customer_id", "event_ts", "event_type"),
    optional=(),
    key="event_id",
    columns=(
        TypedColumn("event_id"),
        TypedColumn("customer_id"),
        TypedColumn("event_ts", "timestamp"),
        TypedColumn("event_type", wrap="lower({v})"),
    ),
    rules=(
        Rule("missing_customer_id", "customer_id is null"),
        Rule("missing_event_id", "event_id is null"),
        Rule("unparseable_timestamp", "event_ts is null"),
        Rule("future_timestamp", "event_ts > $now"),
        Rule("missing_event_type", "event_type is null"),
    ),
    is_optional_input=True,
)

INPUTS: dict[str, InputSpec] = {spec.name: spec for spec in (ORDERS, PROFILES, EVENTS)}

STALE_UPDATE = "stale_update"
# Quarantine reasons that lose nothing: a row identical to the version already loaded, or behind it. They are
# counted apart (rows_redundant) and do not count toward gates.max_quarantine_share.
REDUNDANT_REASONS = (STALE_UPDATE, *(f"duplicate_{spec.entity}" for spec in INPUTS.values()))
