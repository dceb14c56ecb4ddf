"""The official Python databricks-sdk against the local workspace's REST API.

Run by crates/local-workspace/tests/it/python_sdk.rs, which starts the API (writes
allowed) and passes DATABRICKS_HOST, DATABRICKS_TOKEN and LOCAL_WAREHOUSE_ID. Every call
below must parse: what the SDK cannot parse is a bug in the local workspace.
"""

import io
import os
import sys
import time
from datetime import timedelta

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sql import Disposition, Format, StatementState
from databricks.sdk.service.workspace import ExportFormat, ObjectType

CHECKS = []


def check(name):
    def wrap(fn):
        CHECKS.append((name, fn))
        return fn

    return wrap


W = WorkspaceClient(
    host=os.environ["DATABRICKS_HOST"],
    token=os.environ["DATABRICKS_TOKEN"],
    auth_type="pat",
)
WAREHOUSE = os.environ["LOCAL_WAREHOUSE_ID"]


@check("statement_execution.execute_statement + result chunks")
def statements():
    r = W.statement_execution.execute_statement(
        statement="SELECT l_returnflag, count(*) AS n FROM samples.tpch.lineitem GROUP BY 1 ORDER BY 1",
        warehouse_id=WAREHOUSE,
        wait_timeout="30s",
    )
    assert r.status.state == StatementState.SUCCEEDED, r.status
    assert [c.name for c in r.manifest.schema.columns] == ["l_returnflag", "n"]
    assert [row[0] for row in r.result.data_array] == ["A", "N", "R"], r.result.data_array

    big = W.statement_execution.execute_statement(
        statement="SELECT l.*, r.r_name FROM samples.tpch.lineitem l CROSS JOIN samples.tpch.region r",
        warehouse_id=WAREHOUSE,
        wait_timeout="50s",
    )
    assert big.status.state == StatementState.SUCCEEDED, big.status
    chunks = big.manifest.total_chunk_count
    assert chunks > 1, chunks
    rows = len(big.result.data_array)
    for i in range(1, chunks):
        c = W.statement_execution.get_statement_result_chunk_n(big.statement_id, i)
        assert c.chunk_index == i
        rows += len(c.data_array)
    assert rows == big.manifest.total_row_count, (rows, big.manifest.total_row_count)

    ext = W.statement_execution.execute_statement(
        statement="SELECT * FROM samples.tpch.nation",
        warehouse_id=WAREHOUSE,
        wait_timeout="30s",
        disposition=Disposition.EXTERNAL_LINKS,
        format=Format.ARROW_STREAM,
    )
    assert ext.status.state == StatementState.SUCCEEDED, ext.status
    link = ext.result.external_links[0]
    assert link.external_link.startswith("http://127.0.0.1"), link.external_link

    pending = W.statement_execution.execute_statement(
        statement="SELECT count(*) FROM samples.tpch.orders", warehouse_id=WAREHOUSE, wait_timeout="0s"
    )
    for _ in range(200):
        got = W.statement_execution.get_statement(pending.statement_id)
        if got.status.state == StatementState.SUCCEEDED:
            break
        time.sleep(0.05)
    assert got.status.state == StatementState.SUCCEEDED

    failed = W.statement_execution.execute_statement(
        statement="SELECT * FROM samples.tpch.nope", warehouse_id=WAREHOUSE, wait_timeout="30s"
    )
    assert failed.status.state == StatementState.FAILED
    assert failed.status.error.message.startswith("[TABLE_OR_VIEW_NOT_FOUND]"), failed.status.error


@check("warehouses.list")
def warehouses():
    ws = list(W.warehouses.list())
    assert [w.id for w in ws] == [WAREHOUSE]
    assert W.warehouses.get(WAREHOUSE).state.value == "RUNNING"


@check("current_user.me")
def me():
    assert "@" in W.current_user.me().user_name


