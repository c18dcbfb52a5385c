"""The policy keys of lifecycle stages, RFM, behaviour flags and tier benefits: defaults as documented,
ranges validated with messages that name the key path."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tierflow.policy.schema import PolicyError, load_policy, parse_policy

BASE = "version: x\ncurrency: CNY\ntimezone: UTC\ntiers: [{code: a, name: A}]\n"


def test_defaults_are_the_documented_ones() -> None:
    policy = parse_policy(BASE)
    lifecycle = policy.lifecycle
    assert (lifecycle.new_days, lifecycle.active_days, lifecycle.dormant_days, lifecycle.churned_days) == (
        30,
        90,
        180,
        365,
    )
    assert lifecycle.cadence == "fixed" and policy.rfm.window == "lifetime" and policy.rfm.window_days is None
    behaviour = policy.behaviour
    assert behaviour.discount_seeker_share == Decimal("0.5") and behaviour.big_ticket_percentile == Decimal("0.9")
    assert behaviour.frequent_small_percentile == Decimal("0.8") and behaviour.refund_prone_share == Decimal("0.2")
    assert behaviour.omnichannel_min_channels == 2 and behaviour.promotions[0].name == "618"
    assert policy.tiers[0].benefits.points_multiplier == 1 and not policy.tiers[0].benefits.free_shipping
    shipped = load_policy()
    assert shipped.tiers[-1].benefits.priority_service and shipped.rfm.window == "lifetime"


def test_rfm_window_accepts_365_as_a_number() -> None:
    assert parse_policy(BASE + "rfm: {window: 365}").rfm.window_days == 365


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("lifecycle: {active_days: 200}", "lifecycle: need new_days <= active_days < dormant_days"),
        ("lifecycle: {cadence: weekly}", "lifecycle.cadence"),
        ("rfm: {window: 90}", "rfm.window"),
        ("behaviour: {refund_prone_share: 1.5}", "behaviour.refund_prone_share"),
        ("behaviour: {promotions: [{name: x, start: '12-20', end: '01-05'}]}", "end 01-05 is before start 12-20"),
        ("behaviour: {promotions: [{name: x, start: '13-01', end: '13-02'}]}", "behaviour.promotions[0].start"),
        ("behaviour: {bogus: 1}", "behaviour.bogus: unknown key"),
    ],
)
def test_bad_values_name_the_key(extra: str, message: str) -> None:
    with pytest.raises(PolicyError, match=None) as caught:
        parse_policy(BASE + extra)
    assert message in str(caught.value), str(caught.value)


def test_bad_benefits_name_the_tier() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(BASE.replace("{code: a, name: A}", "{code: a, name: A, benefits: {discount_pct: 120}}"))
    assert "tiers[0].benefits.discount_pct" in str(caught.value)
