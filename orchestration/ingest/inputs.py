"""The input contract of the landing zone, one `InputSpec` per input.

Each spec says which text columns a file must and may have, how each is parsed into a typed landing column
(SQL over the raw text, where `{name}` is the raw column or NULL when the file lacks an optional one), and
the rules that send a row to quarantine, checked in order (the first that holds is the reason).
Parameters bound at load time: $now (the moment of ingestion), $currency (policy currency),
$currencies (convertible currency codes).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TypedColumn:
    name: str
    sql_type: str
    expr: str


@dataclass(frozen=True)
class Rule:
    reason: str
    condition: str


@dataclass(frozen=True)
class InputSpec:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: str
    columns: tuple[TypedColumn, ...]
    rules: tuple[Rule, ...]
    # How a repeated key is treated when it arrives in a later file: "reject" quarantines it (orders and
    # events are immutable facts), "update" accepts it as a newer version (profiles change over time).
    later_duplicates: str = "reject"
    is_optional_input: bool = False

    @property
    def known_columns(self) -> tuple[str, ...]:
        return self.required + self.optional


def _text(col: str) -> str:
    return f"nullif(trim({{{col}}}), '')"


def _timestamp_utc(col: str) -> str:
    # A timestamp without an offset is read in the session time zone, which ingest sets to the policy's.
    return f"timezone('UTC', try_cast({_text(col)} as timestamptz))"


def _money(col: str) -> str:
    return f"try_cast({_text(col)} as decimal(18, 2))"


_BOOLEAN = (
    "case lower({_t}) when 'true' then true when 't' then true when 'yes' then true when 'y' then true "
    "when '1' then true when 'false' then false when 'f' then false when 'no' then false when 'n' then false "
    "when '0' then false end"
)

ORDERS = InputSpec(
    name="orders",
    required=("order_id", "customer_id", "order_ts", "amount"),
    optional=("currency", "status", "refunded_amount", "category", "channel", "store_id"),
    key="order_id",
    columns=(
        TypedColumn("order_id", "varchar", _text("order_id")),
        TypedColumn("customer_id", "varchar", _text("customer_id")),
        TypedColumn("order_ts", "timestamp", _timestamp_utc("order_ts")),
        TypedColumn("amount", "decimal(18, 2)", _money("amount")),
        TypedColumn("currency", "varchar", f"upper(coalesce({_text('currency')}, $currency))"),
        TypedColumn("status", "varchar", f"lower(coalesce({_text('status')}, 'completed'))"),
        TypedColumn("refunded_amount", "decimal(18, 2)", _money("refunded_amount")),
        TypedColumn("category", "varchar", _text("category")),
        TypedColumn("channel", "varchar", _text("channel")),
        TypedColumn("store_id", "varchar", _text("store_id")),
    ),
    rules=(
        Rule("missing_customer_id", "customer_id is null"),
        Rule("missing_order_id", "order_id is null"),
        Rule("unparseable_timestamp", "order_ts is null"),
        Rule("future_timestamp", "order_ts > $now"),
        Rule("unparseable_amount", "amount is null"),
        Rule("negative_amount", "amount < 0"),
        Rule("bad_status", "status not in ('completed', 'cancelled', 'refunded')"),
        Rule("bad_refund", f"{_text('refunded_amount')} is not null and refunded_amount is null"),
        Rule("bad_refund", "refunded_amount < 0 or refunded_amount > amount"),
        Rule("unknown_currency", "not list_contains($currencies, currency)"),
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
    ),
    key="customer_id",
    columns=(
        TypedColumn("customer_id", "varchar", _text("customer_id")),
        TypedColumn("signup_date", "date", f"try_cast({_text('signup_date')} as date)"),
        TypedColumn("birth_date", "date", f"try_cast({_text('birth_date')} as date)"),
        TypedColumn("gender", "varchar", _text("gender")),
        TypedColumn("region", "varchar", _text("region")),
        TypedColumn("city", "varchar", _text("city")),
        TypedColumn("occupation", "varchar", _text("occupation")),
        TypedColumn("interests", "varchar", _text("interests")),
        TypedColumn("email", "varchar", _text("email")),
        TypedColumn("phone", "varchar", _text("phone")),
        TypedColumn("marketing_opt_in", "boolean", _BOOLEAN.format(_t=_text("marketing_opt_in"))),
    ),
    rules=(
        Rule("missing_customer_id", "customer_id is null"),
        Rule("unparseable_date", "signup_date is null"),
        Rule("unparseable_date", f"{_text('birth_date')} is not null and birth_date is null"),
        # One day of slack: signup dates are local dates and $now is in UTC.
        Rule("future_date", "signup_date > cast($now as date) + 1"),
        Rule("unparseable_boolean", f"{_text('marketing_opt_in')} is not null and marketing_opt_in is null"),
    ),
    later_duplicates="update",
)

EVENTS = InputSpec(
    name="events",
    required=("event_id", "customer_id", "event_ts", "event_type"),
    optional=(),
    key="event_id",
    columns=(
        TypedColumn("event_id", "varchar", _text("event_id")),
        TypedColumn("customer_id", "varchar", _text("customer_id")),
        TypedColumn("event_ts", "timestamp", _timestamp_utc("event_ts")),
        TypedColumn("event_type", "varchar", f"lower({_text('event_type')})"),
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