@check("catalogs/schemas/tables.list and tables.get")
def catalog():
    cats = [c.name for c in W.catalogs.list()]
    assert {"main", "samples", "system"} <= set(cats), cats
    schemas = [s.name for s in W.schemas.list(catalog_name="samples")]
    assert "tpch" in schemas, schemas
    tables = [t.name for t in W.tables.list(catalog_name="samples", schema_name="tpch", max_results=3)]
    assert len(tables) == 8, tables
    t = W.tables.get("samples.tpch.lineitem")
    assert t.data_source_format.value == "DELTA"
    assert t.table_type.value == "MANAGED"
    assert t.comment.startswith("TPC-H LINEITEM")
    assert t.columns[0].name == "l_orderkey" and t.columns[0].type_name.value == "LONG"
    assert t.columns[0].comment
    vols = [v.full_name for v in W.volumes.list(catalog_name="main", schema_name="default")]
    assert vols == ["main.default.files"], vols


@check("jobs.list, jobs.run_now then jobs.get_run_output")
def jobs():
    js = list(W.jobs.list())
    job = next(j for j in js if j.settings.name == "TPC-H revenue report")
    run = W.jobs.run_now(job_id=job.job_id).result(timeout=timedelta(minutes=5))
    assert run.state.result_state.value == "SUCCESS", run.state
    out = W.jobs.get_run_output(run.tasks[0].run_id)
    assert "l_returnflag" in out.logs, out
    nb = W.jobs.get_run_output(run.tasks[1].run_id)
    assert nb.notebook_output.result, nb
    runs = list(W.jobs.list_runs(job_id=job.job_id))
    assert runs[0].run_id == run.run_id


@check("workspace.import_ a notebook, jobs.create with a SQL task, run_now, get_run_output, repair_run")
def job_from_sdk():
    import base64

    from databricks.sdk.service import jobs as j
    from databricks.sdk.service.workspace import ImportFormat, Language

    W.workspace.mkdirs("/Users/sdk")
    notebook = "-- Databricks notebook source\nSELECT n_name FROM samples.tpch.nation ORDER BY n_nationkey LIMIT 3\n"
    W.workspace.import_(
        "/Users/sdk/nations",
        content=base64.b64encode(notebook.encode()).decode(),
        format=ImportFormat.SOURCE,
        language=Language.SQL,
        overwrite=True,
    )
    exported = W.workspace.export("/Users/sdk/nations", format=ExportFormat.SOURCE)
    assert base64.b64decode(exported.content) == notebook.encode(), exported
    query = "CREATE OR REPLACE TABLE main.default.sdk_regions AS SELECT r_name FROM samples.tpch.region;\nSELECT count(*) AS regions FROM main.default.sdk_regions"
    W.workspace.import_(
        "/Users/sdk/regions.sql",
        content=base64.b64encode(query.encode()).decode(),
        format=ImportFormat.AUTO,
        overwrite=True,
    )
    assert W.workspace.get_status("/Users/sdk/regions.sql").object_type == ObjectType.FILE

    created = W.jobs.create(
        name="sdk job",
        tasks=[
            j.Task(
                task_key="regions",
                sql_task=j.SqlTask(
                    warehouse_id=WAREHOUSE,
                    file=j.SqlTaskFile(path="/Users/sdk/regions.sql", source=j.Source.WORKSPACE),
                ),
            ),
            j.Task(
                task_key="nations",
                depends_on=[j.TaskDependency(task_key="regions")],
                notebook_task=j.NotebookTask(
                    notebook_path="/Users/sdk/nations", source=j.Source.WORKSPACE, warehouse_id=WAREHOUSE
                ),
            ),
        ],
    )
    assert W.jobs.get(created.job_id).settings.name == "sdk job"
    run = W.jobs.run_now(job_id=created.job_id).result(timeout=timedelta(minutes=5))
    assert run.state.result_state.value == "SUCCESS", run.state
    regions = W.jobs.get_run_output(run.tasks[0].run_id)
    assert "5" in regions.logs, regions
    assert regions.metadata.run_id == run.tasks[0].run_id
    nations = W.jobs.get_run_output(run.tasks[1].run_id)
    assert "ALGERIA" in nations.notebook_output.result, nations

    repaired = W.jobs.repair_run(run_id=run.run_id, rerun_tasks=["nations"]).result(timeout=timedelta(minutes=5))
    assert repaired.state.result_state.value == "SUCCESS", repaired.state
    assert [r.type.value for r in repaired.repair_history] == ["ORIGINAL", "REPAIR"], repaired.repair_history
    again = next(t for t in repaired.tasks if t.task_key == "nations")
    assert again.run_id != run.tasks[1].run_id and again.attempt_number == 1, again

    # What the job ran: its statements in the query history, its table's lineage.
    from databricks.sdk.service.sql import QueryFilter, QueryStatus

    history = W.query_history.list(filter_by=QueryFilter(statuses=[QueryStatus.FINISHED]), max_results=100)
    mine = [q for q in history.res if q.query_source and q.query_source.job_info and q.query_source.job_info.job_id == str(created.job_id)]
    assert len(mine) == 4, [q.query_text for q in mine]
    lineage = W.api_client.do(
        "GET",
        "/api/2.0/lineage-tracking/table-lineage",
        body={"table_name": "main.default.sdk_regions", "include_entity_lineage": True},
    )
    up = lineage["upstreams"][0]
    assert up["tableInfo"]["name"] == "region", lineage
    assert up["jobInfos"][0]["job_id"] == created.job_id, lineage


