"""How dbt resources appear in Dagster: one `transform` group, owners, and the policy-independent keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


class TierflowDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_code_references=False))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "transform"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        return ["team:data-platform"]
