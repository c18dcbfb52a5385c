"""dbt-spark with `method: session`: the models run on Apache Spark inside the dbt process (local mode here;
a Thrift server or Databricks in production, see the README's "Scaling out").

The Spark session lives in the dbt subprocess, so the exchange goes through Parquet files: inputs are written
by DuckDB and registered as tables by the `target_register_inputs` hook when dbt starts; built relations are
written back by the `target_export_outputs` hook when dbt ends and read here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil

from tierflow.paths import DBT_PROJECT_DIR
from tierflow.settings import internal_variable
from tierflow.targets.base import Relation, Target, TargetError, load_into_warehouse
from tierflow.warehouse import connect


class SparkTarget(Target):
    name = "spark"

    def _input_dir(self, relation: Relation) -> str:
        return str(self.work_dir / "inputs" / f"{relation.schema}.{relation.name}")

    def _output_dir(self, relation: Relation) -> str:
        return str(self.work_dir / "outputs" / f"{relation.schema}.{relation.name}")

    def check(self) -> None:
        missing = [name for name in ("pyspark", "dbt.adapters.spark") if importlib.util.find_spec(name) is None]
        if missing:
            raise TargetError(
                f"--target spark needs {', '.join(missing)}: pip install 'tierflow[spark]'", is_config=True
            )
        if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
            raise TargetError("--target spark needs Java 17 (java on PATH or JAVA_HOME)", is_config=True)

    def dbt_environment(self, inputs: list[Relation], outputs: list[Relation]) -> dict[str, str]:
        exchange = {
            "inputs": [{"schema": r.schema, "name": r.name, "path": self._input_dir(r)} for r in inputs],
            "outputs": [{"schema": r.schema, "name": r.name, "path": self._output_dir(r)} for r in outputs],
        }
        return {
            **super().dbt_environment(inputs, outputs),
            internal_variable("SPARK_HOME"): str(self.work_dir),
            internal_variable("SPARK_LOG4J"): str(DBT_PROJECT_DIR / "spark" / "log4j2.properties"),
            internal_variable("TARGET_EXCHANGE"): json.dumps(exchange),
        }

    def push(self, inputs: list[Relation]) -> None:
        shutil.rmtree(self.work_dir / "inputs", ignore_errors=True)
        shutil.rmtree(self.work_dir / "outputs", ignore_errors=True)
        with connect(self.layout.warehouse, read_only=True) as con:
            for relation in inputs:
                target = self.work_dir / "inputs" / f"{relation.schema}.{relation.name}"
                target.mkdir(parents=True)
                # Parquet has no 128-bit integer; Spark reads DECIMAL(38, 0) exactly.
                select = ", ".join(
                    f'cast("{name}" as decimal(38, 0)) as "{name}"' if kind == "HUGEINT" else f'"{name}"'
                    for name, kind in relation.columns
                )
                con.execute(
                    f"copy (select {select} from {relation.qualified}) to '{target / 'data.parquet'}' (format parquet)"
                )

    def pull(self, outputs: list[Relation]) -> None:
        for relation in outputs:
            folder = self.work_dir / "outputs" / f"{relation.schema}.{relation.name}"
            if not folder.is_dir():
                continue  # not built in this invocation (a subset run)
            reader = f"read_parquet('{folder}/*.parquet')"
            with connect(self.layout.warehouse, read_only=True) as con:
                types = {row[0]: row[1] for row in con.execute(f"describe select * from {reader}").fetchall()}
            load_into_warehouse(self.layout.warehouse, relation, types, reader)