@check("clusters.list")
def clusters():
    cs = list(W.clusters.list())
    assert len(cs) == 1 and cs[0].state.value == "RUNNING", cs


@check("pipelines.list_pipelines")
def pipelines():
    ps = list(W.pipelines.list_pipelines())
    assert [p.name for p in ps] == ["tpch_summaries"], ps
    p = W.pipelines.get(ps[0].pipeline_id)
    assert p.spec.catalog == "main"


@check("workspace.list/export")
def workspace():
    objs = list(W.workspace.list("/Shared/samples"))
    nb = next(o for o in objs if o.path == "/Shared/samples/tpch_report")
    assert nb.object_type == ObjectType.NOTEBOOK and nb.language.value == "SQL"
    exported = W.workspace.export("/Shared/samples/tpch_report", format=ExportFormat.SOURCE)
    import base64

    assert base64.b64decode(exported.content).startswith(b"-- Databricks notebook source")
    status = W.workspace.get_status("/Shared/samples/queries/revenue_by_flag.sql")
    assert status.object_type == ObjectType.FILE


@check("files on a volume")
def files():
    path = "/Volumes/main/default/files/sdk/hello.txt"
    W.files.upload(path, io.BytesIO(b"hello from the sdk\n"), overwrite=True)
    assert W.files.download(path).contents.read() == b"hello from the sdk\n"
    meta = W.files.get_metadata(path)
    assert meta.content_length == 19, meta
    names = [e.name for e in W.files.list_directory_contents("/Volumes/main/default/files/sdk")]
    assert names == ["hello.txt"], names
    W.files.delete(path)


@check("vector_search_indexes.query_index")
def vector_search():
    r = W.vector_search_indexes.query_index(
        index_name="main.default.documents_index",
        columns=["id", "title"],
        query_text="which table lists the customers",
        num_results=3,
    )
    assert r.result.row_count == 3, r
    assert r.result.data_array[0][1] == "Customers", r.result.data_array
    idx = W.vector_search_indexes.get_index("main.default.documents_index")
    assert idx.status.ready


def main():
    failures = 0
    for name, fn in CHECKS:
        try:
            fn()
            print(f"ok   {name}")
        except Exception as e:  # noqa: BLE001 - report every failure, then fail
            failures += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
    print(f"{len(CHECKS) - failures}/{len(CHECKS)} checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
